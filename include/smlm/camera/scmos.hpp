// A scientific CMOS camera with per-pixel calibration maps (each pixel has its own amplifier and
// converter): the noise model of Huang et al., "Video-rate nanoscopy using sCMOS camera-specific
// single-molecule localization algorithms", Nat. Methods 10 (2013) 653–658, eq. 1 — the ADU of
// pixel i is a Poisson photoelectron count scaled by the pixel's gain plus Gaussian read noise of
// the pixel's own mean (offset) and variance.
//
// Signal chain of pixel i = (y, x) with expected photons p:
//   n  ~ Poisson(qe·p)                                photoelectrons
//   v  = offset_adu(i) + n / e_per_adu(i) + √read_variance_adu2(i) · Z,   Z ~ N(0, 1)
//   adu = min(max(⌊v + ½⌋, 0), full_scale_adu)       rounding, clipping at 0, saturation
// Draws per pixel, in this order: one poisson<T>, one normal<T>.
//
// Declared statistics (o, k, σ² the pixel's map values):
//   mean_adu     = o + qe·p / k
//   variance_adu = qe·p / k² + σ² + 1/12
// The 1/12 is Sheppard's correction for rounding to integer ADU; it and the unchanged mean hold up
// to terms of order exp(−2π²σ²) (< 3e-9 for σ ≥ 1 ADU, 7e-3 ADU² at σ = 0.5 ADU). Saturation and
// clipping are not included (see camera.hpp).
// to_photons inverts the mean: p̂ = (adu − o)·k / qe.
//
// The maps are non-owning views (the caller keeps the calibration, e.g. Images loaded from a
// calibration file, alive while the model is used); all three have the frame's size, and the
// frames recorded or converted must have that size too (a sub-window of the sensor is described
// by views of the matching block of each map).
#pragma once

#include <cmath>
#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::camera {

template <sampler_scalar T = float>
struct Scmos {
  using scalar = T;

  ConstImageView<T> offset_adu;          ///< per-pixel offset (dark mean), ADU
  ConstImageView<T> e_per_adu;           ///< per-pixel conversion, photoelectrons per ADU, > 0
  ConstImageView<T> read_variance_adu2;  ///< per-pixel read-noise variance, ADU², ≥ 0
  T qe = T(0.8);                         ///< quantum efficiency, in (0, 1]
  T full_scale_adu = T(65535);           ///< saturation level, ADU, > 0 (16-bit converter)

  /// Precondition: the three maps have the same size.
  Scmos(ConstImageView<T> offset, ConstImageView<T> electrons_per_adu, ConstImageView<T> read_variance,
        T quantum_efficiency = T(0.8), T full_scale = T(65535)) SMLM_NOEXCEPT
      : offset_adu(offset),
        e_per_adu(electrons_per_adu),
        read_variance_adu2(read_variance),
        qe(quantum_efficiency),
        full_scale_adu(full_scale) {
    SMLM_ASSERT(offset.rows() == electrons_per_adu.rows() && offset.cols() == electrons_per_adu.cols() &&
                    offset.rows() == read_variance.rows() && offset.cols() == read_variance.cols(),
                "camera::Scmos: offset, gain and variance maps must have the same size");
  }

  /// The same over whole calibration images, which must outlive the model.
  Scmos(const Image<T>& offset, const Image<T>& electrons_per_adu, const Image<T>& read_variance,
        T quantum_efficiency = T(0.8), T full_scale = T(65535)) SMLM_NOEXCEPT
      : Scmos(make_view(offset), make_view(electrons_per_adu), make_view(read_variance), quantum_efficiency,
              full_scale) {}

  std::ptrdiff_t height() const noexcept { return offset_adu.rows(); }
  std::ptrdiff_t width() const noexcept { return offset_adu.cols(); }
  T max_adu() const noexcept { return full_scale_adu; }

  /// One frame (see the signal chain above). Precondition: photons and adu have the maps' size,
  /// photons finite and ≥ 0, qe in (0, 1], full_scale_adu > 0, e_per_adu > 0 and
  /// read_variance_adu2 ≥ 0 at every pixel.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(photons.rows() == height() && photons.cols() == width(),
                "camera::Scmos::record: frame size differs from the maps' size");
    SMLM_ASSERT(qe > 0 && qe <= 1 && full_scale_adu > 0, "camera::Scmos: qe or full_scale_adu out of range");
    const double q = qe, full = full_scale_adu;
    for (Eigen::Index y = 0; y < photons.rows(); ++y) {
      for (Eigen::Index x = 0; x < photons.cols(); ++x) {
        const double k = e_per_adu(y, x), var = read_variance_adu2(y, x);
        SMLM_ASSERT(k > 0 && var >= 0, "camera::Scmos: e_per_adu must be > 0 and read_variance_adu2 >= 0");
        const std::int64_t n = poisson<T>(rng, static_cast<T>(q * static_cast<double>(photons(y, x))));
        const double z = normal<T>(rng);
        adu(y, x) = detail::quantize_adu<T>(
            static_cast<double>(offset_adu(y, x)) + static_cast<double>(n) / k + std::sqrt(var) * z, full);
      }
    }
  }

  double mean_adu(double photons, Pixel pixel = {}) const SMLM_NOEXCEPT {
    check_pixel(pixel);
    return static_cast<double>(offset_adu(pixel.y, pixel.x)) +
           static_cast<double>(qe) * photons / static_cast<double>(e_per_adu(pixel.y, pixel.x));
  }

  double variance_adu(double photons, Pixel pixel = {}) const SMLM_NOEXCEPT {
    check_pixel(pixel);
    const double k = e_per_adu(pixel.y, pixel.x);
    return static_cast<double>(qe) * photons / (k * k) +
           static_cast<double>(read_variance_adu2(pixel.y, pixel.x)) + 1.0 / 12;
  }

  /// p̂ = (adu − offset)·e_per_adu / qe per pixel; `photons` may be `adu` itself.
  /// Precondition: both have the maps' size.
  void to_photons(ConstImageView<T> adu, ImageView<T> photons) const SMLM_NOEXCEPT {
    SMLM_ASSERT(adu.rows() == height() && adu.cols() == width() && photons.rows() == height() &&
                    photons.cols() == width(),
                "camera::Scmos::to_photons: image size differs from the maps' size");
    const double inv_qe = 1.0 / static_cast<double>(qe);
    for (Eigen::Index y = 0; y < adu.rows(); ++y) {
      for (Eigen::Index x = 0; x < adu.cols(); ++x) {
        photons(y, x) =
            static_cast<T>((static_cast<double>(adu(y, x)) - static_cast<double>(offset_adu(y, x))) *
                           static_cast<double>(e_per_adu(y, x)) * inv_qe);
      }
    }
  }

 private:
  void check_pixel(Pixel pixel) const SMLM_NOEXCEPT {
    SMLM_ASSERT(pixel.y >= 0 && pixel.y < height() && pixel.x >= 0 && pixel.x < width(),
                "camera::Scmos: pixel outside the maps");
    (void)pixel;
  }
};

static_assert(check_model<Scmos<float>>() && check_model<Scmos<double>>());

}  // namespace smlm::camera
