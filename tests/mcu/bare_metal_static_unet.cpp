// The firmware's path (docs/embedded.md) built on the host the way the Cortex-M7 toolchain builds
// it — -fno-exceptions -fno-rtti, SMLM_NO_SIMD, SMLM_NO_THREADS, Eigen unvectorized — so that CI
// without the cross toolchain checks it too: none of the headers may pull in <thread>, <mutex> or
// <condition_variable>; WorkerPool is the serial pool; a StaticUNet runs on static storage only
// (weights, input, arena with guards after it, output) twice with identical, finite results, and
// a kernel given the serial pool equals the same kernel without a pool. Exits 0 when all hold.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>

#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/loc/peak_finder.hpp>
#include <smlm/nn/normalization.hpp>
#include <smlm/nn/static_unet.hpp>

#if !defined(SMLM_NO_EXCEPTIONS) || defined(__GXX_RTTI) || !defined(SMLM_NO_THREADS) || !defined(SMLM_NO_SIMD)
#error "build with -fno-exceptions -fno-rtti -DSMLM_NO_THREADS -DSMLM_NO_SIMD"
#endif
#if defined(_GLIBCXX_THREAD) || defined(_GLIBCXX_MUTEX) || defined(_GLIBCXX_CONDITION_VARIABLE)
#error "the bare-metal inference path included <thread>, <mutex> or <condition_variable>"
#endif

namespace nn = smlm::nn;

namespace {

constexpr nn::UNetConfig config{.depth = 2, .widths = {4, 8, 8}, .encoder_convs = 2, .decoder_convs = 1,
                                .resolution = nn::Resolution::shuffle_head};
using Net = nn::StaticUNet<config, 4, 16, 12>;
static_assert(Net::out_h == 64 && Net::out_w == 48);

constexpr std::size_t guard = 16;
alignas(64) float weights[Net::weight_count];
alignas(64) float input[Net::input_floats];
alignas(64) float arena[Net::arena_floats + guard];
alignas(64) float out[Net::output_floats], again[Net::output_floats];
smlm::loc::Peak peaks[256];

}  // namespace

int main() {
  int failures = 0;
  nn::WorkerPool pool(4);
  failures += pool.threads() != 1;

  smlm::Philox4x32 rng(20, 0, smlm::rng_purpose::user);
  for (float& w : weights) w = 0.4f * (smlm::uniform01<float>(rng) - 0.5f);
  for (float& x : input) x = smlm::uniform01<float>(rng);
  for (std::size_t i = 0; i < guard; ++i) arena[Net::arena_floats + i] = 7.0f;

  Net::forward(weights, input, arena, out);
  Net::forward(weights, input, arena, again);
  for (std::size_t i = 0; i < Net::output_floats; ++i) failures += !std::isfinite(out[i]) || out[i] != again[i];
  for (std::size_t i = 0; i < guard; ++i) failures += arena[Net::arena_floats + i] != 7.0f;

  // A pool-taking kernel on the serial pool equals the same kernel without one.
  const nn::Shape s{1, 4, 16, 12};  // up-sampled ×2: exactly the output buffer
  nn::upsample_nearest_forward(s, 2, arena, out);
  for (std::size_t i = 0; i < Net::output_floats; ++i) again[i] = 0;
  pool.run(s.c, [&](std::ptrdiff_t c, int worker) {
    failures += worker != 0;
    nn::upsample_nearest_forward(nn::Shape{1, 1, 16, 12}, 2, arena + c * s.plane(), again + c * 4 * s.plane());
  });
  for (std::ptrdiff_t i = 0; i < 4 * s.size(); ++i) failures += out[i] != again[i];

  // Peak finding on the output, as the firmware does.
  Net::forward(weights, input, arena, out);
  const auto found = smlm::loc::find_peaks(smlm::make_view(static_cast<const float*>(out), Net::out_h, Net::out_w),
                                           smlm::loc::PeakFinderOptions{}, std::span(peaks));
  failures += found.count == 0;

  if (failures) std::fprintf(stderr, "bare_metal_static_unet: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
