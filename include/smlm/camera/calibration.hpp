// Photon-transfer-curve (PTC) calibration: offset (ADU), gain (e⁻/ADU) and read noise (e⁻) of a
// camera from a stack of frames, by a weighted fit of each pixel's temporal variance against its
// temporal mean (the mean–variance method of EMVA 1288, "Standard for characterization of image
// sensors and cameras", release 4.0 (2021), §6; J. R. Janesick, Photon Transfer, SPIE (2007)).
//
// Input. PixelStatistics accumulates, frame by frame, per-pixel sums (so a long stack never has to
// be in memory): the stack should hold flat or defocused illumination at several intensities,
// either as regions of different brightness or as a sequence, and — unless the offset is known —
// some pixels that receive no light (dark frames or a covered region), as EMVA 1288 records
// dark images beside its flats. Each pixel's intensity must be constant over the frames it is
// accumulated over: moving or blinking signal inflates the temporal variance (such pixels are
// mostly removed as outliers, see 3).
//
// Model. A pixel of a linear camera with temporal mean m (ADU) has temporal variance
//   s² = F²·G·(m − o) + σ² + q,
// with o the offset (ADU), G the conversion (ADU per photoelectron; gain = 1/G e⁻/ADU), σ the
// read noise (ADU), q the variance of rounding to integer ADU (1/12, Sheppard; 0 for a camera
// whose signal is already integral, e.g. an ideal photon counter) and F² the squared excess noise
// factor (1 for CCD/CMOS, 2 for an EMCCD with gain: the gamma EM register doubles the shot-noise
// variance, see emccd.hpp). So s² is a line a + b·m with b = F²·G, a = σ² + q − b·o.
//
// Estimator.
//  1. Usable pixels: those whose smallest value over the frames lies above clip_min_adu (never
//     clipped at zero) and whose largest lies below linear_max_adu (never saturated or in the
//     compressed part of the response); values on the far side bias both moments.
//  2. Weighted least squares of s²_i on m_i over usable pixels, iteratively reweighted: the
//     sampling variance of s² is ≈ 2·v²/(N − 1) for N frames (v the line's value; exact for normal
//     data, and only the relative weights matter), so the weights are 1/v̂(m_i)², v̂ from the
//     previous iteration (the first is unweighted). Weighting by the pixel's own s² instead would
//     bias the line low.
//  3. Outliers (blinking emitters, hot pixels): standardized residuals r_i = (s²_i − v̂_i)/v̂_i
//     beyond outlier_z robust SDs (1.4826·MAD of r) are dropped, and the fit repeated.
//  4. Gain: e⁻/ADU = F²/b. The slope's standard error must be below 5 % of it and the spatial
//     variance of the fitted pixels' means more than 10 times what their temporal noise alone
//     gives (var(m_i) vs mean(s²_i)/N), else the stack has no usable intensity spread (an
//     error, not a guess: in a uniform flat the mean–variance correlation of a skewed
//     distribution alone makes a slope).
//  5. Offset: offset_adu when given; otherwise the dark level. The dark pixels are the lowest
//     cluster of pixel means (sorted means split wherever consecutive means differ by more than
//     max(0.5 ADU, 8 temporal SE of a mean)), which must hold at least min_pixels pixels and leave
//     at least min_pixels illuminated pixels above it. Its values are pooled; when some are
//     clipped (≤ clip_min_adu, e.g. the cellphone camera's dark level 1.1 SD above 0) the offset
//     is the mean of a normal left-censored at clip_min_adu + ½, fitted by EM (Dempster, Laird &
//     Rubin 1977, the censored-normal case), else the pooled mean. The pooled values include the
//     pixels' fixed-pattern spread, which moves the mean by nothing and is not used for σ.
//     Mean and variance alone cannot tell a dimly lit region from a dark one (offset and read
//     noise trade along the line): a stack without dark pixels whose dimmest region is
//     separated from the rest gets that region's level as its offset. Give offset_adu then.
//  6. Read noise: σ² = mean temporal variance of the dark pixels − q when none of their values is
//     clipped, else a + b·o − q (the line at the dark level; an extrapolation that is precise only
//     when b·o is not ≫ σ², true of the cellphone camera, not of an EMCCD). Both are temporal
//     variances, so fixed-pattern noise does not enter. σ in ADU, and σ·F²/b in e⁻; clamped at 0.
// For an EMCCD (F² = 2) the gain and read noise are referred to the photoelectrons entering the
// EM register: gain = e_per_adu/em_gain and read noise = read_noise_e/em_gain in Emccd's terms,
// and clock-induced charge counts into the dark level and the read noise.
// Saturation and the cellphone's compressed range are excluded by linear_max_adu (step 1); the
// frame-mean drift of CmosPhone adds < 0.2 % to s² at 200 ADU and is not corrected.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <vector>

