// network.hpp: every preset network with random weights and random batch-norm statistics gives on
// the OpenCL device (pocl in CI) what the CPU network gives, within 1e-4 of the output's largest
// magnitude, at odd sizes and in batches; whole odd-sized frames through deep::Reconstructor
// (tiles, batches, a last partial batch) likewise; bad inputs are Status errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <smlm/compute/network.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/nn/unet.hpp>

#include "compute_test_device.hpp"

using namespace smlm;
using namespace smlm::compute;

namespace {

constexpr std::uint64_t seed = 2026;

/// He-normal weights from init(seed), then γ, β and the running statistics drawn so that the
/// folding is exercised: γ in [0.9, 1.1), β and the running means in [−0.1, 0.1), the running
/// variances in [0.5, 1.5) (buffers are visited mean, variance per batch norm). Head biases in
/// [0.9, 1.1).
template <class Net>
void randomize(Net& net) {
  net.init(seed);
  Philox4x32 rng(seed, 1, rng_purpose::user);
  auto uniform = [&](double lo, double hi) { return float(lo + (hi - lo) * uniform01<double>(rng)); };
  net.for_each_parameter([&](nn::Parameter<float>& p) {
    const nn::Shape s = p.value.shape();
    if (s.n != 1 || s.h != 1 || s.w != 1) return;  // convolution weights keep their init
    // Per-channel vectors in visiting order: conv bias, or batch norm's γ then β.
    for (std::ptrdiff_t i = 0; i < p.value.size(); ++i) p.value[i] = uniform(-0.1, 0.1);
  });
  int index = 0;
  net.for_each_parameter([&](nn::Parameter<float>& p) {
    const nn::Shape s = p.value.shape();
    if (s.n == 1 && s.h == 1 && s.w == 1 && index++ % 2 == 0)
      for (std::ptrdiff_t i = 0; i < p.value.size(); ++i) p.value[i] += 1.0f;  // moves γ (and some biases) near 1
  });
  int buffer = 0;
  net.for_each_buffer([&](nn::Tensor<float>& b) {
    const bool variance = buffer++ % 2 == 1;
    for (std::ptrdiff_t i = 0; i < b.size(); ++i) b[i] = variance ? uniform(0.5, 1.5) : uniform(-0.1, 0.1);
  });
}

nn::Tensor<float> random_input(nn::Shape s, std::uint32_t stream) {
  nn::Tensor<float> x(s);
  Philox4x32 rng(seed, stream, rng_purpose::user);
  for (std::ptrdiff_t i = 0; i < x.size(); ++i) x[i] = float(2 * uniform01<double>(rng) - 1);
  return x;
}

template <class Net>
nn::Tensor<float> cpu_forward(Net& net, const nn::Tensor<float>& x) {
  nn::Tape<float> tape;
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  const nn::Var<float> y = net.forward(tape, tape.input(x.view()));
  nn::Tensor<float> out(y.shape());
  std::copy_n(y.data(), y.value.size(), out.data());
  return out;
}

/// Spread (max − min) of a CPU output: a network whose output is a constant (every activation
/// cut off by a ReLU) would compare only its bias.
double spread(const float* a, std::ptrdiff_t n) {
  const auto [lo, hi] = std::minmax_element(a, a + n);
  return double(*hi) - double(*lo);
}

/// max |a − b| / max |b|, with NaN/Inf anywhere reported as infinity.
double relative_error(const float* a, const float* b, std::ptrdiff_t n) {
  double diff = 0, scale = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

template <class Net>
void check_preset(const char* name, int r, nn::Shape in) {
  auto device = test::test_device();
  if (!device) return;
  Net net(r);
  randomize(net);
  auto gpu = Network<Net>::create(net, *device);
  REQUIRE_MESSAGE(gpu.has_value(), gpu.message());
  const nn::Tensor<float> x = random_input(in, 1);
  const nn::Tensor<float> expected = cpu_forward(net, x);
  nn::Tensor<float> y(gpu->output_shape(in));
  REQUIRE(y.shape() == expected.shape());
  const Status s = gpu->forward(x.view(), y.view());
  REQUIRE_MESSAGE(s.ok(), s.message());
  const double err = relative_error(y.data(), expected.data(), y.size());
  double scale = 0;
  for (std::ptrdiff_t i = 0; i < expected.size(); ++i) scale = std::max(scale, double(std::abs(expected[i])));
  const double range = spread(expected.data(), expected.size());
  MESSAGE(std::string(name), " r=", r, " input ", in.n, "x", in.h, "x", in.w, ": max |opencl - cpu| / max |cpu| = ",
          err, " (max |cpu| = ", scale, ", spread ", range, ")");
  CHECK(range > 0.05 * scale);
  CHECK(err <= 1e-4);
}

}  // namespace

TEST_CASE("deep_storm on OpenCL equals the CPU network: odd 37 x 29 frame enlarged x8, batch of 2") {
  check_preset<nn::DeepStorm>("deep_storm", 8, {2, 1, 37, 29});
}

TEST_CASE("sub_pixel on OpenCL equals the CPU network (skips, pixel-shuffle head)") {
  check_preset<nn::SubPixel>("sub_pixel", 8, {3, 1, 36, 20});
}

TEST_CASE("cell_storm on OpenCL equals the CPU network (strided convs, LeakyReLU, skips, tanh): odd 23 x 17 at x8") {
  check_preset<nn::CellStorm>("cell_storm", 8, {1, 1, 23, 17});
}

TEST_CASE("cell_storm_shuffle on OpenCL equals the CPU network") {
  check_preset<nn::CellStormShuffle>("cell_storm_shuffle", 4, {2, 1, 40, 24});
}

TEST_CASE("whole odd-sized frames through deep::Reconstructor: OpenCL equals CPU for every preset") {
  auto device = test::test_device();
  if (!device) return;
  // 37 x 29 frames (padded by the reconstructor), tiles of 16 pixels, batches of 3 tiles: several
  // tiles per frame, batches across frames and a last partial batch.
  const std::ptrdiff_t h = 37, w = 29;
  deep::ReconstructOptions ro;
  ro.tile_px = 16, ro.overlap_px = 4, ro.batch_tiles = 3;
  std::vector<Image<float>> frames;
  for (std::uint32_t f = 0; f < 2; ++f) {
    const nn::Tensor<float> x = random_input({1, 1, h, w}, 10 + f);
    Image<float> img(h, w);
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t xx = 0; xx < w; ++xx) img(y, xx) = 100.0f + 20.0f * x[y * w + xx];
    frames.push_back(img);
  }
  const nn::InputNormalization norm{};
  auto run_both = [&]<class Net>(const char* name, Net& net) {
    randomize(net);
    const int r = net.upsample();
    auto gpu = Network<Net>::create(net, *device);
    REQUIRE_MESSAGE(gpu.has_value(), gpu.message());
    deep::Reconstructor<Net> cpu_rec(net, norm, r, ro);
    deep::Reconstructor<Network<Net>> gpu_rec(*gpu, norm, r, ro);
    std::vector<Image<float>> a(frames.size(), Image<float>(h * r, w * r)), b = a;
    std::vector<ConstImageView<float>> in;
    std::vector<ImageView<float>> ma, mb;
    for (std::size_t f = 0; f < frames.size(); ++f) {
      in.push_back(const_view(frames[f]));
      ma.push_back(make_view(a[f]));
      mb.push_back(make_view(b[f]));
    }
    cpu_rec.run(in, ma);
    gpu_rec.run(in, mb);
    REQUIRE_MESSAGE(gpu->status().ok(), gpu->status().message());
    CHECK(gpu_rec.tiles() > 1);
    for (std::size_t f = 0; f < frames.size(); ++f) {
      const double err = relative_error(b[f].data(), a[f].data(), a[f].size());
      const double range = spread(a[f].data(), a[f].size());
      MESSAGE(std::string(name), " frame ", f, ": max |opencl - cpu| / max |cpu| = ", err, " (spread ", range, ")");
      CHECK(range > 1e-3);
      CHECK(err <= 1e-4);
    }
  };
  nn::DeepStorm ds(4);
  run_both("deep_storm", ds);
  nn::SubPixel sp(4);
  run_both("sub_pixel", sp);
  nn::CellStorm cs(2);
  run_both("cell_storm", cs);
  nn::CellStormShuffle css(4);
  run_both("cell_storm_shuffle", css);
}

