// A cellphone CMOS camera recording 8-bit video, as characterised for cellSTORM: B. Diederich et
// al., "cellSTORM—Cost-effective super-resolution on a cellphone using dSTORM", PLoS ONE 14
// (2019) e0209827 (Huawei P9, Sony IMX286 monochrome sensor, ISO 3200). The defaults are the
// values measured there: offset 4.1 ADU, 0.69 e⁻/ADU, read noise 2.5 e⁻ rms, fixed-pattern noise
// 0.34 e⁻ rms, linear up to about 220 ADU, low values clipped to zero, a 12-bit sensor whose
// output reaches the user as 8-bit video with a drifting, periodically dipping frame mean. Where
// the paper gives no number (quantum efficiency, the shape of the response above 220 ADU, the
// 12→8-bit scale, drift and dip sizes) the defaults below are assumptions, marked as such.
//
// Signal chain of sensor pixel i (frame pixel (y, x) plus `origin`) in frame f, expected photons p:
//   n  ~ Poisson(qe·p)                          photoelectrons
//   e  = n + φ_i + read_noise_e·Z, Z ~ N(0, 1)  φ_i = fixed_pattern_e·N_i, N_i a standard normal
//                                               fixed by (pattern_seed, i) (PixelWords, salt 0):
//                                               the sensor's dark-signal non-uniformity, the same
//                                               in every frame and every copy of the model
//   v  = m(f)·(offset_adu + e / e_per_adu)      m(f) = 1 + drift_amplitude·sin(2πf/drift_period_frames)
//                                               − dip_depth·[f mod dip_period_frames = 0]: one
//                                               frame-level gain standing for the phone's exposure
//                                               drift and the video encoder's I-frame dip
//   s  = min(max(⌊L·v + ½⌋, 0), 2^sensor_bits − 1)   the 12-bit sensor value, L =
//                                               sensor_levels_per_adu levels per output ADU; low
//                                               values clip to zero here
//   t  = s / L,  y = r(t)                        the 8-bit tone curve r: identity up to knee_adu,
//                                               then (compress) the quadratic soft knee
//                                               r(t) = t − (t − K)²/(4w), w = output_max_adu − K,
//                                               which has slope 1 at K and reaches output_max_adu
//                                               with slope 0 at K + 2w (flat beyond); without
//                                               compress r(t) = min(t, output_max_adu)
//   adu = min(max(⌊y + ½⌋, 0), output_max_adu)  the 8-bit video value
// Draws per pixel, in this order: one poisson<T>, one normal<T>.
//
// Declared statistics (linear range: dark level well above 0, y ≤ knee_adu):
//   mean_adu     = m(f)·(offset_adu + (φ_i + qe·p)/e_per_adu) + b_L,   b_L = 1/(2L) for even L, 0 for odd
//   variance_adu = m(f)²·(qe·p + read_noise_e²)/e_per_adu² + 1/12
// Rounding twice (to the 1/L grid, then that grid to integers, ties up) leaves an error that is
// uniform on an interval of length 1 when v is smooth on the grid's scale, so its variance is
// 1/12 exactly and its mean b_L (the ties of the second rounding all go up). Both hold up to
// terms of order exp(−2π²σ²), σ = m·√(qe·p + read_noise_e²)/e_per_adu ≥ 3.6 ADU by default.
// Clipping at 0 (the default dark level is only 1.1 SD above it) and the response above
// knee_adu are not included: linear_max_adu() = knee_adu (output_max_adu without compress)
// bounds the recorded values for which the declaration holds, and saturation_adu() = K + 2w
// (output_max_adu without compress) is the declared level from which record writes
// output_max_adu. The conformance suite tests the default preset where it is linear and not
// clipped (about 65–75 photons) and a preset with a higher offset over a wider range.
// to_photons inverts the mean: p̂ = (((adu − b_L)/m(f) − offset_adu)·e_per_adu − φ_i)/qe.
//
// The frame-less members describe frame 0 (a dip frame when dip_period_frames > 0);
// record_frame and the *_at functions of camera.hpp pass the frame index.
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
struct CmosPhone {
  using scalar = T;

