// The camera::Model conformance suite, written once for any model (camera/camera.hpp states the
// contract it checks). The library's own cameras pass it (tests/camera/conformance_test.cpp); a
// user's camera is checked the same way:
//
//   const smlm::testing::Report r = smlm::testing::check_camera<MyCamera<float>>({"default", MyCamera<float>{}, 0x5EED});
//   if (!r.passed()) std::fputs(r.summary().c_str(), stderr);
//
// Every check's name starts with one of camera_checks (below), then the scalar type in angle
// brackets and the case name in square ones.
//
// Statistics. At each photon level a constant expected image is recorded as `frames` frames of
// height × width pixels, frame f with the stream record_frame(seed, f) (N = 8 · 128 · 128 =
// 131072 samples by default). Each recorded value x at pixel i is compared with that pixel's
// declared moments μ_i = mean_adu(p, i), v_i = variance_adu(p, i) through d = x − μ_i and
// e = d² − v_i, both of mean 0 when the declaration is right; the checks are
//   |mean(d)| ≤ z · SE_d,  SE_d = sd(d)/√N   (for a uniform model: sample mean vs declared mean,
//                                             SE = √(s²/N));
//   |mean(e)| ≤ z · SE_e,  SE_e = sd(e)/√N   (for a uniform model: sample variance about the
//                                             declared mean vs declared variance, SE = √((m4 − s⁴)/N)
//                                             with the central fourth moment m4 from the sample),
// with z = 5 (two-sided false-alarm probability 5.7e-7 per check). A deterministic level (variance
// 0) must reproduce mean_adu exactly. mean_adu/variance_adu include rounding to integer ADU by
// contract (camera.hpp), so nothing is added here. The declared moments ignore clipping and
// saturation, so a level is skipped when mean + 8 SD exceeds linear_max_adu() (max_adu() unless
// the model's response compresses) at some pixel, or when clipping at 0 is possible at some
// pixel: the dark distribution (0 photons) comes within 8 SD of 0 ADU — signal only adds to the
// dark level, so clipping at 0 is possible only then (a skewed EMCCD output at low signal is not
// clipped by its long tail) — and the level's own mean lies within 8 SD of 0 too (its lower tail
// is no heavier than a normal's for every model here: Poisson, gamma and normal parts). Frame
// f's values are compared with the moments declared for frame f (mean_adu_at, variance_adu_at:
// a FrameDependent model's response changes between frames). Saturation and clipping are
// checked separately (values in [0, max_adu()] for a frame that saturates; model-specific tests).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/testing/report.hpp>

namespace smlm::testing {

inline constexpr double z_limit = 5.0;

/// The checks check_camera runs, as the first word of each check's name.
inline constexpr std::array<std::string_view, 6> camera_checks = {"levels",       "moments",     "range",
                                                                   "to_photons",   "reproducible", "saturation"};

/// The photon levels whose moments check_camera checks unless a case names others.
inline const std::vector<double> default_levels = {0, 0.5, 5, 50, 500, 5000};

/// One configuration to check: a camera, the seed of its streams, a frame size (a model with
/// per-pixel maps is checked on frames of its maps' size) and the photon levels whose moments are
/// checked (each may still be skipped, see check_camera_moments; a model with a narrow linear
/// range names levels inside it).
template <class C>
struct CameraCase {
  std::string name;
  C camera;
  std::uint64_t seed = 1;
  Eigen::Index height = 128, width = 128;
  std::vector<double> levels = default_levels;
};

/// Sample moments of a set of recorded values.
struct Moments {
  double n = 0;
  double mean = 0;
  double variance = 0;  ///< unbiased
  double m4 = 0;        ///< central fourth moment
  double se_mean() const { return std::sqrt(variance / n); }
  double se_variance() const { return std::sqrt(std::max(m4 - variance * variance, 0.0) / n); }
};

inline Moments moments(const std::vector<double>& v) {
  Moments m;
  m.n = static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += x;
  m.mean = sum / m.n;
  double s2 = 0, s4 = 0;
  for (double x : v) {
    const double d = (x - m.mean) * (x - m.mean);
    s2 += d;
    s4 += d * d;
  }
  m.variance = s2 / (m.n - 1);
  m.m4 = s4 / m.n;
  return m;
}

/// `frames` frames of a constant expected image, frame f recorded with record_frame(seed, f).
template <camera::Model C>
std::vector<double> sample(const C& camera, double photons, std::uint64_t seed, int frames = 8,
                           Eigen::Index height = 128, Eigen::Index width = 128) {
  using T = typename C::scalar;
  const Image<T> expected = Image<T>::Constant(height, width, static_cast<T>(photons));
  Image<T> adu(height, width);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(frames * height * width));
  for (int f = 0; f < frames; ++f) {
    camera::record_frame(camera, make_view(expected), seed, static_cast<std::uint32_t>(f), make_view(adu));
    for (Eigen::Index k = 0; k < adu.size(); ++k) values.push_back(static_cast<double>(adu.data()[k]));
  }
  return values;
}

