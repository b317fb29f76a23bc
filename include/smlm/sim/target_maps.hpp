// Ground-truth maps on a fine grid: what a localization network is trained to output.
//
// The fine grid is `upsample` (r) times finer than the camera's: fine pixel (i, j) covers
// [j/r, (j+1)/r) × [i/r, (i+1)/r) in camera pixels, its centre is at ((j + ½)/r, (i + ½)/r).
// An emitter at camera coordinates (x, y) sits at fine coordinates (r·x, r·y).
//
//  spikes    Deep-STORM's target (Nehme et al., Optica 5 (2018) 458): each emitter adds
//            `spike_value` to the fine pixel that contains it, (⌊r·y⌋, ⌊r·x⌋). The loss compares
//            the network output and this map after both are blurred by a small Gaussian
//            (nn::deep_storm_loss takes the blurred map), so the network is free to put a compact
//            blob where the spike is.
//  distance  Yee et al.'s distance-transform target: with d the distance (fine pixels) from a
//            fine pixel's centre to the nearest emitter, f(d) = exp(α·(1 − d/d_max)) − 1 for
//            d < d_max and 0 beyond: a peak of height e^α − 1 on each emitter that falls to 0 at
//            d_max, so close emitters keep separate maxima. α and d_max are parameters
//            (defaults 3 and 2 fine pixels, our choice).
// Emitters outside the grid contribute nothing to spikes; to distance maps they contribute
// within d_max of the border (their peak is outside, the tail is real).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/core/config.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>

namespace smlm::sim {

enum class TargetKind : std::uint8_t { spikes, distance };

struct TargetOptions {
  TargetKind kind = TargetKind::spikes;
  double spike_value = 1;   ///< spikes: added per emitter
  double alpha = 3;         ///< distance: peak height e^α − 1
  double d_max_px = 2;      ///< distance: support radius, fine pixels (> 0)

  bool valid() const noexcept {
    return std::isfinite(spike_value) && std::isfinite(alpha) && alpha > 0 && d_max_px > 0 && std::isfinite(d_max_px);
  }
};

inline const char* to_string(TargetKind k) noexcept { return k == TargetKind::spikes ? "spikes" : "distance"; }

/// Renders the target map of `emitters` (camera pixel coordinates) into `map` (the fine grid,
/// overwritten). Does not allocate.
template <class T, class E>
void render_target(std::span<const Emitter<E>> emitters, int upsample, const TargetOptions& options,
                   ImageView<T> map) SMLM_NOEXCEPT {
  SMLM_ASSERT(upsample >= 1 && options.valid(), "sim::render_target: upsample >= 1 and valid TargetOptions");
  map.setZero();
  const double r = upsample;
  const std::ptrdiff_t rows = map.rows(), cols = map.cols();
  if (options.kind == TargetKind::spikes) {
    for (const auto& e : emitters) {
      const double fx = std::floor(r * double(e.x_px)), fy = std::floor(r * double(e.y_px));
      if (!(fx >= 0 && fy >= 0 && fx < double(cols) && fy < double(rows))) continue;
      map(static_cast<std::ptrdiff_t>(fy), static_cast<std::ptrdiff_t>(fx)) += T(options.spike_value);
    }
    return;
  }
  // Distance map: each emitter writes max(f) into the pixels of its support disc; f decreases in
  // d, so the maximum over emitters is f of the distance to the nearest one.
  const double dmax = options.d_max_px;
  for (const auto& e : emitters) {
    const double cx = r * double(e.x_px), cy = r * double(e.y_px);
    if (!std::isfinite(cx) || !std::isfinite(cy)) continue;
    const auto i0 = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(std::floor(cy - dmax)));
    const auto i1 = std::min<std::ptrdiff_t>(rows - 1, static_cast<std::ptrdiff_t>(std::ceil(cy + dmax)));
    const auto j0 = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(std::floor(cx - dmax)));
    const auto j1 = std::min<std::ptrdiff_t>(cols - 1, static_cast<std::ptrdiff_t>(std::ceil(cx + dmax)));
    for (std::ptrdiff_t i = i0; i <= i1; ++i)
      for (std::ptrdiff_t j = j0; j <= j1; ++j) {
        const double d = std::hypot(double(j) + 0.5 - cx, double(i) + 0.5 - cy);
        if (d >= dmax) continue;
        const T v = T(std::expm1(options.alpha * (1 - d / dmax)));
        if (v > map(i, j)) map(i, j) = v;
      }
  }
}

}  // namespace smlm::sim