namespace smlm::camera {

/// Per-pixel temporal sums of a stack, added frame by frame. Values ≤ low_adu (clipped, by
/// default 0) are counted separately; the sums hold the others.
class PixelStatistics {
 public:
  PixelStatistics() = default;
  PixelStatistics(std::ptrdiff_t height, std::ptrdiff_t width, double low_adu = 0)
      : low_adu_(low_adu),
        sum_(Image<double>::Zero(height, width)),
        sum2_(Image<double>::Zero(height, width)),
        low_(Image<double>::Zero(height, width)),
        min_(Image<double>::Constant(height, width, std::numeric_limits<double>::infinity())),
        max_(Image<double>::Constant(height, width, -std::numeric_limits<double>::infinity())) {}

  /// Adds one frame; it must have the statistics' size and finite values.
  template <class T>
  Status add_frame(ConstImageView<T> frame) {
    if (frame.rows() != height() || frame.cols() != width())
      return make_error(errc::invalid_argument, "calibration: frame ", frames_ + 1, " is ", frame.cols(), "x",
                        frame.rows(), ", expected ", width(), "x", height());
    for (Eigen::Index y = 0; y < frame.rows(); ++y) {
      for (Eigen::Index x = 0; x < frame.cols(); ++x) {
        const double v = static_cast<double>(frame(y, x));
        if (!std::isfinite(v))
          return make_error(errc::invalid_argument, "calibration: frame ", frames_ + 1, " pixel (", x, ", ", y,
                            ") is not finite (", v, ")");
        if (v <= low_adu_) {
          low_(y, x) += 1;
        } else {
          sum_(y, x) += v;
          sum2_(y, x) += v * v;
        }
        min_(y, x) = std::min(min_(y, x), v);
        max_(y, x) = std::max(max_(y, x), v);
      }
    }
    ++frames_;
    return {};
  }
  template <class T>
  Status add_frame(const Image<T>& frame) {
    return add_frame(make_view(frame));
  }

  std::ptrdiff_t height() const noexcept { return sum_.rows(); }
  std::ptrdiff_t width() const noexcept { return sum_.cols(); }
  std::ptrdiff_t frames() const noexcept { return frames_; }
  double low_adu() const noexcept { return low_adu_; }

