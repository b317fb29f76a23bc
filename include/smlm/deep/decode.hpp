// From a network's output map to localizations, and the choice of the decoding parameters.
//
// Decoding is the peak finder of loc/peak_finder.hpp on the output grid (r times finer than the
// camera's): local maxima above an absolute threshold in a (2·neighbourhood + 1)² square,
// refined to sub-pixel by the value-weighted centroid of a (2·refine + 1)² square, scored by the
// output mass around them. For both target kinds (spike blobs and distance-transform peaks) a
// molecule is one compact maximum, so one decoder serves both; the defaults scale with r so
// that the squares cover about half a camera pixel.
//
// Counting by mass (split_factor > 0). A network trained on spike targets answers two molecules
// closer than the PSF width with one blob of about twice a single molecule's output mass. Each
// output pixel within count_radius_px of a kept peak belongs to the nearest such peak; a peak
// whose blob (the positive output of its pixels) holds more than split_factor times a single
// molecule's mass becomes two localizations, placed on the blob's major axis at its centroid ± h,
// where h² is the blob's variance along that axis minus a single molecule's (a mixture of two
// equal blobs ±h apart has variance var₁ + h² along the line joining them; h = 0 when the blob is
// no wider than one molecule). Each half gets half the blob's mass. More than two molecules in
// one blob are not resolved.
//
// A single molecule's mass and variance are the median mass and median minor-axis variance of
// the blobs of the movie being decoded (MovieDecoder: the output mass per molecule drifts with
// the density and the imaging conditions, so a unit measured on the training mixture would
// split the bright single molecules of a sparse movie); a movie with fewer than min_blobs blobs
// uses the values of the validation set stored with the model. decode_frame, which sees one
// frame, uses the stored values.
//
// The parameters are learned after training on the validation set (tune_threshold): radii from
// a list and, for each, thresholds between the smallest and largest peak value found on the
// validation output maps; then, at the best radius, split factors from a list, each with every
// threshold again (the single-molecule unit measured on the validation maps at that threshold,
// as MovieDecoder measures it on a movie). The combination with the highest Jaccard index at the given tolerance after
// optimal matching (eval/match.hpp) is kept and stored in the model file. The radius matters
// because a network may answer one emitter with two nearby maxima (seen on sparse frames),
// which a radius of about half a camera pixel merges.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/loc/peak_finder.hpp>

namespace smlm::deep {

struct DecodeOptions {
  double threshold = 0;            ///< absolute, in output units
  int neighbourhood_px = 1;        ///< local-maximum half-width, output pixels
  int refine_px = 1;               ///< centroid half-width, output pixels
  double min_distance_px = 0;      ///< suppression radius between peaks, output pixels
  double split_factor = 0;         ///< a blob above this many single-molecule masses is two; 0: never split
  double single_mass = 0;          ///< a single molecule's blob mass (output units · pixels), when not measured
  double single_var_px2 = 0;       ///< a single molecule's minor-axis blob variance, output pixels², likewise
  int count_radius_px = 1;         ///< radius of the blob a peak owns when counting by mass, output pixels

