// unet.hpp: the compile-time U-Net family and its presets — parameter counts worked out by hand
// from the papers' layer lists, output shapes, every configuration axis instantiated, the input
// gradient of whole networks against finite differences (double), and buffers visited.
#include <doctest/doctest.h>

#include <smlm/nn/nn.hpp>
#include <smlm/nn/unet.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;

static_assert(check_layer<DeepStorm>());
static_assert(check_layer<SubPixel>());

namespace {

/// Parameters of a k×k conv without bias and of a batch norm (γ, β).
constexpr std::ptrdiff_t conv(std::ptrdiff_t in, std::ptrdiff_t out, std::ptrdiff_t k) { return in * out * k * k; }
constexpr std::ptrdiff_t bn(std::ptrdiff_t c) { return 2 * c; }

template <class Net>
Shape run_shape(Net& net, Shape in, Mode mode = Mode::training) {
  Tensor<float> x(in, 0.25f);
  Tape<float> tape;
  tape.set_mode(mode);
  return net.forward(tape, tape.input(x.view())).shape();
}

}  // namespace

TEST_CASE("deep_storm preset: Nehme et al.'s layer list, ~1.37 M parameters, ×8 output") {
  DeepStorm net(8);
  net.init(1);
  // Encoder 1→32→64→128→512 (3×3, no bias) + batch norm; decoder 512→128→64→32; 1×1 head with bias.
  const std::ptrdiff_t expected = conv(1, 32, 3) + conv(32, 64, 3) + conv(64, 128, 3) + conv(128, 512, 3) +
                                  conv(512, 128, 3) + conv(128, 64, 3) + conv(64, 32, 3) +
                                  bn(32) + bn(64) + bn(128) + bn(512) + bn(128) + bn(64) + bn(32) + 32 + 1;
  CHECK(net.parameter_count() == expected);
  CHECK(expected == 1'366'209);
  CHECK(net.buffer_count() == bn(32) + bn(64) + bn(128) + bn(512) + bn(128) + bn(64) + bn(32));  // running mean + var
  CHECK(DeepStorm::size_multiple(8) == 1);  // 8·n is divisible by 2³ for every n
  CHECK(DeepStorm::size_multiple(2) == 4);
  CHECK(run_shape(net, {2, 1, 16, 8}) == Shape{2, 1, 128, 64});
}

TEST_CASE("sub_pixel preset: parameter count and a ×r pixel-shuffle output") {
  for (const int r : {4, 8}) {
    SubPixel net(r);
    const std::ptrdiff_t encoder = conv(1, 32, 3) + conv(32, 32, 3) + conv(32, 64, 3) + conv(64, 64, 3) +
                                   conv(64, 128, 3) + conv(128, 128, 3);
    const std::ptrdiff_t decoder = conv(128, 64, 3) + conv(128, 64, 3) + conv(64, 32, 3) + conv(64, 32, 3);
    const std::ptrdiff_t norms = bn(32) * 2 + bn(64) * 2 + bn(128) * 2 + bn(64) * 2 + bn(32) * 2;
    const std::ptrdiff_t head = conv(32, r * r, 3) + r * r;
    CHECK(net.parameter_count() == encoder + decoder + norms + head);
    CHECK(SubPixel::size_multiple(r) == 4);
    CHECK(run_shape(net, {1, 1, 12, 8}) == Shape{1, 1, 12 * r, 8 * r});
    CHECK(net.output_shape({3, 1, 12, 8}) == Shape{3, 1, 12 * r, 8 * r});
  }
}

