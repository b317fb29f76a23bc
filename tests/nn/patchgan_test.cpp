// patchgan.hpp and the cell_storm generator: parameter counts by hand, output shapes, the
// receptive fields measured from the input gradient of one output pixel, and the discriminator's
// gradients against finite differences (double).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include <smlm/nn/nn.hpp>
#include <smlm/nn/patchgan.hpp>
#include <smlm/nn/unet.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;

static_assert(check_layer<PatchGan<float>>());
static_assert(check_layer<CellStorm>());
static_assert(check_layer<CellStormShuffle>());

namespace {

constexpr std::ptrdiff_t conv(std::ptrdiff_t in, std::ptrdiff_t out, std::ptrdiff_t k) { return in * out * k * k; }
constexpr std::ptrdiff_t bn(std::ptrdiff_t c) { return 2 * c; }

struct Extent {
  std::ptrdiff_t rows = 0, cols = 0, top = 0, left = 0;
};

/// The bounding box of the input pixels that one output pixel (row, col of channel 0, sample 0)
/// depends on: the non-zero entries of its input gradient, in inference mode (batch norm on its
/// running statistics, so the samples and pixels are not coupled by batch statistics).
template <class Net>
Extent receptive_extent(Net& net, Shape in, std::ptrdiff_t row, std::ptrdiff_t col) {
  Tensor<float> x = random_tensor<float>(in, 91, 1);
  Tensor<float> gx(in);
  Tape<float> tape;
  tape.set_mode(Mode::inference);
  const Var<float> y = net.forward(tape, tape.input(x.view(), gx.data()));
  Tensor<float> dy(y.shape());
  dy(0, 0, row, col) = 1;
  tape.backward(y, dy.view());
  std::ptrdiff_t r0 = in.h, r1 = -1, c0 = in.w, c1 = -1;
  for (std::ptrdiff_t c = 0; c < in.c; ++c)
    for (std::ptrdiff_t i = 0; i < in.h; ++i)
      for (std::ptrdiff_t j = 0; j < in.w; ++j)
        if (gx(0, c, i, j) != 0.0f) r0 = std::min(r0, i), r1 = std::max(r1, i), c0 = std::min(c0, j), c1 = std::max(c1, j);
  return {r1 - r0 + 1, c1 - c0 + 1, r0, c0};
}

}  // namespace

