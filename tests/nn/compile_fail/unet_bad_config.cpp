// Must NOT compile: a U-Net with skips but no decoder conv to merge the concatenated channels.
// The diagnostic must say which field is wrong (registered in tests/CMakeLists.txt as a
// compile-fail test matching that sentence).
#include <smlm/nn/unet.hpp>

constexpr smlm::nn::UNetConfig bad{.depth = 2, .widths = {8, 16, 32}, .skips = true, .decoder_convs = 0};
smlm::nn::UNet<bad> net;