namespace {
constexpr UNetConfig pix2pix_like{.depth = 2,
                                  .widths = {4, 6, 8},
                                  .skips = true,
                                  .down = Downsample::strided_conv,
                                  .up = Upsample::transposed_conv,
                                  .norm = Norm::instance,
                                  .encoder_act = Activation::leaky_relu,
                                  .decoder_act = Activation::relu,
                                  .encoder_convs = 1,
                                  .decoder_convs = 1,
                                  .dropout = 0.5f,
                                  .output_act = Activation::tanh,
                                  .in_channels = 2,
                                  .out_channels = 3};
constexpr UNetConfig shuffle_up{.depth = 1,
                                .widths = {3, 5},
                                .skips = false,
                                .up = Upsample::pixel_shuffle,
                                .norm = Norm::none,
                                .decoder_convs = 0,
                                .output_act = Activation::sigmoid};
}  // namespace

TEST_CASE("every configuration axis builds: strided conv, transposed conv, pixel shuffle, instance norm, none, dropout") {
  UNet<pix2pix_like> a;
  a.init(3);
  // level 0: conv 2→4 + IN; down: stride-2 conv 4→4 + IN; level 1: conv 4→6 + IN; down 6→6 + IN;
  // bottleneck conv 6→8 + IN; up: transposed 2×2 8→6 + IN; decoder conv 12→6 + IN; up 6→4 + IN;
  // decoder conv 8→4 + IN; head 1×1 4→3 + bias.
  const std::ptrdiff_t in_affine = 2;
  const std::ptrdiff_t expected = conv(2, 4, 3) + in_affine * 4 + conv(4, 4, 3) + in_affine * 4 + conv(4, 6, 3) +
                                  in_affine * 6 + conv(6, 6, 3) + in_affine * 6 + conv(6, 8, 3) + in_affine * 8 +
                                  conv(8, 6, 2) + in_affine * 6 + conv(12, 6, 3) + in_affine * 6 + conv(6, 4, 2) +
                                  in_affine * 4 + conv(8, 4, 3) + in_affine * 4 + 4 * 3 + 3;
  CHECK(a.parameter_count() == expected);
  CHECK(a.buffer_count() == 0);  // instance norm keeps no running statistics
  CHECK(run_shape(a, {2, 2, 8, 12}) == Shape{2, 3, 8, 12});
  Tensor<float> x = random_tensor<float>({1, 2, 8, 8}, 5, 1);
  Tape<float> tape;
  const auto y = a.forward(tape, tape.input(x.view()));
  for (std::ptrdiff_t i = 0; i < y.value.size(); ++i) {
    CHECK(y.value[i] > -1.0f);  // tanh output
    CHECK(y.value[i] < 1.0f);
  }

  UNet<shuffle_up> b;
  // conv 1→3 (+bias, no norm), down pool, bottleneck conv 3→5 (+bias), up: conv 5→4·3 (+bias) + shuffle, head 3→1.
  CHECK(b.parameter_count() == conv(1, 3, 3) + 3 + conv(3, 5, 3) + 5 + conv(5, 12, 3) + 12 + 3 + 1);
  CHECK(run_shape(b, {1, 1, 6, 4}) == Shape{1, 1, 6, 4});
}

TEST_CASE("dropout acts in training only and its masks follow the seed") {
  UNet<pix2pix_like> a, b;
  a.init(11);
  b.init(11);
  Tensor<float> x = random_tensor<float>({1, 2, 8, 8}, 6, 1);
  Tape<float> ta, tb;
  const auto ya = a.forward(ta, ta.input(x.view()));
  const auto yb = b.forward(tb, tb.input(x.view()));
  for (std::ptrdiff_t i = 0; i < ya.value.size(); ++i) REQUIRE(ya.value[i] == yb.value[i]);
  ta.reset();
  const auto ya2 = a.forward(ta, ta.input(x.view()));  // the next step draws a new mask
  bool differs = false;
  for (std::ptrdiff_t i = 0; i < ya2.value.size(); ++i) differs |= ya2.value[i] != yb.value[i];
  CHECK(differs);
  ta.reset();
  ta.set_mode(Mode::inference);
  const auto i1 = a.forward(ta, ta.input(x.view()));
  std::vector<float> first(i1.value.begin(), i1.value.end());
  ta.reset();
  const auto i2 = a.forward(ta, ta.input(x.view()));
  for (std::ptrdiff_t i = 0; i < i2.value.size(); ++i) CHECK(i2.value[i] == first[static_cast<std::size_t>(i)]);
}

