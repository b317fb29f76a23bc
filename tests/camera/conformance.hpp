// The camera::Model conformance suite, written once for any model (camera.hpp states the contract
// it checks). conformance_test.cpp instantiates it for every model in the library; a user's own
// model can include this header and call the same checks.
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

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <smlm/camera/camera.hpp>
#include <smlm/core/image.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace smlm::camera::testing {

inline constexpr double z_limit = 5.0;

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
template <Model C>
std::vector<double> sample(const C& camera, double photons, std::uint64_t seed, int frames = 8,
                           Eigen::Index height = 128, Eigen::Index width = 128) {
  using T = typename C::scalar;
  const Image<T> expected = Image<T>::Constant(height, width, static_cast<T>(photons));
  Image<T> adu(height, width);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(frames * height * width));
  for (int f = 0; f < frames; ++f) {
    record_frame(camera, make_view(expected), seed, static_cast<std::uint32_t>(f), make_view(adu));
    for (Eigen::Index k = 0; k < adu.size(); ++k) values.push_back(static_cast<double>(adu.data()[k]));
  }
  return values;
}

/// Every value integral and within [0, max_adu()].
template <Model C>
void check_range(const C& camera, const std::vector<double>& values) {
  const double full = static_cast<double>(camera.max_adu());
  std::size_t bad = 0;
  for (double v : values) {
    if (!(v >= 0 && v <= full && v == std::floor(v))) ++bad;
  }
  CHECK_MESSAGE(bad == 0, bad << " values not integral or outside [0, " << full << "]");
}

/// Sample mean and variance against the declared ones at one photon level, pixel by pixel: with
/// d = x − mean_adu(p, pixel) and e = d² − variance_adu(p, pixel) over all N recorded values,
/// |mean(d)| ≤ z·sd(d)/√N and |mean(e)| ≤ z·sd(e)/√N. For a uniform model these are the
/// sample-mean and sample-variance checks of the header (sd(e)² estimates m4 − σ⁴); for a model
/// with per-pixel maps they pool the pixels without mixing their distributions.
/// Returns false when the level was skipped.
template <Model C>
bool check_moments(const C& camera, double photons, std::uint64_t seed, Eigen::Index height = 128,
                   Eigen::Index width = 128) {
  constexpr int frames = 8;
  const double full = linear_max_adu(camera);
  const auto pixels = static_cast<std::size_t>(height * width);
  std::vector<double> mean(pixels * frames), var(mean.size());
  bool skip = false, deterministic = true;
  for (std::uint32_t f = 0; f < frames; ++f) {
    for (Eigen::Index y = 0; y < height; ++y) {
      for (Eigen::Index x = 0; x < width; ++x) {
        const Pixel px{y, x};
        const auto i = f * pixels + static_cast<std::size_t>(y * width + x);
        mean[i] = mean_adu_at(camera, photons, px, f);
        var[i] = variance_adu_at(camera, photons, px, f);
        deterministic = deterministic && var[i] == 0;
        const double dark_mean = mean_adu_at(camera, 0, px, f), dark_var = variance_adu_at(camera, 0, px, f);
        const bool may_clip = dark_var > 0 && dark_mean - 8 * std::sqrt(dark_var) < 0 &&
                              mean[i] - 8 * std::sqrt(var[i]) < 0;
        if (may_clip || mean[i] + 8 * std::sqrt(var[i]) > full) skip = true;
      }
    }
  }
  if (skip) {
    MESSAGE("photons " << photons << ": skipped (declared distribution reaches 0 or full scale)");
    return false;
  }
  const std::vector<double> values = sample(camera, photons, seed, frames, height, width);
  check_range(camera, values);
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
  INFO("photons " << photons << " seed " << seed << " N " << n << ": declared mean, variance at (0,0) "
                  << mean[0] << ", " << var[0] << "; mean(x - mean) " << mean_d << " (SE " << se_d
                  << "), mean((x - mean)^2 - variance) " << mean_e << " (SE " << se_e << ")");
  if (deterministic) {
    CHECK(max_abs_d == 0);
    return true;
  }
  CHECK(std::abs(mean_d) <= z_limit * se_d);
  CHECK(std::abs(mean_e) <= z_limit * se_e);
  return true;
}

