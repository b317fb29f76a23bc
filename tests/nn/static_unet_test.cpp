// static_unet.hpp: the compile-time planned inference equals UNet's own inference (tape, fast
// kernels, batch norm folded on the fly) on random weights and non-trivial batch-norm statistics,
// for every resolution mode, with and without skips, for chains of 1 to 3 convolutions and for
// the sub_pixel preset at the firmware's size; the planned arena is exactly what forward() uses
// (guards after it stay untouched, NaN-filled memory never reaches the output).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <smlm/nn/static_unet.hpp>

#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;
using smlm::testing::uniform_tensor;

namespace {

constexpr UNetConfig small_sub_pixel{.depth = 2, .widths = {4, 8, 8}, .encoder_convs = 2, .decoder_convs = 1,
                                     .resolution = Resolution::shuffle_head};
constexpr UNetConfig no_skips_upsampled{.depth = 3, .widths = {3, 5, 6, 4}, .skips = false, .norm = Norm::none,
                                        .encoder_act = Activation::leaky_relu, .decoder_convs = 0,
                                        .output_act = Activation::sigmoid, .resolution = Resolution::input_upsample};
constexpr UNetConfig same_three_convs{.depth = 1, .widths = {6, 7}, .encoder_convs = 3, .decoder_convs = 2,
                                      .output_act = Activation::tanh, .in_channels = 2, .out_channels = 2,
                                      .kernel = 5};

/// UNet<C>(R) with random weights, biases, γ, β and running statistics.
template <UNetConfig C>
UNet<C> random_net(int r, std::uint64_t seed) {
  UNet<C> net(r);
  net.init(seed);
  std::uint32_t stream = 100;
  net.for_each_parameter([&](Parameter<float>& p) {
    if (p.shape().h == 1 && p.shape().w == 1) p.value = uniform_tensor<float>(p.shape(), seed, stream++, 0.5, 1.5);
  });
  int k = 0;
  net.for_each_buffer([&](Tensor<float>& b) {  // running mean, running variance, in turn
    b = (k++ % 2 == 0) ? random_tensor<float>(b.shape(), seed, stream++, 0.2) : uniform_tensor<float>(b.shape(), seed, stream++, 0.5, 2.0);
  });
  return net;
}

/// Largest int8 output error relative to max |output| (measured: see the test's messages).
constexpr double int8_tolerance = 0.05;

template <UNetConfig C, int R, std::ptrdiff_t H, std::ptrdiff_t W>
void check_matches_unet(std::uint64_t seed) {
  using Static = StaticUNet<C, R, H, W>;
  UNet<C> net = random_net<C>(R, seed);
  const Tensor<float> x = random_tensor<float>({1, C.in_channels, H, W}, seed, 1);
  Tape<float> tape;
  tape.set_mode(Mode::inference);
  tape.set_recording(false);
  const Var<float> y = net.forward(tape, tape.input(x.view()));
  REQUIRE(y.shape() == Shape{1, C.out_channels, Static::out_h, Static::out_w});

  std::vector<float> weights(fold_weights(net, nullptr));
  REQUIRE(weights.size() == Static::weight_count);
  CHECK(fold_weights(net, weights.data()) == Static::weight_count);

  // The planned arena, NaN-filled, followed by guards.
  constexpr std::size_t guard = 64;
  std::vector<float> arena(Static::arena_floats + guard, std::numeric_limits<float>::quiet_NaN());
  std::fill(arena.end() - guard, arena.end(), 12345.0f);
  std::vector<float> out(Static::output_floats);
  Static::forward(weights.data(), x.data(), arena.data(), out.data());
  CHECK(std::all_of(arena.end() - guard, arena.end(), [](float v) { return v == 12345.0f; }));

  double scale = 0, err = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    REQUIRE(std::isfinite(out[i]));
    scale = std::max(scale, std::abs(double(y.data()[i])));
    err = std::max(err, std::abs(double(out[i]) - double(y.data()[i])));
  }
  INFO("seed " << seed << ": max |static - unet| = " << err << ", max |unet| = " << scale);
  CHECK(scale > 0);
  CHECK(err <= 1e-4 * (1 + scale));

  // int8 weights with per-channel scales: the same network within the quantization error.
  std::vector<std::int8_t> q;
  std::vector<float> scales, biases;
  quantize_weights_int8(net, q, scales, biases);
  REQUIRE(q.size() == Static::int8_count);
  REQUIRE(scales.size() == Static::channel_count);
  REQUIRE(biases.size() == Static::channel_count);
  std::vector<float> arena8(Static::arena_floats_int8 + guard, std::numeric_limits<float>::quiet_NaN());
  std::fill(arena8.end() - guard, arena8.end(), 12345.0f);
  std::vector<float> out8(Static::output_floats);
  Static::forward_int8(q.data(), scales.data(), biases.data(), x.data(), arena8.data(), out8.data());
  CHECK(std::all_of(arena8.end() - guard, arena8.end(), [](float v) { return v == 12345.0f; }));
  double err8 = 0;
  for (std::size_t i = 0; i < out8.size(); ++i) {
    REQUIRE(std::isfinite(out8[i]));
    err8 = std::max(err8, std::abs(double(out8[i]) - double(y.data()[i])));
  }
  MESSAGE("seed " << seed << ": int8 max |error| / max |unet| = " << err8 / scale);
  CHECK(err8 > 0);
  CHECK(err8 <= int8_tolerance * scale);
}

}  // namespace

// The plan is a constant expression (a firmware sizes its static arena with it).
static_assert(StaticUNet<unet_presets::sub_pixel, 8, 32, 32>::arena_floats > 0);
static_assert(StaticUNet<unet_presets::sub_pixel, 8, 32, 32>::output_floats == 256 * 256);

TEST_CASE("StaticUNet equals UNet inference: sub-pixel head, skips, two encoder convs, non-square input") {
  check_matches_unet<small_sub_pixel, 4, 8, 12>(11);
  check_matches_unet<small_sub_pixel, 3, 4, 4>(12);
}

TEST_CASE("StaticUNet equals UNet inference: input up-sampling, no skips, no decoder convs, no norm, leaky ReLU") {
  check_matches_unet<no_skips_upsampled, 2, 4, 8>(21);
}

TEST_CASE("StaticUNet equals UNet inference: same resolution, 3 encoder convs, 2 channels in and out, 5x5") {
  check_matches_unet<same_three_convs, 1, 6, 10>(31);
}

TEST_CASE("StaticUNet of the sub_pixel preset at 32x32, x8: weights, arena and output") {
  using Net = StaticUNet<unet_presets::sub_pixel, 8, 32, 32>;
  SubPixel net(8);
  // Every convolution's weights and one bias per output channel; the batch norms fold away.
  std::ptrdiff_t expected = 0;
  net.for_each_parameter([&](Parameter<float>& p) {
    if (p.shape().h > 1) expected += p.value.size() + p.shape().n;  // 3×3 weights, not γ, β or the head bias
  });
  CHECK(Net::weight_count == static_cast<std::size_t>(expected));
  // Planned peak: level 0's merge (64 × 32²), the level-1 merge (128 × 16²), the level-2 output
  // and temporaries, ... bounded by the head (64 × 32²) plus level 0's output (32 × 32²) and
  // merge; it must stay well inside the board's 4 MiB.
  CHECK(Net::arena_bytes < 1u << 20);
  check_matches_unet<unet_presets::sub_pixel, 8, 32, 32>(41);
}