TEST_CASE("PatchGan: pix2pix's 70 × 70 discriminator with 32 first-layer filters") {
  PatchGan<float> d;
  d.init(1);
  // 4×4 convs: 2→32 (+bias), 32→64, 64→128, 128→256 (+ batch norm each), 256→1 (+bias).
  const std::ptrdiff_t expected = conv(2, 32, 4) + 32 + conv(32, 64, 4) + bn(64) + conv(64, 128, 4) + bn(128) +
                                  conv(128, 256, 4) + bn(256) + conv(256, 1, 4) + 1;
  CHECK(d.parameter_count() == expected);
  CHECK(expected == 694'177);
  Tensor<float> x = random_tensor<float>({2, 2, 64, 48}, 92, 1);
  Tape<float> tape;
  CHECK(d.forward(tape, tape.input(x.view())).shape() == Shape{2, 1, 8, 6});
  CHECK(PatchGan<float>::output_shape({2, 2, 64, 48}) == Shape{2, 1, 8, 6});
  CHECK_THROWS_AS(d.forward(tape, tape.input(Tensor<float>({1, 2, 60, 64}).view())), smlm::assertion_error);

  // The receptive field, measured: a logit in the middle of a 160 × 160 input depends on exactly
  // a 70 × 70 window of it, inside the frame (so not clipped by the border).
  PatchGan<float> small(2, 4);
  small.init(2);
  const Extent e = receptive_extent(small, {1, 2, 160, 160}, 10, 10);
  CHECK(e.rows == PatchGan<float>::receptive_field);
  CHECK(e.cols == PatchGan<float>::receptive_field);
  CHECK(e.top > 0);
  CHECK(e.top + e.rows < 160);
}

TEST_CASE("PatchGan: gradients match finite differences (double, training-mode batch norm)") {
  PatchGan<double> d(2, 2);
  d.init(3);
  std::vector<Tensor<double>> in{random_tensor({2, 2, 16, 16}, 93, 1)};
  SMLM_CHECK_REPORT(smlm::testing::gradcheck(in, [&](Tape<double>& t, const smlm::testing::Vars& v) { return d.forward(t, v[0]); }, 93));
}

TEST_CASE("cell_storm preset: parameter count, ×r output in (−1, 1), and what one output pixel sees") {
  CellStorm net(4);
  net.init(4);
  // Level 0: conv 1→32; down: stride-2 conv 32→32; level 1: conv 32→64, down 64→64; level 2:
  // conv 64→128, down 128→128; bottleneck conv 128→128; up (nearest + conv) 128→128, merge conv
  // 256→128; up 128→64, merge 128→64; up 64→32, merge 64→32 — each 3×3 without bias + batch
  // norm; head 1×1 32→1 with bias.
  const std::ptrdiff_t convs = conv(1, 32, 3) + conv(32, 32, 3) + conv(32, 64, 3) + conv(64, 64, 3) + conv(64, 128, 3) +
                               conv(128, 128, 3) + conv(128, 128, 3) + conv(128, 128, 3) + conv(256, 128, 3) +
                               conv(128, 64, 3) + conv(128, 64, 3) + conv(64, 32, 3) + conv(64, 32, 3);
  const std::ptrdiff_t norms = bn(32) * 4 + bn(64) * 4 + bn(128) * 5;
  CHECK(net.parameter_count() == convs + norms + 32 + 1);
  CHECK(CellStorm::size_multiple(4) == 2);  // 4·n divisible by 2³ needs n even
  Tensor<float> x = random_tensor<float>({2, 1, 8, 6}, 94, 1, 3.0);
  Tape<float> tape;
  const Var<float> y = net.forward(tape, tape.input(x.view()));
  CHECK(y.shape() == Shape{2, 1, 32, 24});
  CHECK(std::all_of(y.value.begin(), y.value.end(), [](float v) { return v > -1.0f && v < 1.0f; }));

  // One output pixel sees a window of the enlarged frame wider than a phone PSF (σ 1.2 camera
  // pixels = 4.8 enlarged ones: ± 3σ is 29 pixels) and narrower than the frame, measured in the
  // middle of a 128 × 128 input (69 × 69 in this build: unet.hpp quotes it).
  CellStorm probe(1);  // r = 1: the window in enlarged pixels directly
  probe.init(5);
  const Extent e = receptive_extent(probe, {1, 1, 128, 128}, 64, 64);
  MESSAGE("cell_storm receptive field: ", e.rows, " x ", e.cols, " enlarged pixels");
  CHECK(e.rows >= 29);
  CHECK(e.rows < 128);
  CHECK(e.rows == e.cols);
}

TEST_CASE("cell_storm_shuffle preset: cell_storm's layers at camera resolution and a ×r sub-pixel head") {
  for (const int r : {2, 4}) {
    CellStormShuffle net(r);
    net.init(6);
    const std::ptrdiff_t convs = conv(1, 32, 3) + conv(32, 32, 3) + conv(32, 64, 3) + conv(64, 64, 3) + conv(64, 128, 3) +
                                 conv(128, 128, 3) + conv(128, 128, 3) + conv(128, 128, 3) + conv(256, 128, 3) +
                                 conv(128, 64, 3) + conv(128, 64, 3) + conv(64, 32, 3) + conv(64, 32, 3);
    const std::ptrdiff_t norms = bn(32) * 4 + bn(64) * 4 + bn(128) * 5;
    CHECK(net.parameter_count() == convs + norms + conv(32, r * r, 3) + r * r);  // 3×3 head to r² channels + bias
    CHECK(CellStormShuffle::size_multiple(r) == 8);  // three stride-2 levels at camera resolution
    Tensor<float> x = random_tensor<float>({1, 1, 16, 8}, 95, 1, 3.0);
    Tape<float> tape;
    const Var<float> y = net.forward(tape, tape.input(x.view()));
    CHECK(y.shape() == Shape{1, 1, 16 * r, 8 * r});
    CHECK(std::all_of(y.value.begin(), y.value.end(), [](float v) { return v > -1.0f && v < 1.0f; }));
  }
}