  T qe = T(1);                   ///< photoelectrons per photon, (0, 1] (assumed: the paper's figures are in e⁻)
  T offset_adu = T(4.1);         ///< dark level of the 8-bit output, ADU (measured)
  T e_per_adu = T(0.69);         ///< photoelectrons per output ADU, > 0 (measured)
  T read_noise_e = T(2.5);       ///< temporal read noise, rms e⁻, ≥ 0 (measured)
  T fixed_pattern_e = T(0.34);   ///< fixed-pattern (dark-signal non-uniformity) rms e⁻, ≥ 0 (measured)
  std::uint64_t pattern_seed = 0x1A286;  ///< which sensor: seeds the fixed pattern
  Pixel origin{};                ///< sensor pixel of the frame's pixel (0, 0) (for windows)
  T knee_adu = T(220);           ///< end of the linear response, ADU, in (0, output_max_adu] (measured)
  T output_max_adu = T(255);     ///< full scale of the video output (8 bit)
  bool compress = true;          ///< soft knee above knee_adu (assumed shape); false: linear, clip
  int sensor_bits = 12;          ///< sensor converter depth, 1..24
  int sensor_levels_per_adu = 8;  ///< sensor levels per output ADU, ≥ 1 (assumed)
  T drift_amplitude = T(0.01);   ///< frame-gain drift, relative amplitude, [0, 0.5) (assumed)
  T drift_period_frames = T(600);  ///< drift period, frames, > 0 (assumed)
  T dip_depth = T(0.02);         ///< relative drop of the frame gain in a dip frame, [0, 0.5) (assumed)
  std::uint32_t dip_period_frames = 30;  ///< a dip every this many frames (frame 0 dips); 0: none (assumed)

  T max_adu() const noexcept { return output_max_adu; }
  /// The largest recorded value up to which the declared statistics hold.
  T linear_max_adu() const noexcept { return compress ? knee_adu : output_max_adu; }
  /// The declared (linear) mean from which every recorded value is output_max_adu.
  double saturation_adu() const noexcept {
    const double k = knee_adu, top = output_max_adu;
    return compress ? k + 2 * (top - k) : top;
  }
  /// Largest sensor value, in output ADU: (2^sensor_bits − 1)/L.
  double sensor_max_adu() const noexcept {
    return static_cast<double>((std::int64_t{1} << sensor_bits) - 1) / sensor_levels_per_adu;
  }

  /// True when the parameters are in range and the sensor's full scale is not below
  /// saturation_adu() (so the output can reach its full scale).
  bool valid() const noexcept {
    const bool basic = qe > 0 && qe <= 1 && e_per_adu > 0 && std::isfinite(e_per_adu) && read_noise_e >= 0 &&
                       std::isfinite(read_noise_e) && fixed_pattern_e >= 0 && std::isfinite(fixed_pattern_e) &&
                       std::isfinite(offset_adu) && output_max_adu > 0 && std::isfinite(output_max_adu) &&
                       knee_adu > 0 && knee_adu <= output_max_adu && sensor_bits >= 1 && sensor_bits <= 24 &&
                       sensor_levels_per_adu >= 1 && drift_amplitude >= 0 && drift_amplitude < T(0.5) &&
                       drift_period_frames > 0 && std::isfinite(drift_period_frames) && dip_depth >= 0 &&
                       dip_depth < T(0.5);
    return basic && sensor_max_adu() >= saturation_adu();
  }

  /// The frame gain m(f) of the signal chain.
  double frame_gain(std::uint32_t frame) const noexcept {
    constexpr double two_pi = 6.283185307179586476925;
    double m = 1 + static_cast<double>(drift_amplitude) *
                       std::sin(two_pi * static_cast<double>(frame) / static_cast<double>(drift_period_frames));
    if (dip_period_frames > 0 && frame % dip_period_frames == 0) m -= static_cast<double>(dip_depth);
    return m;
  }

  /// φ_i, the fixed-pattern electrons of frame pixel `pixel` (sensor pixel origin + pixel).
  double fixed_pattern_electrons(Pixel pixel) const noexcept {
    if (fixed_pattern_e == 0) return 0.0;
    PixelWords words(pattern_seed, Pixel{origin.y + pixel.y, origin.x + pixel.x}, 0);
    return static_cast<double>(fixed_pattern_e) * normal<double>(words);
  }