namespace detail {
template <class C>
std::string label(std::string_view check, const CameraCase<C>& c, std::string_view what = {}) {
  return check_name<typename C::scalar>(check, c.name, what);
}
inline std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}
}  // namespace detail

/// Every value integral and within [0, max_adu()]; `measured` is the number of values that are not.
template <camera::Model C>
void check_camera_range(const C& camera, const std::vector<double>& values, std::string name, Report& r) {
  const double full = static_cast<double>(camera.max_adu());
  std::size_t bad = 0;
  for (double v : values)
    if (!(v >= 0 && v <= full && v == std::floor(v))) ++bad;
  r.expect_le(std::move(name) + ": values not integral or outside [0, " + detail::number(full) + "]",
              static_cast<double>(bad), 0.0);
}

/// Sample mean and variance against the declared ones at one photon level, pixel by pixel: with
/// d = x − mean_adu(p, pixel) and e = d² − variance_adu(p, pixel) over all N recorded values,
/// |mean(d)| ≤ z·sd(d)/√N and |mean(e)| ≤ z·sd(e)/√N. For a uniform model these are the
/// sample-mean and sample-variance checks of the header (sd(e)² estimates m4 − σ⁴); for a model
/// with per-pixel maps they pool the pixels without mixing their distributions.
/// Returns false when the level was skipped (nothing recorded).
template <camera::Model C>
bool check_camera_moments(const CameraCase<C>& c, double photons, std::uint64_t seed, Report& r) {
  constexpr int frames = 8;
  const C& camera = c.camera;
  const Eigen::Index height = c.height, width = c.width;
  const double full = camera::linear_max_adu(camera);
  const auto pixels = static_cast<std::size_t>(height * width);
  std::vector<double> mean(pixels * frames), var(mean.size());
  bool skip = false, deterministic = true;
  for (std::uint32_t f = 0; f < frames; ++f) {
    for (Eigen::Index y = 0; y < height; ++y) {
      for (Eigen::Index x = 0; x < width; ++x) {
        const camera::Pixel px{y, x};
        const auto i = f * pixels + static_cast<std::size_t>(y * width + x);
        mean[i] = camera::mean_adu_at(camera, photons, px, f);
        var[i] = camera::variance_adu_at(camera, photons, px, f);
        deterministic = deterministic && var[i] == 0;
        const double dark_mean = camera::mean_adu_at(camera, 0, px, f);
        const double dark_var = camera::variance_adu_at(camera, 0, px, f);
        const bool may_clip = dark_var > 0 && dark_mean - 8 * std::sqrt(dark_var) < 0 &&
                              mean[i] - 8 * std::sqrt(var[i]) < 0;
        if (may_clip || mean[i] + 8 * std::sqrt(var[i]) > full) skip = true;
      }
    }
  }
  if (skip) return false;
  const std::vector<double> values = sample(camera, photons, seed, frames, height, width);
  const std::string level = "photons " + detail::number(photons) + " (seed " + std::to_string(seed) + ")";
  check_camera_range(camera, values, detail::label("range", c, level), r);
  double sum_d = 0, sum_d2 = 0, sum_e = 0, sum_e2 = 0, max_abs_d = 0;
  for (std::size_t k = 0; k < values.size(); ++k) {
    const std::size_t i = k % mean.size();
    const double d = values[k] - mean[i], e = d * d - var[i];
    sum_d += d;
    sum_d2 += d * d;
    sum_e += e;
    sum_e2 += e * e;
    max_abs_d = std::max(max_abs_d, std::abs(d));
  }
  const double n = static_cast<double>(values.size());
  const double mean_d = sum_d / n, mean_e = sum_e / n;
  const double se_d = std::sqrt(std::max(sum_d2 / n - mean_d * mean_d, 0.0) / (n - 1));
  const double se_e = std::sqrt(std::max(sum_e2 / n - mean_e * mean_e, 0.0) / (n - 1));
  if (deterministic) {
    r.expect_le(detail::label("moments", c, level + ": deterministic, max |x - mean_adu|"), max_abs_d, 0.0);
    return true;
  }
  const std::string declared =
      " (declared mean " + detail::number(mean[0]) + ", variance " + detail::number(var[0]) + " at pixel (0, 0))";
  r.expect_le(detail::label("moments", c, level + ": |mean(x - mean_adu)| vs 5 SE" + declared), std::abs(mean_d),
              z_limit * se_d);
  r.expect_le(detail::label("moments", c, level + ": |mean((x - mean_adu)^2 - variance_adu)| vs 5 SE" + declared),
              std::abs(mean_e), z_limit * se_e);
  return true;
}

