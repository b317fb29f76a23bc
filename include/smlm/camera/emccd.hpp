// An electron-multiplying CCD (EMCCD).
//
// Signal chain of one pixel with expected photons p (all parameters are members of Emccd):
//   n  ~ Poisson(qe·p + cic_electrons)        photoelectrons plus clock-induced charge. Detecting
//                                             each photon with probability qe thins Poisson(p) to
//                                             Poisson(qe·p), and CIC, Poisson(cic) generated
//                                             before the EM register, adds to it; the sum of
//                                             independent Poisson variables is Poisson, so one
//                                             draw gives the electron count entering the register.
//   a  ~ Gamma(shape n, scale em_gain)        EM amplification (a = 0 when n = 0). The gamma
//                                             law is the high-gain limit of the stochastic
//                                             multiplication register (Basden, Haniff & Mackay,
//                                             MNRAS 345 (2003) 985, eq. 3; Hirsch et al., PLoS ONE
//                                             8 (2013) e53671): mean g·n, variance g²·n, so the
//                                             output variance is 2·g²·E[n] (excess noise factor
//                                             F = √2). The exact register has F² = 2 − 1/g + O(1/N)
//                                             for N stages (Robbins & Hadwen, IEEE TED 50 (2003)
//                                             1227); at g = 100 the two differ by 0.5 %.
//                                             em_gain == 1 means the register is off (conventional
//                                             readout): a = n, F = 1.
//   e  = a + read_noise_e·Z, Z ~ N(0, 1)      read noise of the output amplifier, rms electrons
//                                             referred to the output (not divided by em_gain).
//   v  = baseline_adu + e / e_per_adu          conversion and offset, ADU.
//   adu = min(max(⌊v + ½⌋, 0), full_scale_adu) rounding, clipping at 0, saturation (16 bit).
// Draws per pixel, in this order: one poisson<T>, then (n ≥ 2, gain on) one gamma<T> or (n = 1)
// one exponential<T>, then one normal<T>.
//
// Declared statistics (λ = qe·p + cic_electrons, g = em_gain, F² = 2, or 1 with the register off):
//   mean_adu     = baseline_adu + g·λ / e_per_adu
//   variance_adu = (F²·g²·λ + read_noise_e²) / e_per_adu² + 1/12
// The 1/12 is Sheppard's correction for rounding to integer ADU. It and the unchanged mean hold
// up to terms of order exp(−2π²σ²), σ the read noise in ADU (< 3e-9 for σ ≥ 1 ADU; the defaults
// give σ = 4.2 ADU); with σ ≪ 1 ADU and the register off they do not hold. Saturation and
// clipping are not included (see camera.hpp).
// to_photons inverts the mean: p̂ = ((adu − baseline_adu)·e_per_adu / g − cic_electrons) / qe, so
// CIC is subtracted as a known offset and p̂ is unbiased for p (and can be negative).
#pragma once

#include <cmath>
#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::camera {

/// EMCCD model; the defaults are typical of a back-illuminated 512×512 EMCCD read out at 10 MHz.
template <sampler_scalar T = float>
struct Emccd {
  using scalar = T;

  T qe = T(0.9);                ///< quantum efficiency, photoelectrons per photon, in (0, 1]
  T cic_electrons = T(0.005);   ///< clock-induced charge, mean electrons per pixel per frame, ≥ 0
  T em_gain = T(100);           ///< mean EM gain, ≥ 1 (1: register off, no multiplication noise)
  T read_noise_e = T(50);       ///< read noise, rms electrons at the output amplifier, ≥ 0
  T e_per_adu = T(12);          ///< output electrons per ADU, > 0
  T baseline_adu = T(100);      ///< offset added before quantization, ADU
  T full_scale_adu = T(65535);  ///< saturation level, ADU, > 0 (16-bit converter)

  T max_adu() const noexcept { return full_scale_adu; }

  /// True when the parameters satisfy the ranges above (what record asserts).
  bool valid() const noexcept {
    return qe > 0 && qe <= 1 && cic_electrons >= 0 && std::isfinite(cic_electrons) && em_gain >= 1 &&
           std::isfinite(em_gain) && read_noise_e >= 0 && std::isfinite(read_noise_e) && e_per_adu > 0 &&
           std::isfinite(e_per_adu) && std::isfinite(baseline_adu) && full_scale_adu > 0 &&
           std::isfinite(full_scale_adu);
  }

  /// Squared excess noise factor of the register: 2 with gain (gamma model), 1 without.
  double excess_noise_factor_sq() const noexcept { return em_gain > 1 ? 2.0 : 1.0; }

  /// One frame (see the signal chain above). Precondition: valid(), photons finite and ≥ 0,
  /// sizes equal.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(valid(), "camera::Emccd: parameter out of range (see Emccd's members)");
    const double q = qe, cic = cic_electrons, g = em_gain, sigma = read_noise_e;
    const double inv_k = 1.0 / static_cast<double>(e_per_adu), base = baseline_adu, full = full_scale_adu;
    const bool amplify = em_gain > 1;
    for (Eigen::Index y = 0; y < photons.rows(); ++y) {
      for (Eigen::Index x = 0; x < photons.cols(); ++x) {
        const std::int64_t n = poisson<T>(rng, static_cast<T>(q * static_cast<double>(photons(y, x)) + cic));
        double e = static_cast<double>(n);
        if (amplify && n > 0) {
          e = n == 1 ? g * static_cast<double>(exponential<T>(rng))
                     : static_cast<double>(gamma<T>(rng, static_cast<T>(n), em_gain));
        }
        e += sigma * static_cast<double>(normal<T>(rng));
        adu(y, x) = detail::quantize_adu<T>(base + e * inv_k, full);
      }
    }
  }

  double mean_adu(double photons, Pixel = {}) const noexcept {
    const double lambda = static_cast<double>(qe) * photons + static_cast<double>(cic_electrons);
    return static_cast<double>(baseline_adu) +
           static_cast<double>(em_gain) * lambda / static_cast<double>(e_per_adu);
  }

  double variance_adu(double photons, Pixel = {}) const noexcept {
    const double lambda = static_cast<double>(qe) * photons + static_cast<double>(cic_electrons);
    const double g = em_gain, sigma = read_noise_e, k = e_per_adu;
    return (excess_noise_factor_sq() * g * g * lambda + sigma * sigma) / (k * k) + 1.0 / 12;
  }

  /// p̂ = ((adu − baseline_adu)·e_per_adu / em_gain − cic_electrons) / qe per pixel; `photons` may
  /// be `adu` itself.
  void to_photons(ConstImageView<T> adu, ImageView<T> photons) const SMLM_NOEXCEPT {
    SMLM_ASSERT(adu.rows() == photons.rows() && adu.cols() == photons.cols(),
                "camera::Emccd::to_photons: sizes differ");
    const double scale = static_cast<double>(e_per_adu) / static_cast<double>(em_gain);
    const double base = baseline_adu, cic = cic_electrons, inv_qe = 1.0 / static_cast<double>(qe);
    for (Eigen::Index y = 0; y < adu.rows(); ++y) {
      for (Eigen::Index x = 0; x < adu.cols(); ++x) {
        photons(y, x) = static_cast<T>(((static_cast<double>(adu(y, x)) - base) * scale - cic) * inv_qe);
      }
    }
  }
};

static_assert(check_model<Emccd<float>>() && check_model<Emccd<double>>());

}  // namespace smlm::camera
