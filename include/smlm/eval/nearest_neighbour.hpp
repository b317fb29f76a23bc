// Nearest-neighbour distances between two localization tables, frame by frame, and their
// histogram: how far each ground-truth molecule is from the closest detection (and the reverse),
// the figure cellSTORM (Diederich et al., Nat. Commun. 10, 1223 (2019)) uses to show how
// detections scatter around the truth independently of any matching tolerance.
//
// For each row of `from`, the lateral distance to the nearest row of `to` in the same frame, if
// that distance is at most `max_distance_nm`; +∞ otherwise (no row of `to` in that frame, none
// within the search radius, or non-finite coordinates). Rows are not paired one to one: several
// rows of `from` may share a nearest neighbour.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/eval/detail/frame_grid.hpp>

namespace smlm::eval {

/// One distance per row of `from` (same order), as described above. Precondition
/// (SMLM_ASSERT): both tables consistent(), max_distance_nm finite and > 0.
inline std::vector<double> nearest_neighbour_distances(const LocalizationTable& from, const LocalizationTable& to,
                                                       double max_distance_nm) {
  SMLM_ASSERT(from.consistent() && to.consistent(), "eval::nearest_neighbour_distances: inconsistent table");
  SMLM_ASSERT(std::isfinite(max_distance_nm) && max_distance_nm > 0,
              "eval::nearest_neighbour_distances: max_distance_nm must be finite and > 0");
  std::vector<double> nearest_d2(from.size(), std::numeric_limits<double>::infinity());
  std::vector<std::uint32_t> from_order, to_order;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> cells;
  detail::frame_order(from, from_order);
  detail::frame_order(to, to_order);
  detail::for_each_common_frame(from, from_order, to, to_order,
                                [&](std::int32_t, detail::RowSpan from_rows, detail::RowSpan to_rows) {
                                  detail::for_each_pair_within(from, from_rows, to, to_rows, max_distance_nm, cells,
                                                               [&](std::size_t k, std::size_t, double d2) {
                                                                 double& best = nearest_d2[from_rows[k]];
                                                                 if (d2 < best) best = d2;
                                                               });
                                });
  for (double& d : nearest_d2) d = std::sqrt(d);
  return nearest_d2;
}

/// Counts of distances in bins [k·w, (k+1)·w), k = 0 … bins − 1.
struct DistanceHistogram {
  double bin_width_nm = 0;
  std::vector<std::size_t> counts;
  std::size_t beyond = 0;  ///< distances ≥ bins·w, including +∞ (no neighbour within range)
  /// Left edge of bin k.
  double bin_start_nm(std::size_t k) const noexcept { return static_cast<double>(k) * bin_width_nm; }
};

/// Histogram of `distances_nm` (non-negative, possibly +∞) with `bins` bins of width
/// `bin_width_nm`. A NaN counts as beyond. Precondition: bin_width_nm finite and > 0.
inline DistanceHistogram distance_histogram(const std::vector<double>& distances_nm, double bin_width_nm,
                                            std::size_t bins) {
  SMLM_ASSERT(std::isfinite(bin_width_nm) && bin_width_nm > 0, "eval::distance_histogram: bin width must be > 0");
  DistanceHistogram h;
  h.bin_width_nm = bin_width_nm;
  h.counts.assign(bins, 0);
  for (const double d : distances_nm) {
    const double k = std::floor(d / bin_width_nm);
    if (k >= 0 && k < static_cast<double>(bins))
      ++h.counts[static_cast<std::size_t>(k)];
    else
      ++h.beyond;
  }
  return h;
}

}  // namespace smlm::eval