/// to_photons inverts mean_adu, in place and into a separate buffer alike (pixel k of the frame
/// holds mean_adu of level k mod levels.size()); `measured` is the worst error in units of the
/// tolerance, which is 4 ulp of the ADU value (mean_adu is stored in T: rounding it moves the
/// estimate by ≤ ½ ulp(adu) · dp/dadu, the declared mean being affine in p) plus 1e-12 relative.
template <camera::Model C>
void check_camera_to_photons(const CameraCase<C>& c, Report& r) {
  using T = typename C::scalar;
  const C& camera = c.camera;
  const std::vector<double>& levels = c.levels;
  const Eigen::Index height = c.height, width = c.width;
  const double eps = std::numeric_limits<T>::epsilon();
  const auto level_at = [&](Eigen::Index y, Eigen::Index x) {
    return levels[static_cast<std::size_t>(y * width + x) % levels.size()];
  };
  const auto worst_error = [&](const Image<T>& adu, const Image<T>& photons, std::uint32_t frame) {
    double worst = 0;
    for (Eigen::Index y = 0; y < height; ++y) {
      for (Eigen::Index x = 0; x < width; ++x) {
        const double p = level_at(y, x);
        const double dp_dadu = 1 / std::abs(camera::mean_adu_at(camera, 1, camera::Pixel{y, x}, frame) -
                                            camera::mean_adu_at(camera, 0, camera::Pixel{y, x}, frame));
        const double tol = 4 * eps * std::abs(double(adu(y, x))) * dp_dadu + 1e-12 * std::max(1.0, p);
        const double e = std::abs(double(photons(y, x)) - p) / tol;
        if (!(e <= worst)) worst = e;
      }
    }
    return worst;
  };
  Image<T> adu(height, width);
  for (Eigen::Index y = 0; y < height; ++y)
    for (Eigen::Index x = 0; x < width; ++x) adu(y, x) = static_cast<T>(camera.mean_adu(level_at(y, x), camera::Pixel{y, x}));
  Image<T> photons(height, width);
  camera.to_photons(make_view(std::as_const(adu)), make_view(photons));
  r.expect_le(detail::label("to_photons", c, "inverts mean_adu: worst error / tolerance"), worst_error(adu, photons, 0),
              1.0);
  Image<T> in_place = adu;
  camera.to_photons(make_view(std::as_const(in_place)), make_view(in_place));
  r.expect(detail::label("to_photons", c, "in place gives the same photons"), (in_place == photons).all());
  if constexpr (camera::FrameDependent<C>) {
    // Frame 5's declared mean inverts to the same photons through to_photons_at(…, 5, …).
    const std::uint32_t frame = 5;
    for (Eigen::Index y = 0; y < height; ++y)
      for (Eigen::Index x = 0; x < width; ++x)
        adu(y, x) = static_cast<T>(camera::mean_adu_at(camera, level_at(y, x), camera::Pixel{y, x}, frame));
    camera::to_photons_at(camera, make_view(std::as_const(adu)), frame, make_view(in_place));
    r.expect_le(detail::label("to_photons", c, "frame 5 inverts mean_adu_at: worst error / tolerance"),
                worst_error(adu, in_place, frame), 1.0);
  }
}

/// Same (seed, frame) → identical frame; another frame index or seed → a different frame.
/// `photons` must be a level at which the camera is noisy.
template <camera::Model C>
void check_camera_reproducible(const CameraCase<C>& c, double photons, Report& r) {
  using T = typename C::scalar;
  const C& camera = c.camera;
  const std::uint64_t seed = c.seed;
  const Image<T> expected = Image<T>::Constant(c.height, c.width, static_cast<T>(photons));
  Image<T> a(c.height, c.width), b(c.height, c.width), d(c.height, c.width), e(c.height, c.width);
  camera::record_frame(camera, make_view(expected), seed, 3, make_view(a));
  camera::record_frame(camera, make_view(expected), seed, 3, make_view(b));
  camera::record_frame(camera, make_view(expected), seed, 4, make_view(d));
  camera::record_frame(camera, make_view(expected), seed + 1, 3, make_view(e));
  r.expect(detail::label("reproducible", c, "same seed and frame: same frame"), (a == b).all());
  r.expect(detail::label("reproducible", c, "another frame index: another frame"), (a != d).any());
  r.expect(detail::label("reproducible", c, "another seed: another frame"), (a != e).any());
  Philox4x32 rng = camera::frame_engine(seed, 3);
  camera::record_at(camera, make_view(expected), rng, 3, make_view(b));
  r.expect(detail::label("reproducible", c, "record_at with frame_engine(seed, frame) = record_frame"), (a == b).all());
  Image<T> in_place = expected;  // adu is the photons buffer itself
  camera::record_frame(camera, make_view(std::as_const(in_place)), seed, 3, make_view(in_place));
  r.expect(detail::label("reproducible", c, "in place gives the same frame"), (in_place == a).all());
}