  /// The mean shift b_L of the double rounding.
  double rounding_bias_adu() const noexcept {
    return sensor_levels_per_adu % 2 == 0 ? 0.5 / sensor_levels_per_adu : 0.0;
  }

  /// The tone curve r(t) of the 8-bit output.
  double tone(double t) const noexcept {
    const double k = knee_adu, top = output_max_adu;
    if (!compress) return t < top ? t : top;
    if (t <= k) return t;
    const double w = top - k;
    if (t >= k + 2 * w) return top;
    return t - (t - k) * (t - k) / (4 * w);
  }

  /// Frame `frame` (see the signal chain). Precondition: valid(), photons finite and ≥ 0, sizes
  /// equal; `adu` may be `photons` itself.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu, std::uint32_t frame) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(valid(), "camera::CmosPhone: parameter out of range (see CmosPhone's members)");
    const double q = qe, sigma = read_noise_e, inv_k = 1.0 / static_cast<double>(e_per_adu);
    const double m = frame_gain(frame), base = offset_adu, levels = sensor_levels_per_adu;
    const double sensor_top = static_cast<double>((std::int64_t{1} << sensor_bits) - 1);
    const double inv_levels = 1.0 / levels, top = output_max_adu;
    for (Eigen::Index y = 0; y < photons.rows(); ++y) {
      for (Eigen::Index x = 0; x < photons.cols(); ++x) {
        const std::int64_t n = poisson<T>(rng, static_cast<T>(q * static_cast<double>(photons(y, x))));
        const double z = normal<T>(rng);
        const double e = static_cast<double>(n) + fixed_pattern_electrons(Pixel{y, x}) + sigma * z;
        const double v = m * (base + e * inv_k);
        const double s = detail::quantize_adu<double>(levels * v, sensor_top);
        adu(y, x) = detail::quantize_adu<T>(tone(s * inv_levels), top);
      }
    }
  }

  /// Frame 0.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    record(photons, rng, adu, 0);
  }

  double mean_adu(double photons, Pixel pixel, std::uint32_t frame) const noexcept {
    return frame_gain(frame) * (static_cast<double>(offset_adu) +
                                (fixed_pattern_electrons(pixel) + static_cast<double>(qe) * photons) /
                                    static_cast<double>(e_per_adu)) +
           rounding_bias_adu();
  }
  double mean_adu(double photons, Pixel pixel = {}) const noexcept { return mean_adu(photons, pixel, 0); }

  double variance_adu(double photons, Pixel pixel, std::uint32_t frame) const noexcept {
    (void)pixel;
    const double m = frame_gain(frame), k = e_per_adu, sigma = read_noise_e;
    return m * m * (static_cast<double>(qe) * photons + sigma * sigma) / (k * k) + 1.0 / 12;
  }
  double variance_adu(double photons, Pixel pixel = {}) const noexcept { return variance_adu(photons, pixel, 0); }

  /// p̂ = (((adu − b_L)/m(f) − offset_adu)·e_per_adu − φ_i)/qe per pixel; `photons` may be `adu`.
  void to_photons(ConstImageView<T> adu, ImageView<T> photons, std::uint32_t frame) const SMLM_NOEXCEPT {
    SMLM_ASSERT(adu.rows() == photons.rows() && adu.cols() == photons.cols(),
                "camera::CmosPhone::to_photons: sizes differ");
    const double inv_m = 1 / frame_gain(frame), bias = rounding_bias_adu(), base = offset_adu;
    const double k = e_per_adu, inv_qe = 1.0 / static_cast<double>(qe);
    for (Eigen::Index y = 0; y < adu.rows(); ++y) {
      for (Eigen::Index x = 0; x < adu.cols(); ++x) {
        const double e = ((static_cast<double>(adu(y, x)) - bias) * inv_m - base) * k;
        photons(y, x) = static_cast<T>((e - fixed_pattern_electrons(Pixel{y, x})) * inv_qe);
      }
    }
  }
  void to_photons(ConstImageView<T> adu, ImageView<T> photons) const SMLM_NOEXCEPT { to_photons(adu, photons, 0); }
};

static_assert(check_model<CmosPhone<float>>() && check_model<CmosPhone<double>>());
static_assert(FrameDependent<CmosPhone<float>> && FrameDependent<CmosPhone<double>>);

}  // namespace smlm::camera
