// Gaussian rendering: each localization adds a unit-mass 2D Gaussian, integrated over pixels.
//
// Localization i contributes to pixel (r, c) the mass
//     w_x(c) · w_y(r),  w_x(c) = [Φ((c + 1 − u)/s) − Φ((c − u)/s)] / Z_x
// where u is its continuous pixel coordinate (field_of_view.hpp), s its sigma in pixels, Φ the
// standard normal CDF and Z_x the sum of the numerator over the window of columns
// floor(u − k s) … floor(u + k s) (k = window_sigmas), likewise for y. The normalisation makes
// each localization's mass exactly 1 (up to rounding) before clipping at the image border, so
// the image's sum is the number of localizations minus the mass that falls outside the field.
// Pixel integration (rather than sampling the density at pixel centres) keeps that true for any
// sigma, even far below a pixel. This is the rendering ThunderSTORM calls "normalized Gaussian".
//
// Sigma per localization: the fixed sigma_nm, or, with sigma_from_uncertainty, that row's
// uncertainty_xy_nm (its localization precision, as SMLM renderings use it), falling back to
// sigma_nm when the value is not finite and > 0; then at least min_sigma_nm.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/render/field_of_view.hpp>

namespace smlm::render {

struct GaussianRenderOptions {
  double sigma_nm = 10.0;               ///< fixed sigma, and the fallback; > 0
  bool sigma_from_uncertainty = false;  ///< use uncertainty_xy_nm per row (the column must exist)
  double min_sigma_nm = 0.0;            ///< lower bound on any sigma
  double window_sigmas = 4.0;           ///< half-width of the window, in sigmas; > 0
};

namespace detail {

inline double normal_cdf(double t) noexcept { return 0.5 * std::erfc(-t * 0.70710678118654752440); }

/// Pixel-integrated weights of N(u, s²) on pixels first … last − 1 (the visible part of the
/// window), normalised by the mass of the whole window [window_first, window_last + 1).
inline void integrated_weights(double u, double s, double window_first, double window_last, std::ptrdiff_t first,
                               std::ptrdiff_t last, double* w) noexcept {
  const double total = normal_cdf((window_last + 1 - u) / s) - normal_cdf((window_first - u) / s);
  const double scale = total > 0 ? 1.0 / total : 0.0;
  double previous = normal_cdf((static_cast<double>(first) - u) / s);
  for (std::ptrdiff_t k = first; k < last; ++k) {
    const double next = normal_cdf((static_cast<double>(k + 1) - u) / s);
    w[k - first] = (next - previous) * scale;
    previous = next;
  }
}

}  // namespace detail

/// Adds the Gaussian rendering of `table` into `image` (of image_size(fov, pixel_nm)); returns
/// the number of rows that touched the image. Allocates two scratch rows per call (at most one image
/// row and column long). Preconditions (SMLM_ASSERT): options as documented, the uncertainty column
/// present when sigma_from_uncertainty.
template <class T>
std::size_t add_gaussian(const LocalizationTable& table, const FieldOfView& fov, double pixel_nm,
                         const GaussianRenderOptions& options, ImageView<T> image) {
  const ImageSize size = image_size(fov, pixel_nm);
  SMLM_ASSERT(image.rows() == size.rows && image.cols() == size.cols,
              "render::add_gaussian: image size differs from image_size(fov, pixel_nm)");
  SMLM_ASSERT(std::isfinite(options.sigma_nm) && options.sigma_nm > 0, "render::add_gaussian: sigma_nm must be > 0");
  SMLM_ASSERT(std::isfinite(options.window_sigmas) && options.window_sigmas > 0,
              "render::add_gaussian: window_sigmas must be > 0");
  SMLM_ASSERT(!options.sigma_from_uncertainty || table.uncertainty_xy_nm.size() == table.size(),
              "render::add_gaussian: sigma_from_uncertainty needs the uncertainty_xy column");
  const double inverse_pixel = 1.0 / pixel_nm;
  std::vector<double> wx, wy;
  std::size_t rendered = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const double u = (table.x_nm[i] - fov.x_nm) * inverse_pixel;
    const double v = (table.y_nm[i] - fov.y_nm) * inverse_pixel;
    if (!std::isfinite(u) || !std::isfinite(v)) continue;
    double sigma_nm = options.sigma_nm;
    if (options.sigma_from_uncertainty) {
      const double s = table.uncertainty_xy_nm[i];
      if (std::isfinite(s) && s > 0) sigma_nm = s;
    }
    const double s = std::max(sigma_nm, options.min_sigma_nm) * inverse_pixel;
    const double half = options.window_sigmas * s;
    const double x0 = std::floor(u - half), x1 = std::floor(u + half);
    const double y0 = std::floor(v - half), y1 = std::floor(v + half);
    if (x1 < 0 || y1 < 0 || x0 >= static_cast<double>(size.cols) || y0 >= static_cast<double>(size.rows)) continue;
    // Only the part of the window inside the image is evaluated (bounded by the image size).
    const auto c_begin = static_cast<std::ptrdiff_t>(std::max(x0, 0.0));
    const auto c_end = static_cast<std::ptrdiff_t>(std::min(x1 + 1, static_cast<double>(size.cols)));
    const auto r_begin = static_cast<std::ptrdiff_t>(std::max(y0, 0.0));
    const auto r_end = static_cast<std::ptrdiff_t>(std::min(y1 + 1, static_cast<double>(size.rows)));
    wx.resize(static_cast<std::size_t>(c_end - c_begin));
    wy.resize(static_cast<std::size_t>(r_end - r_begin));
    detail::integrated_weights(u, s, x0, x1, c_begin, c_end, wx.data());
    detail::integrated_weights(v, s, y0, y1, r_begin, r_end, wy.data());
    for (std::ptrdiff_t r = r_begin; r < r_end; ++r) {
      const double wr = wy[static_cast<std::size_t>(r - r_begin)];
      for (std::ptrdiff_t c = c_begin; c < c_end; ++c)
        image(r, c) += static_cast<T>(wr * wx[static_cast<std::size_t>(c - c_begin)]);
    }
    ++rendered;
  }
  return rendered;
}

/// The Gaussian rendering as a new float image of image_size(fov, pixel_nm).
inline Image<float> render_gaussian(const LocalizationTable& table, const FieldOfView& fov, double pixel_nm,
                                    const GaussianRenderOptions& options = {}) {
  const ImageSize size = image_size(fov, pixel_nm);
  Image<float> image = Image<float>::Zero(size.rows, size.cols);
  add_gaussian(table, fov, pixel_nm, options, make_view(image));
  return image;
}

}  // namespace smlm::render