TEST_CASE("whole networks: input gradients match finite differences (double)") {
  SUBCASE("skips, strided conv, transposed conv, instance norm, LeakyReLU, tanh") {
    constexpr UNetConfig c{.depth = 2, .widths = {3, 4, 5}, .skips = true, .down = Downsample::strided_conv,
                           .up = Upsample::transposed_conv, .norm = Norm::instance, .encoder_act = Activation::leaky_relu,
                           .output_act = Activation::tanh};
    UNet<c, double> net;
    net.init(21);
    std::vector<Tensor<double>> in{random_tensor({2, 1, 8, 8}, 21, 1)};
    SMLM_CHECK_REPORT(smlm::testing::gradcheck(in, [&](Tape<double>& t, const smlm::testing::Vars& v) { return net.forward(t, v[0]); }, 21));
  }
  SUBCASE("batch norm in training, max pooling, resize-conv, sub-pixel head") {
    constexpr UNetConfig c{.depth = 1, .widths = {3, 4}, .skips = true, .encoder_convs = 2,
                           .resolution = Resolution::shuffle_head};
    UNet<c, double> net(2);
    net.init(22);
    std::vector<Tensor<double>> in{random_tensor({2, 1, 6, 6}, 22, 1)};
    SMLM_CHECK_REPORT(smlm::testing::gradcheck(in, [&](Tape<double>& t, const smlm::testing::Vars& v) { return net.forward(t, v[0]); }, 22));
  }
  SUBCASE("no normalization, pixel-shuffle up-sampling, input up-sampling") {
    constexpr UNetConfig c{.depth = 1, .widths = {2, 3}, .skips = false, .up = Upsample::pixel_shuffle,
                           .norm = Norm::none, .decoder_convs = 1, .resolution = Resolution::input_upsample};
    UNet<c, double> net(2);
    net.init(23);
    std::vector<Tensor<double>> in{random_tensor({1, 1, 3, 4}, 23, 1)};
    SMLM_CHECK_REPORT(smlm::testing::gradcheck(in, [&](Tape<double>& t, const smlm::testing::Vars& v) { return net.forward(t, v[0]); }, 23));
  }
}

TEST_CASE("batch-norm running statistics are the network's buffers, in a fixed order") {
  SubPixel net(4);
  net.init(5);
  std::vector<Tensor<float>*> first, second;
  net.for_each_buffer([&](Tensor<float>& b) { first.push_back(&b); });
  net.for_each_buffer([&](Tensor<float>& b) { second.push_back(&b); });
  CHECK(first == second);
  CHECK(first.size() == 2 * 10);  // mean and variance of 10 batch norms
  // A training step moves them.
  Tensor<float> x = random_tensor<float>({2, 1, 8, 8}, 5, 2);
  Tape<float> tape;
  net.forward(tape, tape.input(x.view()));
  bool moved = false;
  for (auto* b : first)
    for (float v : *b) moved |= v != 0.0f && v != 1.0f;
  CHECK(moved);
}

TEST_CASE("seeded initialisation: same seed same weights, another seed other weights") {
  SubPixel a(4), b(4), c(4);
  a.init(7);
  b.init(7);
  c.init(8);
  std::vector<float> wa, wb, wc;
  a.for_each_parameter([&](Parameter<float>& p) { wa.insert(wa.end(), p.value.begin(), p.value.end()); });
  b.for_each_parameter([&](Parameter<float>& p) { wb.insert(wb.end(), p.value.begin(), p.value.end()); });
  c.for_each_parameter([&](Parameter<float>& p) { wc.insert(wc.end(), p.value.begin(), p.value.end()); });
  CHECK(wa == wb);
  CHECK(wa != wc);
}
