// Image fidelity metrics: PSNR and SSIM between a reference image and a test image.
//
// PSNR = 10·log10(L² / MSE) dB with L the data range (255 for 8-bit video); +∞ when the images
// are equal. For a stack, pass the summed squared error and sample count (psnr_from_mse).
//
// SSIM follows Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error visibility
// to structural similarity", IEEE TIP 13(4), 2004, with the parameters of their reference
// implementation (ssim_index.m): an 11×11 circular-symmetric Gaussian window, σ = 1.5 samples,
// normalised to sum 1; K1 = 0.01, K2 = 0.03, C1 = (K1·L)², C2 = (K2·L)²;
//   SSIM(x, y) = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
// evaluated at every position where the window lies inside the image (MATLAB's filter2 'valid'),
// with (co)variances as Gaussian-weighted moments E[xy] − μx μy, and averaged (mean SSIM). No
// downsampling (the paper's reference code does none either). Deviation: an image smaller than
// 11 samples along a side uses a window of that side's size there (the Gaussian truncated to it
// and renormalised), so small crops still get a value.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include <smlm/core/config.hpp>

namespace smlm::eval {

/// 10·log10(range² / mse); +∞ for mse = 0.
inline double psnr_from_mse(double mse, double data_range) noexcept {
  if (mse <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

/// Mean squared error of two images of equal size.
template <class A, class B>
double mse(const Eigen::ArrayBase<A>& reference, const Eigen::ArrayBase<B>& test) SMLM_NOEXCEPT {
  SMLM_ASSERT(reference.rows() == test.rows() && reference.cols() == test.cols(), "mse: sizes differ");
  SMLM_ASSERT(reference.size() > 0, "mse: empty images");
  return (reference.template cast<double>() - test.template cast<double>()).square().sum() /
         static_cast<double>(reference.size());
}

/// PSNR in dB of `test` against `reference` for samples spanning `data_range` (255 for uint8).
template <class A, class B>
double psnr(const Eigen::ArrayBase<A>& reference, const Eigen::ArrayBase<B>& test, double data_range) SMLM_NOEXCEPT {
  return psnr_from_mse(mse(reference, test), data_range);
}

namespace detail {

/// The normalised 1-D Gaussian (σ = 1.5) of `size` ≤ 11 taps centred on the window; the 2-D
/// window of Wang et al. is its outer product.
inline std::vector<double> ssim_taps(int size) {
  std::vector<double> taps(static_cast<std::size_t>(size));
  double sum = 0;
  const double centre = (size - 1) / 2.0;
  for (int k = 0; k < size; ++k) sum += taps[k] = std::exp(-(k - centre) * (k - centre) / (2 * 1.5 * 1.5));
  for (double& t : taps) t /= sum;
  return taps;
}

/// 'valid' separable filtering of the (rows × cols) row-major `in` with `taps_y` down and
/// `taps_x` across.
inline std::vector<double> filter_valid(const std::vector<double>& in, int rows, int cols,
                                        const std::vector<double>& taps_y, const std::vector<double>& taps_x) {
  const int wy = static_cast<int>(taps_y.size()), wx = static_cast<int>(taps_x.size());
  const int out_cols = cols - wx + 1, out_rows = rows - wy + 1;
  std::vector<double> across(static_cast<std::size_t>(rows) * out_cols);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < out_cols; ++x) {
      double s = 0;
      for (int k = 0; k < wx; ++k) s += taps_x[k] * in[static_cast<std::size_t>(y) * cols + x + k];
      across[static_cast<std::size_t>(y) * out_cols + x] = s;
    }
  std::vector<double> out(static_cast<std::size_t>(out_rows) * out_cols);
  for (int y = 0; y < out_rows; ++y)
    for (int x = 0; x < out_cols; ++x) {
      double s = 0;
      for (int k = 0; k < wy; ++k) s += taps_y[k] * across[static_cast<std::size_t>(y + k) * out_cols + x];
      out[static_cast<std::size_t>(y) * out_cols + x] = s;
    }
  return out;
}

}  // namespace detail

/// Mean SSIM of `test` against `reference` (equal sizes, at least 1×1) for data range L.
/// Allocates five filtered planes; not a kernel for inner loops.
template <class A, class B>
double ssim(const Eigen::ArrayBase<A>& reference, const Eigen::ArrayBase<B>& test, double data_range) {
  SMLM_ASSERT(reference.rows() == test.rows() && reference.cols() == test.cols(), "ssim: sizes differ");
  SMLM_ASSERT(reference.size() > 0, "ssim: empty images");
  const int rows = static_cast<int>(reference.rows()), cols = static_cast<int>(reference.cols());
  const std::size_t n = static_cast<std::size_t>(rows) * cols;
  std::vector<double> x(n), y(n), xx(n), yy(n), xy(n);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const std::size_t k = static_cast<std::size_t>(r) * cols + c;
      x[k] = static_cast<double>(reference(r, c));
      y[k] = static_cast<double>(test(r, c));
      xx[k] = x[k] * x[k];
      yy[k] = y[k] * y[k];
      xy[k] = x[k] * y[k];
    }
  const auto taps_y = detail::ssim_taps(std::min(rows, 11)), taps_x = detail::ssim_taps(std::min(cols, 11));
  const auto mx = detail::filter_valid(x, rows, cols, taps_y, taps_x);
  const auto my = detail::filter_valid(y, rows, cols, taps_y, taps_x);
  const auto mxx = detail::filter_valid(xx, rows, cols, taps_y, taps_x);
  const auto myy = detail::filter_valid(yy, rows, cols, taps_y, taps_x);
  const auto mxy = detail::filter_valid(xy, rows, cols, taps_y, taps_x);
  const double c1 = (0.01 * data_range) * (0.01 * data_range), c2 = (0.03 * data_range) * (0.03 * data_range);
  double sum = 0;
  for (std::size_t k = 0; k < mx.size(); ++k) {
    const double vx = mxx[k] - mx[k] * mx[k], vy = myy[k] - my[k] * my[k], cxy = mxy[k] - mx[k] * my[k];
    sum += ((2 * mx[k] * my[k] + c1) * (2 * cxy + c2)) / ((mx[k] * mx[k] + my[k] * my[k] + c1) * (vx + vy + c2));
  }
  return sum / static_cast<double>(mx.size());
}

}  // namespace smlm::eval
