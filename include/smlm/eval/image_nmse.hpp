// Normalised mean squared error between a reconstruction and a reference image, after
// projecting both to [0, 1] — the image measure of Deep-STORM (Nehme et al., Optica 5, 458
// (2018)), which makes images on different intensity scales (network output, rendered ground
// truth) comparable:
//
//     p(x) = (x − min x) / (max x − min x)          (a constant image projects to all zeros)
//     NMSE = Σ (p(estimate) − p(reference))² / Σ p(reference)²
//
// NMSE is invariant to any increasing affine change a·x + b (a > 0) of either image, 0 for
// identical images, and not symmetric in its arguments. A constant reference has Σ p² = 0: the
// result is then 0 if the estimate projects to zeros too, +∞ otherwise (never NaN). Non-finite
// pixels are a precondition violation (SMLM_ASSERT).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>

namespace smlm::eval {

template <class T>
double nmse_projected(ConstImageView<T> reference, ConstImageView<T> estimate) SMLM_NOEXCEPT {
  SMLM_ASSERT(reference.rows() == estimate.rows() && reference.cols() == estimate.cols(),
              "eval::nmse_projected: images must have the same size");
  if (reference.size() == 0) return 0.0;
  double r_lo = static_cast<double>(reference(0, 0)), r_hi = r_lo;
  double e_lo = static_cast<double>(estimate(0, 0)), e_hi = e_lo;
  bool finite = true;
  for (std::ptrdiff_t y = 0; y < reference.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < reference.cols(); ++x) {
      const auto r = static_cast<double>(reference(y, x)), e = static_cast<double>(estimate(y, x));
      finite = finite && std::isfinite(r) && std::isfinite(e);
      r_lo = std::min(r_lo, r);
      r_hi = std::max(r_hi, r);
      e_lo = std::min(e_lo, e);
      e_hi = std::max(e_hi, e);
    }
  SMLM_ASSERT(finite, "eval::nmse_projected: non-finite pixel");
  const double r_scale = r_hi > r_lo ? 1.0 / (r_hi - r_lo) : 0.0;
  const double e_scale = e_hi > e_lo ? 1.0 / (e_hi - e_lo) : 0.0;
  double error = 0, power = 0;
  for (std::ptrdiff_t y = 0; y < reference.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < reference.cols(); ++x) {
      const double r = (static_cast<double>(reference(y, x)) - r_lo) * r_scale;
      const double e = (static_cast<double>(estimate(y, x)) - e_lo) * e_scale;
      error += (e - r) * (e - r);
      power += r * r;
    }
  if (power > 0) return error / power;
  return error > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

template <class T>
double nmse_projected(const Image<T>& reference, const Image<T>& estimate) SMLM_NOEXCEPT {
  return nmse_projected(make_view(reference), make_view(estimate));
}

}  // namespace smlm::eval