/// to_photons inverts mean_adu, in place and into a separate buffer alike (pixel k of the frame
/// holds mean_adu of level k mod levels.size()).
template <Model C>
void check_to_photons(const C& camera, const std::vector<double>& levels, Eigen::Index height = 128,
                      Eigen::Index width = 128) {
  using T = typename C::scalar;
  const double eps = std::numeric_limits<T>::epsilon();
  Image<T> adu(height, width);
  for (Eigen::Index y = 0; y < height; ++y)
    for (Eigen::Index x = 0; x < width; ++x)
      adu(y, x) = static_cast<T>(
          camera.mean_adu(levels[static_cast<std::size_t>(y * width + x) % levels.size()], Pixel{y, x}));
  Image<T> photons(height, width);
  camera.to_photons(make_view(std::as_const(adu)), make_view(photons));
  std::size_t bad = 0;
  for (Eigen::Index y = 0; y < height; ++y) {
    for (Eigen::Index x = 0; x < width; ++x) {
      const double p = levels[static_cast<std::size_t>(y * width + x) % levels.size()];
      const double got = photons(y, x);
      // mean_adu is stored in T: rounding it moves the estimate by ≤ ½ ulp(adu) · dp/dadu (the
      // declared mean is affine in p); allow 4 ulp of that plus 1e-12 relative for the arithmetic.
      const double dp_dadu = 1 / std::abs(camera.mean_adu(1, Pixel{y, x}) - camera.mean_adu(0, Pixel{y, x}));
      const double tol = 4 * eps * std::abs(double(adu(y, x))) * dp_dadu + 1e-12 * std::max(1.0, p);
      if (!(std::abs(got - p) <= tol)) {
        if (bad++ == 0)
          MESSAGE("pixel (" << y << ", " << x << "): photons " << p << " -> adu " << adu(y, x) << " -> "
                            << got);
      }
    }
  }
  CHECK(bad == 0);
  Image<T> in_place = adu;
  camera.to_photons(make_view(std::as_const(in_place)), make_view(in_place));
  CHECK((in_place == photons).all());
  if constexpr (FrameDependent<C>) {
    // Frame 5's declared mean inverts to the same photons through to_photons_at(…, 5, …).
    const std::uint32_t frame = 5;
    for (Eigen::Index y = 0; y < height; ++y)
      for (Eigen::Index x = 0; x < width; ++x)
        adu(y, x) = static_cast<T>(mean_adu_at(
            camera, levels[static_cast<std::size_t>(y * width + x) % levels.size()], Pixel{y, x}, frame));
    to_photons_at(camera, make_view(std::as_const(adu)), frame, make_view(in_place));
    double worst = 0;
    for (Eigen::Index y = 0; y < height; ++y) {
      for (Eigen::Index x = 0; x < width; ++x) {
        const double p = levels[static_cast<std::size_t>(y * width + x) % levels.size()];
        const double dp_dadu =
            1 / std::abs(mean_adu_at(camera, 1, Pixel{y, x}, frame) - mean_adu_at(camera, 0, Pixel{y, x}, frame));
        const double tol = 4 * eps * std::abs(double(adu(y, x))) * dp_dadu + 1e-12 * std::max(1.0, p);
        worst = std::max(worst, std::abs(double(in_place(y, x)) - p) / tol);
      }
    }
    CHECK(worst <= 1);
  }
}