  /// Defaults for an output grid r times finer than the camera's.
  static DecodeOptions for_upsample(int r) noexcept {
    DecodeOptions d;
    d.neighbourhood_px = std::max(1, r / 4);
    d.refine_px = std::max(1, r / 4);
    d.count_radius_px = std::max(1, r);
    return d;
  }
  bool valid() const noexcept {
    return peak_options().valid() && std::isfinite(split_factor) && split_factor >= 0 && std::isfinite(single_mass) &&
           single_mass >= 0 && (split_factor == 0 || single_mass > 0) && std::isfinite(single_var_px2) &&
           single_var_px2 >= 0 && count_radius_px >= 1;
  }
  loc::PeakFinderOptions peak_options() const noexcept {
    loc::PeakFinderOptions o;
    o.neighbourhood_radius_px = neighbourhood_px;
    o.threshold = threshold;
    o.min_distance_px = min_distance_px;
    o.refine = loc::refinement::centroid;
    o.refine_radius_px = refine_px;
    o.mass_radius_px = refine_px;
    return o;
  }
};

/// Capacity the peak buffer needs for a map of h × w output pixels: local maxima of a 3 × 3
/// square are at least two pixels apart.
inline std::size_t peak_capacity(std::ptrdiff_t h, std::ptrdiff_t w) noexcept {
  return static_cast<std::size_t>(((h + 1) / 2) * ((w + 1) / 2));
}

/// A peak's blob when counting by mass: the positive output of the pixels it owns, its centroid
/// (output pixel coordinates, pixel (r, c) covering [c, c+1) × [r, r+1)) and second moments.
struct Blob {
  double mass = 0;
  double x_px = 0, y_px = 0;         ///< centroid
  double var_major = 0, var_minor = 0;  ///< eigenvalues of the covariance, output pixels²
  double axis_x = 1, axis_y = 0;     ///< unit vector along the major axis
};

/// Scratch of decode_frame, grown on first use to the map and peak counts (then reused).
struct DecodeWorkspace {
  std::vector<loc::Peak> peaks;
  std::vector<loc::Peak> out;
  std::vector<Blob> blobs;
  std::vector<std::int32_t> owner;  ///< per output pixel: the nearest peak within the count radius, or −1
                                    ///< (all −1 between calls)
  std::vector<float> owner_d2;
};

namespace detail {
inline Blob blob_from_moments(double s, double sx, double sy, double sxx, double syy, double sxy, double x0,
                              double y0) noexcept {
  Blob b;
  b.mass = s;
  if (!(s > 0)) {
    b.x_px = x0, b.y_px = y0;
    return b;
  }
  const double mx = sx / s, my = sy / s;
  const double a = std::max(0.0, sxx / s - mx * mx), c = std::max(0.0, syy / s - my * my), e = sxy / s - mx * my;
  const double half_trace = 0.5 * (a + c), disc = std::sqrt(std::max(0.0, 0.25 * (a - c) * (a - c) + e * e));
  b.var_major = half_trace + disc;
  b.var_minor = std::max(0.0, half_trace - disc);
  // Eigenvector of the larger eigenvalue: (e, λ − a), or the axis itself when e = 0.
  double vx = e, vy = b.var_major - a;
  if (std::abs(vx) + std::abs(vy) < 1e-12 * (a + c + 1e-300)) vx = a >= c ? 1 : 0, vy = a >= c ? 0 : 1;
  const double n = std::hypot(vx, vy);
  b.axis_x = n > 0 ? vx / n : 1;
  b.axis_y = n > 0 ? vy / n : 0;
  b.x_px = x0 + mx, b.y_px = y0 + my;
  return b;
}
}  // namespace detail

/// The blobs of `peaks` on `map` (see the header): each output pixel within radius_px of a peak's
/// refined position belongs to the nearest one. Writes ws.blobs[0 .. peaks.size()); work
/// proportional to the peaks' squares, not to the map.
template <class T>
void measure_blobs(ConstImageView<T> map, std::span<const loc::Peak> peaks, int radius_px, DecodeWorkspace& ws) {
  const std::ptrdiff_t h = map.rows(), w = map.cols();
  const auto pixels = static_cast<std::size_t>(h * w);
  if (ws.owner.size() < pixels) ws.owner.assign(pixels, -1), ws.owner_d2.resize(pixels);
  if (ws.blobs.size() < peaks.size()) ws.blobs.resize(peaks.size());
  const double r2 = double(radius_px) * double(radius_px);
  struct Box {
    std::ptrdiff_t y0, y1, x0, x1;
  };
  const auto box = [&](const loc::Peak& p) {
    return Box{std::max<std::ptrdiff_t>(0, p.row - radius_px), std::min<std::ptrdiff_t>(h - 1, p.row + radius_px),
               std::max<std::ptrdiff_t>(0, p.col - radius_px), std::min<std::ptrdiff_t>(w - 1, p.col + radius_px)};
  };
  for (std::size_t i = 0; i < peaks.size(); ++i) {
    const loc::Peak& p = peaks[i];
    const Box b = box(p);
    for (std::ptrdiff_t y = b.y0; y <= b.y1; ++y)
      for (std::ptrdiff_t x = b.x0; x <= b.x1; ++x) {
        const double dx = double(x) + 0.5 - p.x_px, dy = double(y) + 0.5 - p.y_px, d2 = dx * dx + dy * dy;
        if (d2 > r2) continue;
        const auto k = static_cast<std::size_t>(y * w + x);
        if (ws.owner[k] < 0 || d2 < double(ws.owner_d2[k]))
          ws.owner[k] = static_cast<std::int32_t>(i), ws.owner_d2[k] = static_cast<float>(d2);
      }
  }
  // Moments relative to each peak's pixel (small numbers: no cancellation); the pixels are handed
  // back (−1) as they are read.
  for (std::size_t i = 0; i < peaks.size(); ++i) {
    const loc::Peak& p = peaks[i];
    const Box b = box(p);
    double a[6] = {0, 0, 0, 0, 0, 0};
    for (std::ptrdiff_t y = b.y0; y <= b.y1; ++y)
      for (std::ptrdiff_t x = b.x0; x <= b.x1; ++x) {
        const auto k = static_cast<std::size_t>(y * w + x);
        if (ws.owner[k] != static_cast<std::int32_t>(i)) continue;
        ws.owner[k] = -1;
        const double v = std::max(0.0, static_cast<double>(map(y, x)));
        const double u = double(x - p.col), t = double(y - p.row);
        a[0] += v, a[1] += v * u, a[2] += v * t, a[3] += v * u * u, a[4] += v * t * t, a[5] += v * u * t;
      }
    // Pixel (row, col) has its centre at (col + 0.5, row + 0.5).
    ws.blobs[i] = detail::blob_from_moments(a[0], a[1], a[2], a[3], a[4], a[5], double(p.col) + 0.5, double(p.row) + 0.5);
  }
}

/// The peaks of one output map (before counting by mass) into ws.peaks[0 .. returned count).
template <class T>
std::size_t find_map_peaks(ConstImageView<T> map, const DecodeOptions& options, DecodeWorkspace& ws) {
  const std::size_t cap = peak_capacity(map.rows(), map.cols());
  if (ws.peaks.size() < cap) ws.peaks.resize(cap);
  return loc::find_peaks(map, options.peak_options(), std::span<loc::Peak>(ws.peaks.data(), cap)).count;
}

/// A peak and its blob, as MovieDecoder keeps them until the movie's unit is known.
struct FoundPeak {
  loc::Peak peak;
  Blob blob;
  std::int32_t frame = 0;  ///< 1-based
};

/// A single molecule's blob measured on decoded blobs: the median mass and the median minor-axis
/// variance (see the header).
struct SingleMolecule {
  double mass = 0;
  double var_px2 = 0;
  std::size_t blobs = 0;  ///< how many blobs the medians are taken over
};

namespace detail {
inline double median_of(std::vector<double>& v) noexcept {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

/// Appends the localization(s) of one found peak: two on the blob's major axis when its mass
/// exceeds split_mass > 0 (see the header), else the peak itself.
inline std::size_t append_found(const FoundPeak& f, double split_mass, double single_var_px2, double pixel_nm,
                                int upsample, LocalizationTable& table) {
  if (!(split_mass > 0) || !(f.blob.mass > split_mass)) {
    loc::append_peaks(table, std::span<const loc::Peak>(&f.peak, 1), f.frame, pixel_nm, upsample);
    return 1;
  }
  const Blob& b = f.blob;
  const double half = std::sqrt(std::max(0.0, b.var_major - single_var_px2));
  loc::Peak two[2] = {f.peak, f.peak};
  for (int k = 0; k < 2; ++k) {
    const double side = k == 0 ? -1.0 : 1.0;
    two[k].x_px = b.x_px + side * half * b.axis_x;
    two[k].y_px = b.y_px + side * half * b.axis_y;
    two[k].mass = 0.5 * b.mass;
  }
  loc::append_peaks(table, std::span<const loc::Peak>(two, 2), f.frame, pixel_nm, upsample);
  return 2;
}
}  // namespace detail

/// The single-molecule blob of `found` (medians; blobs = 0 when empty).
inline SingleMolecule single_molecule(std::span<const FoundPeak> found) {
  SingleMolecule s;
  s.blobs = found.size();
  if (found.empty()) return s;
  std::vector<double> v(found.size());
  for (std::size_t i = 0; i < found.size(); ++i) v[i] = found[i].blob.mass;
  s.mass = detail::median_of(v);
  for (std::size_t i = 0; i < found.size(); ++i) v[i] = found[i].blob.var_minor;
  s.var_px2 = detail::median_of(v);
  return s;
}

/// Appends the localizations of one output map (frame is 1-based) to `table` (frame, x, y,
/// intensity = output mass) and returns how many: with options.split_factor > 0, a peak whose
/// blob holds more than split_factor · options.single_mass becomes two (see the header; one
/// frame cannot measure its own unit — MovieDecoder does).
template <class T>
std::size_t decode_frame(ConstImageView<T> map, std::int32_t frame, double pixel_nm, int upsample,
                         const DecodeOptions& options, DecodeWorkspace& ws, LocalizationTable& table) {
  const std::size_t n = find_map_peaks(map, options, ws);
  const std::span<const loc::Peak> peaks(ws.peaks.data(), n);
  if (!(options.split_factor > 0)) {
    loc::append_peaks(table, peaks, frame, pixel_nm, upsample);
    return n;
  }
  measure_blobs(map, peaks, options.count_radius_px, ws);
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i)
    m += detail::append_found(FoundPeak{peaks[i], ws.blobs[i], frame}, options.split_factor * options.single_mass,
                              options.single_var_px2, pixel_nm, upsample, table);
  return m;
}

/// Decodes a movie frame by frame with counting by mass calibrated on the movie itself (see the
/// header): add() finds each frame's peaks and measures their blobs, finish() measures the
/// single-molecule unit over all of them and appends the localizations in frame order. With
/// split_factor = 0 it is decode_frame on every frame. Memory: one FoundPeak per peak.
class MovieDecoder {
 public:
  /// Movies with fewer blobs than this use the options' single_mass / single_var_px2.
  static constexpr std::size_t min_blobs = 50;

