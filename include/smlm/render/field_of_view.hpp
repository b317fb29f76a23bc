// The region of the sample a rendering covers, and its pixel grid.
//
// A rendering at pixel size p (nm) of the field [x_nm, x_nm + width_nm) × [y_nm, y_nm + height_nm)
// is an image of ceil(height_nm / p) rows and ceil(width_nm / p) columns, row-major (y, x) as
// every image in smlmkit; pixel (i, j) (row i, column j) covers
// [x_nm + j·p, x_nm + (j+1)·p) × [y_nm + i·p, y_nm + (i+1)·p), so a localization at (x, y) nm
// sits at the continuous pixel coordinate ((x − x_nm)/p, (y − y_nm)/p) and the centre of pixel
// (0, 0) is at 0.5 (DESIGN.md's convention).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/core/localization_table.hpp>

namespace smlm::render {

struct FieldOfView {
  double x_nm = 0;
  double y_nm = 0;
  double width_nm = 0;
  double height_nm = 0;

  bool valid() const noexcept {
    return std::isfinite(x_nm) && std::isfinite(y_nm) && std::isfinite(width_nm) && std::isfinite(height_nm) &&
           width_nm > 0 && height_nm > 0;
  }
};

/// Rows and columns of a rendering of `fov` at `pixel_nm`.
struct ImageSize {
  std::ptrdiff_t rows = 0;
  std::ptrdiff_t cols = 0;
};

/// ceil(extent / pixel) per axis, where an extent within 1e-9 pixel of a whole number of pixels
/// counts as that number (6400 nm at 10 nm is 640 pixels, not 641 after rounding).
/// Preconditions: fov.valid(), pixel_nm finite and > 0.
inline ImageSize image_size(const FieldOfView& fov, double pixel_nm) SMLM_NOEXCEPT {
  SMLM_ASSERT(fov.valid(), "render::image_size: the field of view needs finite origin and extent > 0");
  SMLM_ASSERT(std::isfinite(pixel_nm) && pixel_nm > 0, "render::image_size: pixel_nm must be finite and > 0");
  auto pixels = [&](double extent_nm) {
    return static_cast<std::ptrdiff_t>(std::max(1.0, std::ceil(extent_nm / pixel_nm - 1e-9)));
  };
  return {pixels(fov.height_nm), pixels(fov.width_nm)};
}

/// The smallest field on the `pixel_nm` grid, starting at the origin (or further left/up at a
/// negative coordinate), whose pixels hold every finite row of the table: camera coordinates
/// start at 0, so a table's field of view is that of the stack it came from, up to its largest
/// coordinate. An empty table gives one pixel.
inline FieldOfView bounding_field_of_view(const LocalizationTable& table, double pixel_nm) SMLM_NOEXCEPT {
  SMLM_ASSERT(std::isfinite(pixel_nm) && pixel_nm > 0, "render::bounding_field_of_view: pixel_nm must be > 0");
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const double x = table.x_nm[i], y = table.y_nm[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
  }
  x0 = std::floor(x0 / pixel_nm) * pixel_nm;
  y0 = std::floor(y0 / pixel_nm) * pixel_nm;
  return {x0, y0, (std::floor((x1 - x0) / pixel_nm) + 1) * pixel_nm, (std::floor((y1 - y0) / pixel_nm) + 1) * pixel_nm};
}

}  // namespace smlm::render
