// The camera::Model concept: how a camera turns the photons arriving at each pixel during a frame
// into the counts it records (ADU), what mean and variance those counts have, and how counts are
// converted back to photons for analysis.
//
// Contract of every model (tests/camera/conformance.hpp checks it for each model):
//
// Units. Input images hold expected photons per pixel: the mean number of photons arriving at the
//   pixel during the frame (what psf::Model::add_to plus background produces), before quantum
//   efficiency. Output images hold ADU (analog-to-digital units, the recorded counts).
// Images. Row-major (y, x) as everywhere (DESIGN.md). A Pixel {y, x} names a pixel of the frame;
//   models with per-pixel maps (sCMOS) use it, uniform models ignore it.
// record(photons, rng, adu). Fills `adu` (same size as `photons`) with one recorded frame:
//   * every value is integral, in [0, max_adu()] (values above the full scale saturate at it,
//     values below 0 are clipped to 0);
//   * pixels are visited in row-major order and consume `rng` in that order, so the same engine
//     state gives the same frame (use record_frame for the (seed, frame) addressed stream);
//   * `photons` and `adu` must not overlap; photons must be finite and ≥ 0 (SMLM_ASSERT).
// Declared statistics. mean_adu(photons, pixel) and variance_adu(photons, pixel) are the mean and
//   variance of the value record writes at that pixel for that expected photon count, computed in
//   double, including the rounding to integer ADU (each model states how, and to what accuracy),
//   but ignoring saturation and clipping: they hold while the recorded distribution stays well
//   inside [0, max_adu()].
// to_photons(adu, photons). The photon estimate for analysis, pixel by pixel: the affine inverse of
//   mean_adu, so to_photons applied to mean_adu(p) gives p back (to rounding). `photons` may be the
//   very buffer `adu` views (in place); other overlaps are not allowed.
// Evaluation is const (a model is an immutable value; concurrent calls with different engines are
//   safe), noexcept (SMLM_NOEXCEPT where a precondition is asserted), allocates nothing, throws
//   nothing and writes only the buffers it is given; it builds with -fno-exceptions -fno-rtti.
//
// Required members of a model C (scalar = float or double):
//   using scalar = T;
//   template <bit_engine Rng>
//   void record(ConstImageView<scalar> photons, Rng& rng, ImageView<scalar> adu) const;
//   double mean_adu(double photons, Pixel pixel = {}) const;
//   double variance_adu(double photons, Pixel pixel = {}) const;
//   void to_photons(ConstImageView<scalar> adu, ImageView<scalar> photons) const;
//   scalar max_adu() const;     // the full scale: the largest value record writes
// (The concept checks record with Philox4x32, the library's engine.)
//
// A generic component states its requirement as `template <camera::Model C>`, or, for a readable
// error naming the missing member, `static_assert(camera::check_model<C>());`.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::camera {

/// A pixel of the frame: row y, column x (0-based).
struct Pixel {
  std::ptrdiff_t y = 0;
  std::ptrdiff_t x = 0;
  friend constexpr bool operator==(const Pixel&, const Pixel&) = default;
};

namespace detail {
template <class C>
concept declares_scalar = requires {
  typename C::scalar;
}
&&sampler_scalar<typename C::scalar>;
template <class C>
concept has_record = requires(const C& c, ConstImageView<typename C::scalar> photons, Philox4x32& rng,
                              ImageView<typename C::scalar> adu) {
  c.record(photons, rng, adu);
};
template <class C>
concept has_mean_adu = requires(const C& c, double photons, Pixel pixel) {
  { c.mean_adu(photons, pixel) } -> std::convertible_to<double>;
};
template <class C>
concept has_variance_adu = requires(const C& c, double photons, Pixel pixel) {
  { c.variance_adu(photons, pixel) } -> std::convertible_to<double>;
};
template <class C>
concept has_to_photons = requires(const C& c, ConstImageView<typename C::scalar> adu,
                                  ImageView<typename C::scalar> photons) {
  c.to_photons(adu, photons);
};
template <class C>
concept has_max_adu = requires(const C& c) {
  { c.max_adu() } -> std::convertible_to<typename C::scalar>;
};
}  // namespace detail

/// A camera model; see the contract at the top of this header.
template <class C>
concept Model = detail::declares_scalar<C> && detail::has_record<C> && detail::has_mean_adu<C> &&
    detail::has_variance_adu<C> && detail::has_to_photons<C> && detail::has_max_adu<C>;

/// true when C is a Model; otherwise fails to compile with a sentence naming what C lacks.
/// Use as `static_assert(camera::check_model<C>());`.
template <class C>
consteval bool check_model() {
  static_assert(detail::declares_scalar<C>,
                "camera::Model: the type must declare `using scalar = float;` (or double), the "
                "scalar of its images");
  if constexpr (detail::declares_scalar<C>) {
    static_assert(detail::has_record<C>,
                  "camera::Model: missing member `template <bit_engine Rng> void "
                  "record(ConstImageView<scalar> photons, Rng& rng, ImageView<scalar> adu) const`");
    static_assert(detail::has_mean_adu<C>,
                  "camera::Model: missing member `double mean_adu(double photons, Pixel) const`");
    static_assert(detail::has_variance_adu<C>,
                  "camera::Model: missing member `double variance_adu(double photons, Pixel) const`");
    static_assert(detail::has_to_photons<C>,
                  "camera::Model: missing member `void to_photons(ConstImageView<scalar> adu, "
                  "ImageView<scalar> photons) const`");
    static_assert(detail::has_max_adu<C>, "camera::Model: missing member `scalar max_adu() const`");
  }
  return Model<C>;
}

/// The engine of the camera-noise stream of one frame: (seed, frame, rng_purpose::camera).
constexpr Philox4x32 frame_engine(std::uint64_t seed, std::uint32_t frame) noexcept {
  return Philox4x32(seed, frame, rng_purpose::camera);
}

/// Records frame `frame` (0-based) with the stream frame_engine(seed, frame): the same
/// (seed, frame) gives the same ADU frame whichever thread or order frames are recorded in.
template <Model C>
void record_frame(const C& camera, ConstImageView<typename C::scalar> photons, std::uint64_t seed,
                  std::uint32_t frame, ImageView<typename C::scalar> adu) SMLM_NOEXCEPT {
  Philox4x32 rng = frame_engine(seed, frame);
  camera.record(photons, rng, adu);
}

namespace detail {
/// ⌊v + ½⌋ clamped to [0, full_scale]; NaN maps to 0 (with asserts compiled out).
template <class T>
inline T quantize_adu(double v, double full_scale) noexcept {
  const double r = std::floor(v + 0.5);
  return static_cast<T>(r > 0 ? (r < full_scale ? r : full_scale) : 0.0);
}

/// Preconditions shared by every model's record.
template <class T>
inline void check_record_args(const ConstImageView<T>& photons, const ImageView<T>& adu) SMLM_NOEXCEPT {
  SMLM_ASSERT(photons.rows() == adu.rows() && photons.cols() == adu.cols(),
              "camera::record: photons and adu must have the same size");
  (void)photons;
  (void)adu;
}
}  // namespace detail

}  // namespace smlm::camera