/// A frame spanning zero to far beyond full scale stays integral and within [0, max_adu()], and
/// pixels whose declared mean lies 8 SD above saturation_adu() (max_adu() unless the response
/// compresses) read exactly max_adu().
template <camera::Model C>
void check_camera_saturation(const CameraCase<C>& c, Report& r) {
  using T = typename C::scalar;
  const C& camera = c.camera;
  const double full = static_cast<double>(camera.max_adu()), saturation = camera::saturation_adu(camera);
  Image<T> expected(c.height, c.width);
  for (Eigen::Index k = 0; k < expected.size(); ++k)
    expected.data()[k] = static_cast<T>(k % 4 == 0 ? 0.0 : std::pow(10.0, 0.01 * static_cast<double>(k % 1000)));
  Image<T> adu(c.height, c.width);
  camera::record_frame(camera, make_view(std::as_const(expected)), c.seed, 0, make_view(adu));
  check_camera_range(camera, std::vector<double>(adu.data(), adu.data() + adu.size()),
                     detail::label("range", c, "0 to 1e10 photons"), r);
  std::size_t above = 0, saturated = 0;
  for (Eigen::Index y = 0; y < c.height; ++y) {
    for (Eigen::Index x = 0; x < c.width; ++x) {
      const double p = expected(y, x);
      if (camera.mean_adu(p, camera::Pixel{y, x}) - 8 * std::sqrt(camera.variance_adu(p, camera::Pixel{y, x})) >
          saturation) {
        ++above;
        if (static_cast<double>(adu(y, x)) == full) ++saturated;
      }
    }
  }
  r.expect_ge(detail::label("saturation", c, "pixels 8 SD above saturation"), static_cast<double>(above), 1.0);
  r.expect_le(detail::label("saturation", c, "of those, pixels not reading max_adu()"),
              static_cast<double>(above - saturated), 0.0);
}

/// Every check of the suite on one case.
template <camera::Model C>
Report check_camera(const CameraCase<C>& c) {
  Report r;
  int tested = 0;
  for (std::size_t i = 0; i < c.levels.size(); ++i) tested += check_camera_moments(c, c.levels[i], c.seed + i, r) ? 1 : 0;
  // Levels whose declared distribution reaches 0 or full scale are skipped; not all of them.
  r.expect_ge(detail::label("levels", c, "photon levels whose moments were checked"), tested, 1.0);
  check_camera_to_photons(c, r);
  check_camera_reproducible(c, 50, r);
  check_camera_saturation(c, r);
  return r;
}

/// Every check of the suite on every case.
template <camera::Model C>
Report check_camera(const std::vector<CameraCase<C>>& cases) {
  Report r;
  r.expect("cases: at least one", !cases.empty());
  for (const CameraCase<C>& c : cases) r.append(check_camera(c));
  return r;
}

/// Each model of `bad` (parameters out of range) reports !valid(); where SMLM_ASSERT throws
/// (SMLM_ASSERT_THROWS), recording with it must violate record's precondition too.
template <camera::Model C>
Report check_camera_rejected(const std::vector<C>& bad) {
  using T = typename C::scalar;
  Report r;
  const Image<T> photons = Image<T>::Constant(2, 2, T(1));
  Image<T> adu(2, 2);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const std::string which = detail::check_name<T>("rejected", "bad model " + std::to_string(i), {});
    r.expect(which + " valid() is false", !bad[i].valid());
#if defined(SMLM_ASSERT_THROWS)
    bool asserted = false;
    try {
      camera::record_frame(bad[i], make_view(photons), 1, 0, make_view(adu));
    } catch (const assertion_error&) {
      asserted = true;
    }
    r.expect(which + " record_frame violates its precondition", asserted);
#endif
  }
  return r;
}

}  // namespace smlm::testing
