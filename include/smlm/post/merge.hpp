// Merging: one row per molecule-on-event instead of one per frame (ThunderSTORM's "merging",
// Picasso's "link").
//
// A fluorophore that stays on for several frames is localized once per frame. Merging walks the
// frames in order and links each localization to an open track — a molecule seen in the last
// `max_gap_frames` + 1 frames — whose position lies within `max_distance_nm`; pairs are taken
// closest first, a track takes at most one localization per frame, and a localization that links
// to nothing opens a new track. A track that has been off for more than `max_gap_frames` frames
// closes. Each track becomes one row:
//   frame             its first frame (id: the track number, 1-based, in order of first frame)
//   x_nm, y_nm, z_nm  the photon-weighted mean (weights intensity_photons; equal weights when the
//                     table has no intensity column or a row's intensity is not positive)
//   intensity_photons the sum; offset_photons, bkgstd_photons, sigma_nm the weighted means
//   uncertainty_xy_nm the propagated error of the weighted mean, √(Σ wᵢ² σᵢ²) with wᵢ the
//                     normalized weights (for n equal rows: σ / √n)
// The track's position for linking is the running weighted mean of its rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include <smlm/core/localization_table.hpp>
#include <smlm/core/status.hpp>

namespace smlm::post {

struct MergeOptions {
  double max_distance_nm = 50;   ///< link within this distance of the track's mean position
  std::int32_t max_gap_frames = 1;  ///< off frames a track may skip (0: consecutive frames only)
};

struct MergeReport {
  std::size_t input_rows = 0, tracks = 0;
  std::size_t longest_track = 0;  ///< rows in the longest track
};

namespace detail {
/// Row i's weight: its photons, or 1 without a usable intensity.
inline double merge_weight(const LocalizationTable& table, std::size_t i) noexcept {
  const bool usable = table.intensity_photons.size() == table.size() && table.intensity_photons[i] > 0 &&
                      std::isfinite(table.intensity_photons[i]);
  return usable ? table.intensity_photons[i] : 1.0;
}
}  // namespace detail

namespace detail {
/// The rows in frame order (stable), the track of every row, and how many tracks.
struct Linking {
  std::vector<std::size_t> order, track_of;
  std::size_t tracks = 0;
};

inline Expected<Linking> link(const LocalizationTable& table, const MergeOptions& o) {
  if (!table.consistent()) return make_error(errc::invalid_argument, "post::link_tracks: the table's columns differ in length");
  if (!(o.max_distance_nm > 0) || !std::isfinite(o.max_distance_nm))
    return make_error(errc::invalid_argument, "post::link_tracks: max_distance_nm ", o.max_distance_nm, " must be > 0");
  if (o.max_gap_frames < 0)
    return make_error(errc::invalid_argument, "post::link_tracks: max_gap_frames ", o.max_gap_frames, " must be >= 0");
  const std::size_t n = table.size();
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(table.x_nm[i]) || !std::isfinite(table.y_nm[i]))
      return make_error(errc::invalid_argument, "post::link_tracks: row ", i + 1, " has a position that is not finite");
  auto weight = [&](std::size_t i) { return detail::merge_weight(table, i); };

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return table.frame[a] < table.frame[b]; });

  struct Track {
    double wx = 0, wy = 0, w = 0;  // Σ weight·x, Σ weight·y, Σ weight
    std::int32_t last_frame = 0;
    std::size_t id = 0;
  };
  std::vector<Track> open;
  std::vector<std::size_t> track_of(n, 0);
  std::size_t tracks = 0;
  struct Candidate {
    double d2;
    std::size_t track, row;
  };
  std::vector<Candidate> candidates;
  std::vector<bool> taken_track, taken_row;
  const double r2 = o.max_distance_nm * o.max_distance_nm;
  for (std::size_t begin = 0; begin < n;) {
    const std::int32_t f = table.frame[order[begin]];
    std::size_t end = begin;
    while (end < n && table.frame[order[end]] == f) ++end;
    // Close the tracks off for more than the allowed gap.
    std::erase_if(open, [&](const Track& t) { return std::int64_t{f} - t.last_frame - 1 > o.max_gap_frames; });
    candidates.clear();
    for (std::size_t t = 0; t < open.size(); ++t) {
      const double tx = open[t].wx / open[t].w, ty = open[t].wy / open[t].w;
      for (std::size_t k = begin; k < end; ++k) {
        const std::size_t i = order[k];
        const double d2 = (table.x_nm[i] - tx) * (table.x_nm[i] - tx) + (table.y_nm[i] - ty) * (table.y_nm[i] - ty);
        if (d2 <= r2) candidates.push_back({d2, t, k - begin});
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.d2 != b.d2 ? a.d2 < b.d2 : a.track != b.track ? a.track < b.track : a.row < b.row;
    });
    taken_track.assign(open.size(), false);
    taken_row.assign(end - begin, false);
    for (const Candidate& c : candidates) {
      if (taken_track[c.track] || taken_row[c.row]) continue;
      taken_track[c.track] = taken_row[c.row] = true;
      const std::size_t i = order[begin + c.row];
      Track& t = open[c.track];
      const double w = weight(i);
      t.wx += w * table.x_nm[i], t.wy += w * table.y_nm[i], t.w += w;
      t.last_frame = f;
      track_of[i] = t.id;
    }
    for (std::size_t k = begin; k < end; ++k) {
      if (taken_row[k - begin]) continue;
      const std::size_t i = order[k];
      const double w = weight(i);
      open.push_back({w * table.x_nm[i], w * table.y_nm[i], w, f, tracks});
      track_of[i] = tracks++;
    }
    begin = end;
  }
  return Linking{std::move(order), std::move(track_of), tracks};
}
}  // namespace detail

