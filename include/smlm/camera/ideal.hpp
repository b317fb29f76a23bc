// The ideal camera: photon shot noise only. Every photon is detected (quantum efficiency 1), one
// photoelectron is one ADU, there is no offset, no read noise and no gain: the recorded count of a
// pixel with expected photons p is K ~ Poisson(p), so mean_adu = variance_adu = p exactly (K is
// already an integer; no rounding term). Counts above full_scale_adu saturate there.
#pragma once

#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::camera {

template <sampler_scalar T = float>
struct Ideal {
  using scalar = T;

  /// Largest recorded count. Default 2^24: every integer up to it is exact in float.
  T full_scale_adu = T(16777216);

  T max_adu() const noexcept { return full_scale_adu; }

  /// K ~ Poisson(photons) per pixel (one poisson<T> draw per pixel, row-major), saturated.
  /// Precondition: photons finite and ≥ 0 (at most 2^52), sizes equal, full_scale_adu > 0.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(full_scale_adu > 0, "camera::Ideal: full_scale_adu must be positive");
    const double full_scale = full_scale_adu;
    for (Eigen::Index y = 0; y < photons.rows(); ++y) {
      for (Eigen::Index x = 0; x < photons.cols(); ++x) {
        const std::int64_t k = poisson<T>(rng, photons(y, x));
        adu(y, x) = detail::quantize_adu<T>(static_cast<double>(k), full_scale);
      }
    }
  }

  double mean_adu(double photons, Pixel = {}) const noexcept { return photons; }
  double variance_adu(double photons, Pixel = {}) const noexcept { return photons; }

  /// Photons = ADU (identity; copies unless `photons` is `adu` itself).
  void to_photons(ConstImageView<T> adu, ImageView<T> photons) const SMLM_NOEXCEPT {
    SMLM_ASSERT(adu.rows() == photons.rows() && adu.cols() == photons.cols(),
                "camera::Ideal::to_photons: sizes differ");
    if (adu.data() == photons.data()) return;
    photons = adu;
  }
};

static_assert(check_model<Ideal<float>>() && check_model<Ideal<double>>());

}  // namespace smlm::camera
