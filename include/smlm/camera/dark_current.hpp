// Dark current and hot pixels for any camera model: DarkCurrent<C> wraps a model C and adds
// thermally generated electrons to every pixel before C records the frame.
//
// Signal chain: pixel i gets d_i dark electrons per frame on average,
//   d_i = hot_dark_e   if pixel i is hot: u_i < hot_fraction, u_i a uniform on [0, 1) fixed by
//                      (pattern_seed, sensor pixel origin + i) (PixelWords, salt 1), so the same
//                      pixels are hot in every frame and every copy of the model;
//   d_i = dark_e       otherwise.
// Dark electrons are Poisson and are indistinguishable from photoelectrons once generated, so
// they are added as d_i / qe equivalent photons to the expected image and C records
//   photons_i + d_i / qe(C)
// with qe(C) the wrapped model's `qe` member (1 for a model without one, e.g. Ideal). For every
// model whose first stage is n ~ Poisson(qe·p) — Ideal, Emccd, Scmos, CmosPhone — this gives
// n ~ Poisson(qe·p + d_i) exactly (the sum of independent Poisson counts), and the electrons then
// pass the rest of C's chain (the EM register of an EMCCD, the per-pixel gain of an sCMOS).
// Draws: exactly those of C (the dark electrons ride in C's Poisson draw).
//
// Declared statistics: C's, at photons + d_i/qe (mean_adu, variance_adu, per frame for a
// FrameDependent C). to_photons is C's minus d_i/qe, so p̂ stays unbiased for the photons alone.
// max_adu, linear_max_adu and saturation_adu are C's.
//
// record first writes photons + d_i/qe into `adu` and lets C record in place (camera.hpp allows
// adu to be the photons view), so it allocates nothing.
#pragma once

#include <cmath>
#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::camera {

namespace detail {
/// qe(C): the model's `qe` member, 1 when it has none.
template <class C>
double quantum_efficiency(const C& c) noexcept {
  if constexpr (requires { c.qe; }) {
    return static_cast<double>(c.qe);
  } else {
    return 1.0;
  }
}
}  // namespace detail

template <Model C>
struct DarkCurrent {
  using scalar = typename C::scalar;
  using T = scalar;

  C camera{};                           ///< the wrapped model
  double dark_e = 0;                    ///< mean dark electrons per pixel per frame, ≥ 0
  double hot_fraction = 0;              ///< share of hot pixels, [0, 1]
  double hot_dark_e = 0;                ///< mean dark electrons per frame of a hot pixel, ≥ 0
  std::uint64_t pattern_seed = 0xDA4C;  ///< which sensor: seeds the hot-pixel map
  Pixel origin{};                       ///< sensor pixel of the frame's pixel (0, 0)

  T max_adu() const noexcept { return camera.max_adu(); }
  double linear_max_adu() const noexcept { return camera::linear_max_adu(camera); }
  double saturation_adu() const noexcept { return camera::saturation_adu(camera); }

  bool valid() const noexcept {
    return dark_e >= 0 && std::isfinite(dark_e) && hot_fraction >= 0 && hot_fraction <= 1 && hot_dark_e >= 0 &&
           std::isfinite(hot_dark_e);
  }

  /// Whether frame pixel `pixel` is hot.
  bool is_hot(Pixel pixel) const noexcept {
    if (hot_fraction <= 0) return false;
    PixelWords words(pattern_seed, Pixel{origin.y + pixel.y, origin.x + pixel.x}, 1);
    return uniform01<double>(words) < hot_fraction;
  }

  /// d_i: mean dark electrons per frame at frame pixel `pixel`.
  double dark_electrons(Pixel pixel) const noexcept { return is_hot(pixel) ? hot_dark_e : dark_e; }

  /// d_i / qe: the dark current as equivalent expected photons.
  double dark_photons(Pixel pixel) const noexcept {
    return dark_electrons(pixel) / detail::quantum_efficiency(camera);
  }

  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    add_dark(photons, adu);
    camera.record(const_view(adu), rng, adu);
  }
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu, std::uint32_t frame) const SMLM_NOEXCEPT
    requires FrameDependent<C>
  {
    add_dark(photons, adu);
    camera.record(const_view(adu), rng, adu, frame);
  }

  double mean_adu(double photons, Pixel pixel = {}) const SMLM_NOEXCEPT {
    return camera.mean_adu(photons + dark_photons(pixel), pixel);
  }
  double variance_adu(double photons, Pixel pixel = {}) const SMLM_NOEXCEPT {
    return camera.variance_adu(photons + dark_photons(pixel), pixel);
  }
  double mean_adu(double photons, Pixel pixel, std::uint32_t frame) const SMLM_NOEXCEPT
    requires FrameDependent<C>
  {
    return camera.mean_adu(photons + dark_photons(pixel), pixel, frame);
  }
  double variance_adu(double photons, Pixel pixel, std::uint32_t frame) const SMLM_NOEXCEPT
    requires FrameDependent<C>
  {
    return camera.variance_adu(photons + dark_photons(pixel), pixel, frame);
  }

  /// C's estimate minus d_i/qe per pixel; `photons` may be `adu`.
  void to_photons(ConstImageView<T> adu, ImageView<T> photons) const SMLM_NOEXCEPT {
    camera.to_photons(adu, photons);
    subtract_dark(photons);
  }
  void to_photons(ConstImageView<T> adu, ImageView<T> photons, std::uint32_t frame) const SMLM_NOEXCEPT
    requires FrameDependent<C>
  {
    camera.to_photons(adu, photons, frame);
    subtract_dark(photons);
  }

 private:
  void add_dark(const ConstImageView<T>& photons, ImageView<T>& adu) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(valid(), "camera::DarkCurrent: dark_e, hot_dark_e must be >= 0 and hot_fraction in [0, 1]");
    for (Eigen::Index y = 0; y < photons.rows(); ++y)
      for (Eigen::Index x = 0; x < photons.cols(); ++x)
        adu(y, x) = static_cast<T>(static_cast<double>(photons(y, x)) + dark_photons(Pixel{y, x}));
  }
  void subtract_dark(ImageView<T>& photons) const noexcept {
    for (Eigen::Index y = 0; y < photons.rows(); ++y)
      for (Eigen::Index x = 0; x < photons.cols(); ++x)
        photons(y, x) = static_cast<T>(static_cast<double>(photons(y, x)) - dark_photons(Pixel{y, x}));
  }
};

/// `camera` with dark current (and optionally hot pixels); see DarkCurrent.
template <Model C>
DarkCurrent<C> with_dark_current(const C& camera, double dark_e, double hot_fraction = 0, double hot_dark_e = 0,
                                 std::uint64_t pattern_seed = 0xDA4C) {
  return DarkCurrent<C>{camera, dark_e, hot_fraction, hot_dark_e, pattern_seed, Pixel{}};
}

}  // namespace smlm::camera
