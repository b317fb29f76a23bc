// A scale bar burned into an RGB rendering.
//
// The bar is length_px = round(length_nm / pixel_nm) pixels long and thickness_px rows high,
// drawn in `colour` with its right end margin_px from the right edge and its bottom margin_px
// above the bottom edge (the usual lower-right placement). A bar that does not fit is not drawn.
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/render/colormap.hpp>

namespace smlm::render {

struct ScaleBarOptions {
  double length_nm = 1000.0;
  std::ptrdiff_t thickness_px = 0;  ///< 0: max(2, height / 80)
  std::ptrdiff_t margin_px = 0;     ///< 0: max(2, height / 40)
  Rgb8 colour{255, 255, 255};
};

/// A round length for a bar about a fifth of `field_nm`: 1, 2 or 5 × 10^k nm.
inline double nice_scale_bar_nm(double field_nm) noexcept {
  if (!(field_nm > 0) || !std::isfinite(field_nm)) return 1.0;
  const double target = field_nm / 5.0;
  const double decade = std::pow(10.0, std::floor(std::log10(target)));
  for (const double step : {5.0, 2.0, 1.0})
    if (step * decade <= target) return step * decade;
  return decade;
}

/// Draws the bar; returns its length in pixels, or 0 when it does not fit (nothing drawn).
/// Precondition: pixel_nm > 0, options.length_nm > 0.
inline std::ptrdiff_t burn_scale_bar(RgbImage& image, double pixel_nm, const ScaleBarOptions& options) SMLM_NOEXCEPT {
  SMLM_ASSERT(std::isfinite(pixel_nm) && pixel_nm > 0, "render::burn_scale_bar: pixel_nm must be > 0");
  SMLM_ASSERT(std::isfinite(options.length_nm) && options.length_nm > 0, "render::burn_scale_bar: length must be > 0");
  const auto length = static_cast<std::ptrdiff_t>(std::lround(options.length_nm / pixel_nm));
  const std::ptrdiff_t thickness = options.thickness_px > 0 ? options.thickness_px : std::max<std::ptrdiff_t>(2, image.height / 80);
  const std::ptrdiff_t margin = options.margin_px > 0 ? options.margin_px : std::max<std::ptrdiff_t>(2, image.height / 40);
  if (length < 1 || length + margin > image.width || thickness + margin > image.height) return 0;
  const std::ptrdiff_t x1 = image.width - margin, y1 = image.height - margin;
  for (std::ptrdiff_t y = y1 - thickness; y < y1; ++y)
    for (std::ptrdiff_t x = x1 - length; x < x1; ++x) image.set(y, x, options.colour);
  return length;
}

}  // namespace smlm::render
