// Input normalization of camera frames for localization networks, robust to the camera's offset
// and gain.
//
// Two stages. Per frame (or training patch), an affine map that does not depend on the camera's
// numbers:
//     u = (x − m) / max(q − m, ε·(|m| + 1)),
// m the frame's median (background plus camera offset), q its `quantile` quantile (0.995 by
// default: the level of the brightest spots' peaks in a frame with molecules). Any recording
// x' = g·x + o of the same scene with gain g > 0 and offset o gives the same u, so a network
// trained on an ideal photon-counting camera (offset 0, 1 count per photon) reads a stack with
// an offset of 100 ADU and 2 ADU per photon without being told either. Then a fixed affine map
// learned on the training set, stored in the model: v = (u − mean)/sd, mean and sd the mean and
// standard deviation of u over training patches (fit_normalization), so the network's first
// layer sees inputs of zero mean and unit variance. ε = 1e-6 keeps an empty, flat frame finite.
//
// Quantiles are order statistics of the frame with linear interpolation between neighbours
// (p·(n − 1) as index, numpy's default). The kernel works in caller scratch: it does not
// allocate.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>

namespace smlm::nn {

struct InputNormalization {
  double quantile = 0.995;  ///< upper reference level of the per-frame map, in (0.5, 1]
  double mean = 0;          ///< of u over the training set
  double sd = 1;            ///< of u over the training set (> 0)

  bool valid() const noexcept {
    return quantile > 0.5 && quantile <= 1 && std::isfinite(mean) && sd > 0 && std::isfinite(sd);
  }
};

namespace detail {
/// The p-quantile of values[0, n) (reorders them).
template <class T>
double quantile_in_place(T* values, std::ptrdiff_t n, double p) noexcept {
  const double pos = p * double(n - 1);
  const auto lo = static_cast<std::ptrdiff_t>(std::floor(pos));
  std::nth_element(values, values + lo, values + n);
  const double a = values[lo];
  if (lo + 1 >= n) return a;
  const double b = *std::min_element(values + lo + 1, values + n);
  return a + (pos - double(lo)) * (b - a);
}
}  // namespace detail

/// Per-frame reference levels (m, s) of the header's first stage: u = (x − m)/s.
struct FrameLevels {
  double median = 0;
  double scale = 1;
};

/// Levels of frame x[0, n); scratch holds n values. Non-finite values are treated as the median
/// would be by std::nth_element (unspecified order): callers pass finite frames.
template <class T>
FrameLevels frame_levels(const T* x, std::ptrdiff_t n, double quantile, T* scratch) SMLM_NOEXCEPT {
  SMLM_ASSERT(n > 0, "nn::frame_levels: empty frame");
  std::copy(x, x + n, scratch);
  const double m = detail::quantile_in_place(scratch, n, 0.5);
  const double q = detail::quantile_in_place(scratch, n, quantile);
  const double floor = 1e-6 * (std::abs(m) + 1);
  return {m, std::max(q - m, floor)};
}

/// y = ((x − m)/s − mean)/sd for the frame x[0, n) (y may alias x); scratch holds n values.
template <class T, class U>
void normalize_frame(const T* x, std::ptrdiff_t n, const InputNormalization& norm, U* y, T* scratch) SMLM_NOEXCEPT {
  SMLM_ASSERT(norm.valid(), "nn::normalize_frame: invalid InputNormalization");
  const FrameLevels l = frame_levels(x, n, norm.quantile, scratch);
  const double a = 1 / (l.scale * norm.sd);
  const double b = -(l.median / l.scale + norm.mean) / norm.sd;
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = static_cast<U>(a * double(x[i]) + b);
}

/// Accumulates u over training frames to set mean and sd (the header's second stage).
class NormalizationFit {
 public:
  explicit NormalizationFit(double quantile = 0.995) : quantile_(quantile) {}
  template <class T>
  void add(const T* x, std::ptrdiff_t n, T* scratch) SMLM_NOEXCEPT {
    const FrameLevels l = frame_levels(x, n, quantile_, scratch);
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double u = (double(x[i]) - l.median) / l.scale;
      ++count_;
      const double d = u - mean_;
      mean_ += d / double(count_);
      m2_ += d * (u - mean_);
    }
  }
  /// The fitted normalization (sd 1 when fewer than two values were added or all were equal).
  InputNormalization result() const noexcept {
    InputNormalization n;
    n.quantile = quantile_;
    n.mean = mean_;
    const double var = count_ > 1 ? m2_ / double(count_ - 1) : 0;
    n.sd = var > 0 ? std::sqrt(var) : 1;
    return n;
  }

 private:
  double quantile_;
  double mean_ = 0, m2_ = 0;
  std::ptrdiff_t count_ = 0;
};

}  // namespace smlm::nn
