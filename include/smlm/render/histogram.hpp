// Histogram rendering: each localization adds 1 to the pixel that contains it.
//
// The image holds localizations per pixel; its sum is the number of finite rows inside the field
// of view (rows outside it, or with non-finite coordinates, are left out and counted).
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/render/field_of_view.hpp>

namespace smlm::render {

/// Adds the histogram of `table` over `fov` at `pixel_nm` into `image` (which must have
/// image_size(fov, pixel_nm)); returns the number of rows rendered. Never allocates.
template <class T>
std::size_t add_histogram(const LocalizationTable& table, const FieldOfView& fov, double pixel_nm,
                          ImageView<T> image) SMLM_NOEXCEPT {
  const ImageSize size = image_size(fov, pixel_nm);
  SMLM_ASSERT(image.rows() == size.rows && image.cols() == size.cols,
              "render::add_histogram: image size differs from image_size(fov, pixel_nm)");
  const double inverse_pixel = 1.0 / pixel_nm;
  std::size_t rendered = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const double px = std::floor((table.x_nm[i] - fov.x_nm) * inverse_pixel);
    const double py = std::floor((table.y_nm[i] - fov.y_nm) * inverse_pixel);
    if (!(px >= 0 && px < static_cast<double>(size.cols) && py >= 0 && py < static_cast<double>(size.rows))) continue;
    image(static_cast<std::ptrdiff_t>(py), static_cast<std::ptrdiff_t>(px)) += T(1);
    ++rendered;
  }
  return rendered;
}

/// The histogram as a new float image of image_size(fov, pixel_nm).
inline Image<float> render_histogram(const LocalizationTable& table, const FieldOfView& fov, double pixel_nm) {
  const ImageSize size = image_size(fov, pixel_nm);
  Image<float> image = Image<float>::Zero(size.rows, size.cols);
  add_histogram(table, fov, pixel_nm, make_view(image));
  return image;
}

}  // namespace smlm::render