/// Same (seed, frame) → identical frame; another frame index or seed → a different frame.
/// `photons` must be a level at which the camera is noisy.
template <Model C>
void check_reproducible(const C& camera, double photons, std::uint64_t seed, Eigen::Index height = 128,
                        Eigen::Index width = 128) {
  using T = typename C::scalar;
  const Image<T> expected = Image<T>::Constant(height, width, static_cast<T>(photons));
  Image<T> a(height, width), b(height, width), c(height, width), d(height, width);
  record_frame(camera, make_view(expected), seed, 3, make_view(a));
  record_frame(camera, make_view(expected), seed, 3, make_view(b));
  record_frame(camera, make_view(expected), seed, 4, make_view(c));
  record_frame(camera, make_view(expected), seed + 1, 3, make_view(d));
  CHECK((a == b).all());
  CHECK((a != c).any());
  CHECK((a != d).any());
  Philox4x32 rng = frame_engine(seed, 3);
  record_at(camera, make_view(expected), rng, 3, make_view(b));
  CHECK((a == b).all());
  // In place (adu is the photons buffer itself) gives the same frame.
  Image<T> in_place = expected;
  record_frame(camera, make_view(std::as_const(in_place)), seed, 3, make_view(in_place));
  CHECK((in_place == a).all());
}

/// A frame spanning zero to far beyond full scale stays integral and within [0, max_adu()], and
/// pixels whose declared mean lies 8 SD above saturation_adu() (max_adu() unless the response
/// compresses) read exactly max_adu().
template <Model C>
void check_saturation(const C& camera, std::uint64_t seed, Eigen::Index height = 128,
                      Eigen::Index width = 128) {
  using T = typename C::scalar;
  const double full = static_cast<double>(camera.max_adu()), saturation = saturation_adu(camera);
  Image<T> expected(height, width);
  for (Eigen::Index k = 0; k < expected.size(); ++k)
    expected.data()[k] =
        static_cast<T>(k % 4 == 0 ? 0.0 : std::pow(10.0, 0.01 * static_cast<double>(k % 1000)));
  Image<T> adu(height, width);
  record_frame(camera, make_view(std::as_const(expected)), seed, 0, make_view(adu));
  std::vector<double> values(adu.data(), adu.data() + adu.size());
  check_range(camera, values);
  std::size_t above = 0, saturated = 0;
  for (Eigen::Index y = 0; y < height; ++y) {
    for (Eigen::Index x = 0; x < width; ++x) {
      const double p = expected(y, x);
      if (camera.mean_adu(p, Pixel{y, x}) - 8 * std::sqrt(camera.variance_adu(p, Pixel{y, x})) > saturation) {
        ++above;
        if (static_cast<double>(adu(y, x)) == full) ++saturated;
      }
    }
  }
  CHECK(above > 0);
  CHECK(saturated == above);
}

/// The whole suite for one model; a model with per-pixel maps is checked on frames of its maps'
/// size (height × width).
/// Each model of `bad` (parameters out of range) reports !valid(), and recording with it
/// violates record's precondition (SMLM_ASSERT, which throws in the tests).
template <Model C>
void check_rejected(const std::vector<C>& bad) {
  using T = typename C::scalar;
  const Image<T> photons = Image<T>::Constant(2, 2, T(1));
  Image<T> adu(2, 2);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    CAPTURE(i);
    CHECK_FALSE(bad[i].valid());
    CHECK_THROWS_AS(record_frame(bad[i], make_view(photons), 1, 0, make_view(adu)), assertion_error);
  }
}

inline const std::vector<double> default_levels = {0, 0.5, 5, 50, 500, 5000};

/// `levels`: the photon levels whose moments are checked (each may still be skipped, see
/// check_moments); a model with a narrow linear range names levels inside it.
template <Model C>
void check_all(const C& camera, std::uint64_t seed, Eigen::Index height = 128, Eigen::Index width = 128,
               const std::vector<double>& levels = default_levels) {
  MESSAGE("camera conformance seed " << seed);
  int tested = 0;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    CAPTURE(levels[i]);
    tested += check_moments(camera, levels[i], seed + i, height, width) ? 1 : 0;
  }
  CHECK_MESSAGE(tested > 0, "every photon level was skipped: no moment was checked");
  check_to_photons(camera, levels, height, width);
  check_reproducible(camera, 50, seed, height, width);
  check_saturation(camera, seed, height, width);
}

}  // namespace smlm::camera::testing