/// The track (0-based, in order of first frame) of every row of `table`.
inline Expected<std::vector<std::size_t>> link_tracks(const LocalizationTable& table, const MergeOptions& o = {}) {
  Expected<detail::Linking> linked = detail::link(table, o);
  if (!linked) return linked.status();
  return std::move(linked->track_of);
}

/// `table` with each track merged into one row (see the header); `report`, when given, says how many.
inline Expected<LocalizationTable> merge_tracks(const LocalizationTable& table, const MergeOptions& o = {},
                                                MergeReport* report = nullptr) {
  Expected<detail::Linking> linked = detail::link(table, o);
  if (!linked) return linked.status();
  const std::vector<std::size_t>& track_of = linked->track_of;
  const std::size_t n = table.size(), tracks = linked->tracks;

  // Rows of each track, in frame order (counting sort over the linking's frame order).
  std::vector<std::size_t> start(tracks + 1, 0), rows(n);
  for (const std::size_t t : track_of) ++start[t + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  {
    std::vector<std::size_t> at(start.begin(), start.end() - 1);
    for (const std::size_t i : linked->order) rows[at[track_of[i]]++] = i;
  }

  auto weight = [&](std::size_t i) { return detail::merge_weight(table, i); };
  LocalizationTable out;
  auto has = [&](const std::vector<double>& c) { return c.size() == n && n > 0; };
  std::size_t longest = 0;
  for (std::size_t t = 0; t < tracks; ++t) {
    const std::size_t b = start[t], e = start[t + 1];
    longest = std::max(longest, e - b);
    double w = 0;
    for (std::size_t k = b; k < e; ++k) w += weight(rows[k]);
    auto mean = [&](const std::vector<double>& c) {
      double s = 0;
      for (std::size_t k = b; k < e; ++k) s += weight(rows[k]) * c[rows[k]];
      return s / w;
    };
    out.id.push_back(static_cast<std::int64_t>(t) + 1);
    out.frame.push_back(table.frame[rows[b]]);
    out.x_nm.push_back(mean(table.x_nm));
    out.y_nm.push_back(mean(table.y_nm));
    if (has(table.z_nm)) out.z_nm.push_back(mean(table.z_nm));
    if (has(table.sigma_nm)) out.sigma_nm.push_back(mean(table.sigma_nm));
    if (has(table.offset_photons)) out.offset_photons.push_back(mean(table.offset_photons));
    if (has(table.bkgstd_photons)) out.bkgstd_photons.push_back(mean(table.bkgstd_photons));
    if (has(table.intensity_photons)) {
      double sum = 0;
      for (std::size_t k = b; k < e; ++k) sum += table.intensity_photons[rows[k]];
      out.intensity_photons.push_back(sum);
    }
    if (has(table.uncertainty_xy_nm)) {
      double var = 0;
      for (std::size_t k = b; k < e; ++k) {
        const double wk = weight(rows[k]) / w, s = table.uncertainty_xy_nm[rows[k]];
        var += wk * wk * s * s;
      }
      out.uncertainty_xy_nm.push_back(std::sqrt(var));
    }
  }
  if (report) *report = {n, tracks, longest};
  return out;
}

}  // namespace smlm::post