  MovieDecoder(const DecodeOptions& options, double pixel_nm, int upsample) noexcept
      : options_(options), pixel_nm_(pixel_nm), upsample_(upsample) {}

  /// Finds the peaks of one output map (frame 1-based, frames in any order) and returns how many.
  template <class T>
  std::size_t add(ConstImageView<T> map, std::int32_t frame) {
    const std::size_t n = find_map_peaks(map, options_, ws_);
    const std::span<const loc::Peak> peaks(ws_.peaks.data(), n);
    if (options_.split_factor > 0) measure_blobs(map, peaks, options_.count_radius_px, ws_);
    for (std::size_t i = 0; i < n; ++i)
      found_.push_back(FoundPeak{peaks[i], options_.split_factor > 0 ? ws_.blobs[i] : Blob{}, frame});
    return n;
  }

  /// The unit counting by mass uses: the movie's own, or the options' when it has too few blobs.
  SingleMolecule unit() const {
    SingleMolecule s = single_molecule(found_);
    if (s.blobs < min_blobs || !(s.mass > 0)) s.mass = options_.single_mass, s.var_px2 = options_.single_var_px2;
    return s;
  }

  /// Appends every frame's localizations to `table` (frame order; within a frame, the peaks'
  /// order) and returns how many peaks became two.
  std::size_t finish(LocalizationTable& table) {
    std::stable_sort(found_.begin(), found_.end(),
                     [](const FoundPeak& a, const FoundPeak& b) { return a.frame < b.frame; });
    const SingleMolecule s = options_.split_factor > 0 ? unit() : SingleMolecule{};
    std::size_t split = 0;
    for (const FoundPeak& f : found_)
      split += detail::append_found(f, options_.split_factor * s.mass, s.var_px2, pixel_nm_, upsample_, table) - 1;
    found_.clear();
    return split;
  }