  /// Values ≤ low_adu() at the pixel.
  double low_count(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept { return low_(y, x); }
  /// Sum and sum of squares of the values > low_adu().
  double sum(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept { return sum_(y, x); }
  double sum_squares(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept { return sum2_(y, x); }
  double min(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept { return min_(y, x); }
  double max(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept { return max_(y, x); }
  /// Temporal mean over all frames (values ≤ low_adu() counted as low_adu()).
  double mean(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept {
    return (sum_(y, x) + low_(y, x) * low_adu_) / static_cast<double>(frames_);
  }
  /// Unbiased temporal variance over all frames (same convention); needs ≥ 2 frames.
  double variance(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept {
    const double n = static_cast<double>(frames_), m = mean(y, x);
    const double s2 = sum2_(y, x) + low_(y, x) * low_adu_ * low_adu_;
    return std::max(s2 - n * m * m, 0.0) / (n - 1);
  }

 private:
  double low_adu_ = 0;
  Image<double> sum_, sum2_, low_, min_, max_;
  std::ptrdiff_t frames_ = 0;
};

struct CalibrationOptions {
  double excess_noise_factor_sq = 1;  ///< F²: 1 for CCD/CMOS/sCMOS, 2 for an EMCCD with gain
  double offset_adu = std::numeric_limits<double>::quiet_NaN();  ///< known offset; NaN: from the dark pixels
  double linear_max_adu = std::numeric_limits<double>::infinity();  ///< pixels reaching it are excluded
  double clip_min_adu = 0;  ///< pixels with a value ≤ it are excluded from the fit (clipped); must
                            ///< equal the statistics' low_adu() for the censored dark fit
  double quantization_variance_adu2 = 1.0 / 12;  ///< q; 0 for an integral signal (ideal camera)
  std::ptrdiff_t min_frames = 8;   ///< fewer frames is an error
  std::ptrdiff_t min_pixels = 16;  ///< fewest usable (and dark) pixels
  double outlier_z = 5;            ///< outlier threshold in robust SDs of the standardized residuals
};

struct Calibration {
  double offset_adu = 0;      ///< dark level, ADU
  double e_per_adu = 0;       ///< gain, photoelectrons per ADU (input-referred for an EMCCD)
  double read_noise_e = 0;    ///< read noise, rms e⁻ (input-referred for an EMCCD)
  double read_noise_adu = 0;  ///< read noise, rms ADU
  double slope = 0;           ///< b of s² = a + b·m
  double slope_se = 0;        ///< its standard error
  double intercept_adu2 = 0;  ///< a
  std::ptrdiff_t frames = 0;
  std::ptrdiff_t pixels_used = 0;  ///< in the final fit
  std::ptrdiff_t dark_pixels = 0;  ///< 0 when the offset was given
  double mean_min_adu = 0, mean_max_adu = 0;  ///< span of the fitted pixels' means
};

namespace detail {

struct PtcPoint {
  double mean, variance;
};

struct LineFit {
  double a = 0, b = 0, b_se = std::numeric_limits<double>::infinity();
  bool ok = false;
};

/// Weighted least squares of variance on mean (weights w).
inline LineFit weighted_line(const std::vector<PtcPoint>& pts, const std::vector<double>& w) {
  double sw = 0, sx = 0, sy = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    sw += w[i];
    sx += w[i] * pts[i].mean;
    sy += w[i] * pts[i].variance;
  }
  LineFit fit;
  if (!(sw > 0) || pts.size() < 3) return fit;
  const double mx = sx / sw, my = sy / sw;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    sxx += w[i] * (pts[i].mean - mx) * (pts[i].mean - mx);
    sxy += w[i] * (pts[i].mean - mx) * (pts[i].variance - my);
  }
  if (!(sxx > 0)) return fit;
  fit.b = sxy / sxx;
  fit.a = my - fit.b * mx;
  double rss = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double r = pts[i].variance - fit.a - fit.b * pts[i].mean;
    rss += w[i] * r * r;
  }
  fit.b_se = std::sqrt(rss / static_cast<double>(pts.size() - 2) / sxx);
  fit.ok = true;
  return fit;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

/// Mean of a normal left-censored at c from n0 censored values and n1 others with sum s1 and
/// sum of squares s2, by EM (from the uncensored moments).
inline double censored_normal_mean(double n0, double n1, double s1, double s2, double c) {
  double mu = s1 / n1, var = std::max(s2 / n1 - mu * mu, 1e-12);
  const double n = n0 + n1;
  constexpr double inv_sqrt_2pi = 0.398942280401432677940;
  for (int it = 0; it < 500; ++it) {
    const double sd = std::sqrt(var), alpha = (c - mu) / sd;
    const double cdf = 0.5 * std::erfc(-alpha / std::sqrt(2.0));
    if (!(cdf > 1e-300)) break;
    const double lambda = inv_sqrt_2pi * std::exp(-0.5 * alpha * alpha) / cdf;
    const double e1 = mu - sd * lambda, e2 = mu * mu + var - sd * (c + mu) * lambda;
    const double mu_next = (s1 + n0 * e1) / n;
    const double var_next = std::max((s2 + n0 * e2) / n - mu_next * mu_next, 1e-12);
    const bool converged = std::abs(mu_next - mu) < 1e-10 * (1 + std::abs(mu));
    mu = mu_next;
    var = var_next;
    if (converged) break;
  }
  return mu;
}

}  // namespace detail

/// The photon-transfer calibration of the stack summarised by `stats` (see the header comment).
/// Errors (errc::invalid_argument): too few frames, no usable pixel, no intensity spread, a
/// variance that does not grow with the mean, no dark pixels when the offset is not given.
inline Expected<Calibration> calibrate(const PixelStatistics& stats, const CalibrationOptions& options = {}) {
  using detail::PtcPoint;
  const std::ptrdiff_t frames = stats.frames();
  if (frames < std::max<std::ptrdiff_t>(options.min_frames, 3))
    return make_error(errc::invalid_argument, "calibration: too few frames: ", frames, " (at least ",
                      std::max<std::ptrdiff_t>(options.min_frames, 3), " needed)");
  if (!(options.excess_noise_factor_sq >= 1) || !(options.outlier_z > 0) ||
      !(options.quantization_variance_adu2 >= 0))
    return make_error(errc::invalid_argument, "calibration: excess_noise_factor_sq must be >= 1, outlier_z > 0, "
                      "quantization_variance_adu2 >= 0");
  const double n = static_cast<double>(frames);
  const auto min_pixels = static_cast<std::size_t>(std::max<std::ptrdiff_t>(options.min_pixels, 3));

  // 1. Usable pixels; candidates for the dark cluster are all unsaturated pixels.
  std::vector<PtcPoint> pts;
  struct Candidate {
    double mean, se;
    std::ptrdiff_t y, x;
  };
  std::vector<Candidate> candidates;
  for (std::ptrdiff_t y = 0; y < stats.height(); ++y) {
    for (std::ptrdiff_t x = 0; x < stats.width(); ++x) {
      if (!(stats.max(y, x) < options.linear_max_adu)) continue;
      const double m = stats.mean(y, x), v = stats.variance(y, x);
      candidates.push_back({m, std::sqrt(v / n), y, x});
      if (stats.min(y, x) > options.clip_min_adu) pts.push_back({m, v});
    }
  }
  if (pts.size() < min_pixels)
    return make_error(errc::invalid_argument, "calibration: only ", pts.size(),
                      " pixels stay inside the linear range over all frames (never <= ", options.clip_min_adu,
                      " ADU, never >= ", options.linear_max_adu, " ADU); at least ", min_pixels, " needed");

  // 2–3. Reweighted fit with outlier rejection.
  std::vector<double> w(pts.size(), 1.0);
  detail::LineFit fit;
  std::vector<bool> keep(pts.size(), true);
  for (int it = 0; it < 8; ++it) {
    std::vector<PtcPoint> kept;
    std::vector<double> kw;
    for (std::size_t i = 0; i < pts.size(); ++i)
      if (keep[i]) {
        kept.push_back(pts[i]);
        kw.push_back(w[i]);
      }
    fit = detail::weighted_line(kept, kw);
    if (!fit.ok) break;
    std::vector<double> r(pts.size());
    std::vector<double> kept_r;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const double v_hat = std::max(fit.a + fit.b * pts[i].mean, 1e-9);
      w[i] = 1 / (v_hat * v_hat);
      r[i] = (pts[i].variance - v_hat) / v_hat;
      if (keep[i]) kept_r.push_back(r[i]);
    }
    const double med = detail::median(kept_r);
    for (double& x : kept_r) x = std::abs(x - med);
    const double scale = 1.4826 * detail::median(kept_r);
    if (it >= 1 && scale > 0)
      for (std::size_t i = 0; i < pts.size(); ++i) keep[i] = std::abs(r[i] - med) <= options.outlier_z * scale;
  }
  std::size_t used = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sm = 0, sm2 = 0, noise = 0;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (keep[i]) {
      ++used;
      lo = std::min(lo, pts[i].mean);
      hi = std::max(hi, pts[i].mean);
      sm += pts[i].mean;
      sm2 += pts[i].mean * pts[i].mean;
      noise += pts[i].variance / n;
    }
  // Spread of the pixel means against the spread their own temporal noise gives (ratio ≈ 1 for
  // a uniform flat, where a skewed distribution's mean–variance correlation fakes a slope).
  const double u = static_cast<double>(std::max<std::size_t>(used, 1));
  const double spread_ratio = (sm2 / u - (sm / u) * (sm / u)) / std::max(noise / u, 1e-300);
  if (!fit.ok || used < min_pixels || !(fit.b_se < 0.05 * std::abs(fit.b)) || !(spread_ratio > 10))
    return make_error(errc::invalid_argument, "calibration: no usable intensity spread: ", used,
                      " pixels with means ", lo, "–", hi, " ADU (spread ", spread_ratio,
                      " times what their temporal noise gives, need > 10) give a mean–variance slope of ", fit.b,
                      " ± ", fit.b_se, "; record flat or defocused frames at several intensities, constant in time");
  if (!(fit.b > 0))
    return make_error(errc::invalid_argument, "calibration: the variance does not grow with the mean (slope ",
                      fit.b, " ± ", fit.b_se, ")");

  Calibration cal;
  cal.frames = frames;
  cal.pixels_used = static_cast<std::ptrdiff_t>(used);
  cal.slope = fit.b;
  cal.slope_se = fit.b_se;
  cal.intercept_adu2 = fit.a;
  cal.mean_min_adu = lo;
  cal.mean_max_adu = hi;
  cal.e_per_adu = options.excess_noise_factor_sq / fit.b;

  // 5. Offset.
  double dark_variance = std::numeric_limits<double>::quiet_NaN();
  if (std::isfinite(options.offset_adu)) {
    cal.offset_adu = options.offset_adu;
  } else {
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.mean < b.mean; });
    std::size_t begin = 0, end = 0;
    bool found = false;
    while (begin < candidates.size()) {
      end = begin + 1;
      while (end < candidates.size() &&
             candidates[end].mean - candidates[end - 1].mean <= std::max(0.5, 8 * candidates[end - 1].se))
        ++end;
      if (end - begin >= min_pixels) {
        found = candidates.size() - end >= min_pixels;
        break;
      }
      begin = end;
    }
    if (!found)
      return make_error(errc::invalid_argument,
                        "calibration: the offset is not identifiable: no cluster of dark (unlit) pixels lies "
                        "below the illuminated ones; record dark frames or give the offset (offset_adu, --offset)");
    double n0 = 0, n1 = 0, s1 = 0, s2 = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const auto y = candidates[i].y, x = candidates[i].x;
      n0 += stats.low_count(y, x);
      n1 += n - stats.low_count(y, x);
      s1 += stats.sum(y, x);
      s2 += stats.sum_squares(y, x);
    }
    cal.dark_pixels = static_cast<std::ptrdiff_t>(end - begin);
    if (n1 < 2)
      return make_error(errc::invalid_argument, "calibration: the dark pixels are clipped in ", n0, " of ", n0 + n1,
                        " values; give the offset (offset_adu, --offset)");
    cal.offset_adu = n0 > 0 ? detail::censored_normal_mean(n0, n1, s1, s2, stats.low_adu() + 0.5)
                            : (s1 + n0 * stats.low_adu()) / (n0 + n1);
    if (n0 == 0) {
      double dark_var = 0;
      for (std::size_t i = begin; i < end; ++i) dark_var += stats.variance(candidates[i].y, candidates[i].x);
      dark_variance = dark_var / static_cast<double>(end - begin);
    }
  }

  // 6. Read noise: the dark pixels' own temporal variance when none is clipped, else the line at
  // the dark level (an extrapolation: a + b·o cancels when b·o ≫ σ², as for an EMCCD).
  const double read_var = (std::isfinite(dark_variance) ? dark_variance : fit.a + fit.b * cal.offset_adu) -
                          options.quantization_variance_adu2;
  cal.read_noise_adu = read_var > 0 ? std::sqrt(read_var) : 0.0;
  cal.read_noise_e = cal.read_noise_adu * cal.e_per_adu;
  return cal;
}

}  // namespace smlm::camera