TEST_CASE("bad inputs are errors, not crashes: channels, sizes, output shape, empty batch") {
  auto device = test::test_device();
  if (!device) return;
  nn::SubPixel net(2);
  randomize(net);
  auto gpu = Network<nn::SubPixel>::create(net, *device);
  REQUIRE_MESSAGE(gpu.has_value(), gpu.message());
  {
    nn::Tensor<float> x({1, 2, 8, 8}), y({1, 1, 16, 16});
    const Status s = gpu->forward(x.view(), y.view());
    CHECK(s.code() == errc::invalid_argument);
    CHECK(s.message() == "compute: the input has 2 channels, the network takes 1");
  }
  {
    nn::Tensor<float> x({1, 1, 37, 29}), y({1, 1, 74, 58});
    const Status s = gpu->forward(x.view(), y.view());
    CHECK(s.code() == errc::invalid_argument);
    CHECK(s.message().find("multiples of 4") != std::string::npos);
  }
  {
    nn::Tensor<float> x({1, 1, 8, 8}), y({1, 1, 8, 8});
    const Status s = gpu->forward(x.view(), y.view());
    CHECK(s.code() == errc::invalid_argument);
    CHECK(s.message().find("the network writes 1 x 1 x 16 x 16") != std::string::npos);
  }
  {
    nn::Tensor<float> x({0, 1, 8, 8}), y({0, 1, 16, 16});
    CHECK(gpu->forward(x.view(), y.view()).code() == errc::invalid_argument);
  }
  // After the errors the network still runs, and a smaller batch reuses the plan of a larger one.
  nn::Tensor<float> x = random_input({2, 1, 8, 12}, 3), y({2, 1, 16, 24});
  REQUIRE(gpu->forward(x.view(), y.view()).ok());
  const std::size_t planned = gpu->planned_bytes();
  nn::Tensor<float> x1({1, 1, 8, 12}), y1({1, 1, 16, 24});
  std::copy_n(x.data(), x1.size(), x1.data());
  REQUIRE(gpu->forward(x1.view(), y1.view()).ok());
  CHECK(gpu->planned_bytes() == planned);
  for (std::ptrdiff_t i = 0; i < y1.size(); ++i) REQUIRE(y1[i] == y[i]);
  // Through the tape interface a bad input leaves a zero output and the error in status().
  nn::Tape<float> tape;
  nn::Tensor<float> bad({1, 1, 6, 6}, 1.0f);
  const nn::Var<float> out = gpu->forward(tape, tape.input(bad.view()));
  CHECK(out.shape() == nn::Shape{1, 1, 12, 12});
  CHECK(gpu->status().code() == errc::invalid_argument);
  CHECK(std::all_of(out.data(), out.data() + out.value.size(), [](float v) { return v == 0.0f; }));
}
