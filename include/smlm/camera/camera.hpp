// The camera::Model concept: how a camera turns the photons arriving at each pixel during a frame
// into the counts it records (ADU), what mean and variance those counts have, and how counts are
// converted back to photons for analysis.
//
// Contract of every model (smlm/testing/camera_conformance.hpp checks it; the library's cameras pass it):
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
//   * `photons` and `adu` either do not overlap or are the very same view (in place: a model
//     reads each pixel's photons before it writes that pixel's ADU); photons must be finite and
//     ≥ 0 (SMLM_ASSERT).
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
// Optional hooks (detected with `requires`; the free functions below fall back when absent):
//   Frame dependence. A model whose response changes from frame to frame (CmosPhone's drifting,
//   dipping frame mean) also provides the overloads
//     record(photons, rng, adu, std::uint32_t frame), mean_adu(photons, pixel, frame),
//     variance_adu(photons, pixel, frame), to_photons(adu, photons, frame);
//   its frame-less members then describe frame 0. record_frame passes the frame index, and
//   record_at / mean_adu_at / variance_adu_at / to_photons_at dispatch for any model.
//   Linear range. `double linear_max_adu() const`: the largest recorded value up to which the
//   declared statistics hold (a response that compresses above it), default max_adu();
//   `double saturation_adu() const`: the declared mean (linear ADU) from which record writes
//   max_adu(), default max_adu().
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

namespace detail {
template <class C>
concept has_frame_record = requires(const C& c, ConstImageView<typename C::scalar> photons, Philox4x32& rng,
                                    ImageView<typename C::scalar> adu, std::uint32_t frame) {
  c.record(photons, rng, adu, frame);
};
template <class C>
concept has_frame_moments = requires(const C& c, double photons, Pixel pixel, std::uint32_t frame) {
  { c.mean_adu(photons, pixel, frame) } -> std::convertible_to<double>;
  { c.variance_adu(photons, pixel, frame) } -> std::convertible_to<double>;
};
template <class C>
concept has_frame_to_photons = requires(const C& c, ConstImageView<typename C::scalar> adu,
                                        ImageView<typename C::scalar> photons, std::uint32_t frame) {
  c.to_photons(adu, photons, frame);
};
template <class C>
concept has_linear_max_adu = requires(const C& c) {
  { c.linear_max_adu() } -> std::convertible_to<double>;
};
template <class C>
concept has_saturation_adu = requires(const C& c) {
  { c.saturation_adu() } -> std::convertible_to<double>;
};
}  // namespace detail

/// A model whose response depends on the frame index (all four frame overloads present).
template <class C>
concept FrameDependent = Model<C> && detail::has_frame_record<C> && detail::has_frame_moments<C> &&
    detail::has_frame_to_photons<C>;

/// Records frame `frame` with the engine given: the frame overload of a FrameDependent model,
/// record(photons, rng, adu) otherwise.
template <Model C, bit_engine Rng>
void record_at(const C& camera, ConstImageView<typename C::scalar> photons, Rng& rng, std::uint32_t frame,
               ImageView<typename C::scalar> adu) SMLM_NOEXCEPT {
  if constexpr (FrameDependent<C>) {
    camera.record(photons, rng, adu, frame);
  } else {
    (void)frame;
    camera.record(photons, rng, adu);
  }
}

/// Declared mean of frame `frame` (mean_adu(photons, pixel) for a frame-independent model).
template <Model C>
double mean_adu_at(const C& camera, double photons, Pixel pixel, std::uint32_t frame) SMLM_NOEXCEPT {
  if constexpr (FrameDependent<C>) {
    return camera.mean_adu(photons, pixel, frame);
  } else {
    (void)frame;
    return camera.mean_adu(photons, pixel);
  }
}

/// Declared variance of frame `frame`.
template <Model C>
double variance_adu_at(const C& camera, double photons, Pixel pixel, std::uint32_t frame) SMLM_NOEXCEPT {
  if constexpr (FrameDependent<C>) {
    return camera.variance_adu(photons, pixel, frame);
  } else {
    (void)frame;
    return camera.variance_adu(photons, pixel);
  }
}

/// ADU → photons for frame `frame`.
template <Model C>
void to_photons_at(const C& camera, ConstImageView<typename C::scalar> adu, std::uint32_t frame,
                   ImageView<typename C::scalar> photons) SMLM_NOEXCEPT {
  if constexpr (FrameDependent<C>) {
    camera.to_photons(adu, photons, frame);
  } else {
    (void)frame;
    camera.to_photons(adu, photons);
  }
}

/// The largest recorded value up to which the declared statistics hold.
template <Model C>
double linear_max_adu(const C& camera) noexcept {
  if constexpr (detail::has_linear_max_adu<C>) {
    return static_cast<double>(camera.linear_max_adu());
  } else {
    return static_cast<double>(camera.max_adu());
  }
}

/// The declared mean from which every recorded value is max_adu().
template <Model C>
double saturation_adu(const C& camera) noexcept {
  if constexpr (detail::has_saturation_adu<C>) {
    return static_cast<double>(camera.saturation_adu());
  } else {
    return static_cast<double>(camera.max_adu());
  }
}

/// Records frame `frame` (0-based) with the stream frame_engine(seed, frame): the same
/// (seed, frame) gives the same ADU frame whichever thread or order frames are recorded in.
template <Model C>
void record_frame(const C& camera, ConstImageView<typename C::scalar> photons, std::uint64_t seed,
                  std::uint32_t frame, ImageView<typename C::scalar> adu) SMLM_NOEXCEPT {
  Philox4x32 rng = frame_engine(seed, frame);
  record_at(camera, photons, rng, frame, adu);
}

/// Four random words fixed by (pattern seed, sensor pixel, salt): what a sensor's fixed pattern
/// (fixed-pattern noise, hot pixels) is drawn from. Word i is word i mod 4 of
/// Philox4x32::block({x, y, salt, 0xFFFF0000}, seed); the purpose word lies far above every
/// rng_purpose value, so these words never coincide with a frame stream's. A bit_engine, so
/// the library's samplers turn the words into numbers (at most four outputs before they repeat).
class PixelWords {
 public:
  PixelWords(std::uint64_t seed, Pixel sensor_pixel, std::uint32_t salt) noexcept
      : words_(Philox4x32::block({static_cast<std::uint32_t>(sensor_pixel.x), static_cast<std::uint32_t>(sensor_pixel.y),
                                  salt, 0xFFFF0000u},
                                 {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)})) {}
  std::uint32_t operator()() noexcept { return words_[next_++ & 3u]; }
  std::uint64_t next_u64() noexcept {
    const std::uint64_t hi = (*this)();
    return (hi << 32) | (*this)();
  }

 private:
  Philox4x32::block_type words_;
  unsigned next_ = 0;
};
static_assert(bit_engine<PixelWords>);

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