 private:
  DecodeOptions options_;
  double pixel_nm_;
  int upsample_;
  DecodeWorkspace ws_;
  std::vector<FoundPeak> found_;
};

struct ThresholdChoice {
  double threshold = 0;
  double min_distance_px = 0;
  double split_factor = 0;         ///< 0: counting by mass did not help
  SingleMolecule single;           ///< the validation set's single molecule at the chosen threshold
  eval::DetectionMetrics metrics;  ///< at the chosen parameters
  std::size_t candidates = 0;      ///< parameter combinations tried

  /// `options` with the chosen parameters.
  DecodeOptions apply(DecodeOptions options) const noexcept {
    options.threshold = threshold;
    options.min_distance_px = min_distance_px;
    options.split_factor = split_factor;
    options.single_mass = split_factor > 0 ? single.mass : 0;
    options.single_var_px2 = split_factor > 0 ? single.var_px2 : 0;
    return options;
  }
};

/// Chooses the threshold, suppression radius and (with split_factors) the factor above which a
/// blob counts as two molecules, on output maps with known truth (see the header). Every radius
/// of `radii_px` (output pixels) is tried with thresholds at `steps` quantiles of the peak values;
/// then, at the best radius, every factor of split_factors with every threshold again, the unit
/// measured on all the maps' blobs at that threshold as MovieDecoder does. maps[k] is frame k + 1
/// of `truth`; `tolerance_nm` is the matching radius. Ties keep the smaller radius, the lower
/// threshold and no splitting. options' split fields are ignored (the search sets them).
template <class T>
ThresholdChoice tune_threshold(const std::vector<Image<T>>& maps, const LocalizationTable& truth, double pixel_nm,
                               int upsample, DecodeOptions options, double tolerance_nm,
                               const std::vector<double>& radii_px = {0.0}, std::size_t steps = 48,
                               const std::vector<double>& split_factors = {}) {
  // All peaks above a floor of 1 % of the largest output value, once per radius, in decreasing
  // value (find_peaks' order). Suppression ran at the floor threshold, so a higher threshold t can
  // only drop peaks a stronger neighbour already outranked: the peaks find_peaks would keep at t
  // are the prefix of each map's list with values above t.
  double top = 0;
  for (const auto& m : maps) top = std::max(top, static_cast<double>(m.maxCoeff()));
  options.threshold = 0.01 * top;
  options.split_factor = 0;
  ThresholdChoice best;
  best.threshold = options.threshold;
  double best_j = -1;
  eval::MatchOptions mo;
  mo.tolerance_nm = tolerance_nm;
  DecodeWorkspace ws;
  std::vector<std::vector<loc::Peak>> found(maps.size()), best_found;
  std::vector<double> best_thresholds;
  const auto prefix = [](const std::vector<loc::Peak>& p, double t) {
    return static_cast<std::size_t>(
        std::find_if(p.begin(), p.end(), [t](const loc::Peak& q) { return !(q.value > t); }) - p.begin());
  };
  // Scores one candidate; true (and best.metrics set) when it beats every earlier one.
  const auto better = [&](const LocalizationTable& kept) {
    ++best.candidates;
    const eval::DetectionMetrics m = eval::detection_metrics(eval::match(truth, kept, mo));
    if (!(m.jaccard > best_j)) return false;
    best_j = m.jaccard;
    best.metrics = m;
    return true;
  };
  for (const double radius : radii_px) {
    options.min_distance_px = radius;
    std::vector<double> values;
    for (std::size_t k = 0; k < maps.size(); ++k) {
      const std::size_t n = find_map_peaks(const_view(maps[k]), options, ws);
      found[k].assign(ws.peaks.begin(), ws.peaks.begin() + static_cast<std::ptrdiff_t>(n));
      for (const loc::Peak& p : found[k]) values.push_back(p.value);
    }
    if (values.empty()) continue;
    std::sort(values.begin(), values.end());
    std::vector<double> thresholds;
    for (std::size_t s = 0; s < steps; ++s) {
      // Thresholds at quantiles of the peak values (a peak is kept when its value exceeds t).
      const double q = double(s) / double(steps);
      thresholds.push_back(s == 0 ? options.threshold : values[static_cast<std::size_t>(q * double(values.size() - 1))]);
    }
    bool improved = false;
    for (const double t : thresholds) {
      LocalizationTable kept;
      for (std::size_t k = 0; k < maps.size(); ++k)
        loc::append_peaks(kept, std::span<const loc::Peak>(found[k].data(), prefix(found[k], t)),
                          static_cast<std::int32_t>(k + 1), pixel_nm, upsample);
      if (better(kept)) best.threshold = t, best.min_distance_px = radius, improved = true;
    }
    if (improved) best_found = found, best_thresholds = thresholds;
  }
  if (split_factors.empty() || best_found.empty()) return best;

  // Counting by mass at the best radius: per threshold, the blobs of the kept peaks and their unit.
  std::vector<FoundPeak> blobs;
  for (const double t : best_thresholds) {
    blobs.clear();
    for (std::size_t k = 0; k < maps.size(); ++k) {
      const std::span<const loc::Peak> kept(best_found[k].data(), prefix(best_found[k], t));
      measure_blobs(const_view(maps[k]), kept, options.count_radius_px, ws);
      for (std::size_t i = 0; i < kept.size(); ++i)
        blobs.push_back(FoundPeak{kept[i], ws.blobs[i], static_cast<std::int32_t>(k + 1)});
    }
    const SingleMolecule unit = single_molecule(blobs);
    if (!(unit.mass > 0)) continue;
    for (const double f : split_factors) {
      LocalizationTable kept;
      for (const FoundPeak& p : blobs) detail::append_found(p, f * unit.mass, unit.var_px2, pixel_nm, upsample, kept);
      if (better(kept)) best.threshold = t, best.split_factor = f, best.single = unit;
    }
  }
  return best;
}

}  // namespace smlm::deep
