// From a network's output map to localizations, and the choice of the detection threshold.
//
// Decoding is the peak finder of loc/peak_finder.hpp on the output grid (r times finer than the
// camera's): local maxima above an absolute threshold in a (2·neighbourhood + 1)² square,
// refined to sub-pixel by the value-weighted centroid of a (2·refine + 1)² square, scored by the
// output mass around them. For both target kinds (spike blobs and distance-transform peaks) a
// molecule is one compact maximum, so one decoder serves both; the defaults scale with r so
// that the squares cover about half a camera pixel.
//
// The threshold and the suppression radius are learned after training: tune_threshold tries
// radii from a list and, for each, thresholds between the smallest and largest peak value found
// on the validation set's output maps, and keeps the pair with the highest Jaccard index at the
// given tolerance after optimal matching (eval/match.hpp). Both are stored in the model file. The
// radius matters because a network may answer one emitter with two nearby maxima (seen on sparse
// frames), which a radius of about half a camera pixel merges.
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

  /// Defaults for an output grid r times finer than the camera's.
  static DecodeOptions for_upsample(int r) noexcept {
    DecodeOptions d;
    d.neighbourhood_px = std::max(1, r / 4);
    d.refine_px = std::max(1, r / 4);
    return d;
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

/// Appends the localizations of one output map (frame is 1-based) to `table` (frame, x, y,
/// intensity = output mass). `peaks` is scratch, grown to peak_capacity once.
template <class T>
std::size_t decode_frame(ConstImageView<T> map, std::int32_t frame, double pixel_nm, int upsample,
                         const DecodeOptions& options, std::vector<loc::Peak>& peaks, LocalizationTable& table) {
  const std::size_t cap = peak_capacity(map.rows(), map.cols());
  if (peaks.size() < cap) peaks.resize(cap);
  const loc::PeakFinderResult r = loc::find_peaks(map, options.peak_options(), std::span<loc::Peak>(peaks.data(), cap));
  loc::append_peaks(table, std::span<const loc::Peak>(peaks.data(), r.count), frame, pixel_nm, upsample);
  return r.count;
}

struct ThresholdChoice {
  double threshold = 0;
  double min_distance_px = 0;
  eval::DetectionMetrics metrics;  ///< at the chosen threshold and suppression radius
  std::size_t candidates = 0;      ///< (threshold, radius) pairs tried
};

/// Chooses options.threshold and options.min_distance_px on output maps with known truth (see
/// the header): every suppression radius of `radii_px` (output pixels) is tried with thresholds
/// at `steps` quantiles of the peak values. maps[k] is frame k + 1 of `truth`; `tolerance_nm` is
/// the matching radius. Ties keep the smaller radius and the lower threshold.
template <class T>
ThresholdChoice tune_threshold(const std::vector<Image<T>>& maps, const LocalizationTable& truth, double pixel_nm,
                               int upsample, DecodeOptions options, double tolerance_nm,
                               const std::vector<double>& radii_px = {0.0}, std::size_t steps = 48) {
  // All peaks above a floor of 1 % of the largest output value, once per radius.
  double top = 0;
  for (const auto& m : maps) top = std::max(top, static_cast<double>(m.maxCoeff()));
  options.threshold = 0.01 * top;
  ThresholdChoice best;
  best.threshold = options.threshold;
  double best_j = -1;
  eval::MatchOptions mo;
  mo.tolerance_nm = tolerance_nm;
  for (const double radius : radii_px) {
    options.min_distance_px = radius;
    LocalizationTable all;
    std::vector<loc::Peak> peaks;
    std::vector<double> values;
    for (std::size_t k = 0; k < maps.size(); ++k) {
      const std::size_t before = all.size();
      decode_frame(const_view(maps[k]), static_cast<std::int32_t>(k + 1), pixel_nm, upsample, options, peaks, all);
      for (std::size_t i = before; i < all.size(); ++i) values.push_back(peaks[i - before].value);
    }
    if (values.empty()) continue;
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t s = 0; s < steps; ++s) {
      // Thresholds at quantiles of the peak values (a peak is kept when its value exceeds t).
      // Suppression ran at the floor threshold, so a higher threshold can only drop peaks a
      // stronger neighbour already outranked: the same peaks find_peaks would keep at t.
      const double q = double(s) / double(steps);
      const double t = s == 0 ? options.threshold : sorted[static_cast<std::size_t>(q * double(sorted.size() - 1))];
      LocalizationTable kept;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (!(values[i] > t)) continue;
        kept.id.push_back(static_cast<std::int64_t>(kept.size() + 1));
        kept.frame.push_back(all.frame[i]);
        kept.x_nm.push_back(all.x_nm[i]);
        kept.y_nm.push_back(all.y_nm[i]);
        kept.intensity_photons.push_back(all.intensity_photons[i]);
      }
      const eval::DetectionMetrics m = eval::detection_metrics(eval::match(truth, kept, mo));
      ++best.candidates;
      if (m.jaccard > best_j) {
        best_j = m.jaccard;
        best.threshold = t;
        best.min_distance_px = radius;
        best.metrics = m;
      }
    }
  }
  return best;
}

}  // namespace smlm::deep
