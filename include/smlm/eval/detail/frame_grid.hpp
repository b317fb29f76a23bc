// Internal: walking two tables frame by frame, and pairs of rows within a radius through a grid.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <smlm/core/localization_table.hpp>

namespace smlm::eval::detail {

/// Rows of `table` in frame order (stable); the identity when the table is already sorted.
inline void frame_order(const LocalizationTable& table, std::vector<std::uint32_t>& order) {
  const std::size_t n = table.size();
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  if (!std::is_sorted(table.frame.begin(), table.frame.end()))
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return table.frame[a] < table.frame[b]; });
}

/// A run of rows (indices into a table) that share one frame.
struct RowSpan {
  const std::uint32_t* rows = nullptr;
  std::size_t size = 0;
  std::size_t operator[](std::size_t k) const noexcept { return rows[k]; }
};

/// Calls f(frame, a_rows, b_rows) for every frame present in both orders (from frame_order).
template <class F>
void for_each_common_frame(const LocalizationTable& a, const std::vector<std::uint32_t>& a_order,
                           const LocalizationTable& b, const std::vector<std::uint32_t>& b_order, F&& f) {
  std::size_t i = 0, j = 0;
  auto run_end = [](const LocalizationTable& t, const std::vector<std::uint32_t>& order, std::size_t k) {
    const std::int32_t frame = t.frame[order[k]];
    while (k < order.size() && t.frame[order[k]] == frame) ++k;
    return k;
  };
  while (i < a_order.size() && j < b_order.size()) {
    const std::int32_t fa = a.frame[a_order[i]], fb = b.frame[b_order[j]];
    if (fa < fb) {
      i = run_end(a, a_order, i);
    } else if (fb < fa) {
      j = run_end(b, b_order, j);
    } else {
      const std::size_t i_end = run_end(a, a_order, i), j_end = run_end(b, b_order, j);
      f(fa, RowSpan{a_order.data() + i, i_end - i}, RowSpan{b_order.data() + j, j_end - j});
      i = i_end;
      j = j_end;
    }
  }
}

inline bool finite_xy(const LocalizationTable& t, std::size_t row) noexcept {
  return std::isfinite(t.x_nm[row]) && std::isfinite(t.y_nm[row]);
}

/// Grid cell of a coordinate, clamped so that keys never overflow (clamping only merges far cells).
inline std::int64_t grid_cell(double coordinate, double origin, double inverse_cell) noexcept {
  constexpr double limit = 1 << 30;
  const double c = std::floor((coordinate - origin) * inverse_cell);
  return static_cast<std::int64_t>(std::clamp(c, -limit, limit));
}
inline std::uint64_t grid_key(std::int64_t cell_x, std::int64_t cell_y) noexcept {
  constexpr std::int64_t offset = std::int64_t{1} << 31;
  return (static_cast<std::uint64_t>(cell_y + offset) << 32) | static_cast<std::uint64_t>(cell_x + offset);
}

/// For every a-row k (ascending) and b-row l of one frame with squared lateral distance
/// d² ≤ radius², calls f(k, l, d²) (k, l local indices into the spans). Rows with non-finite
/// coordinates take no part. `cells` is scratch. Cost: a sort of the b rows plus three binary
/// searches per a row (grid of cell size `radius`).
template <class F>
void for_each_pair_within(const LocalizationTable& a, RowSpan a_rows, const LocalizationTable& b, RowSpan b_rows,
                          double radius, std::vector<std::pair<std::uint64_t, std::uint32_t>>& cells, F&& f) {
  const double r2 = radius * radius;
  const double inverse_cell = 1.0 / radius;
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0;
  for (std::size_t l = 0; l < b_rows.size; ++l) {
    if (!finite_xy(b, b_rows[l])) continue;
    x0 = std::min(x0, b.x_nm[b_rows[l]]);
    y0 = std::min(y0, b.y_nm[b_rows[l]]);
  }
  if (!std::isfinite(x0)) return;
  cells.clear();
  for (std::size_t l = 0; l < b_rows.size; ++l) {
    const std::size_t row = b_rows[l];
    if (!finite_xy(b, row)) continue;
    cells.push_back({grid_key(grid_cell(b.x_nm[row], x0, inverse_cell), grid_cell(b.y_nm[row], y0, inverse_cell)),
                     static_cast<std::uint32_t>(l)});
  }
  std::sort(cells.begin(), cells.end());
  for (std::size_t k = 0; k < a_rows.size; ++k) {
    const std::size_t row = a_rows[k];
    if (!finite_xy(a, row)) continue;
    const double xa = a.x_nm[row], ya = a.y_nm[row];
    const std::int64_t cx = grid_cell(xa, x0, inverse_cell), cy = grid_cell(ya, y0, inverse_cell);
    for (std::int64_t dy = -1; dy <= 1; ++dy) {
      const std::uint64_t lo = grid_key(cx - 1, cy + dy), hi = grid_key(cx + 1, cy + dy);
      auto it = std::lower_bound(cells.begin(), cells.end(), std::pair<std::uint64_t, std::uint32_t>{lo, 0});
      for (; it != cells.end() && it->first <= hi; ++it) {
        const std::size_t other = b_rows[it->second];
        const double ex = b.x_nm[other] - xa, ey = b.y_nm[other] - ya;
        const double d2 = ex * ex + ey * ey;
        if (d2 <= r2) f(k, static_cast<std::size_t>(it->second), d2);
      }
    }
  }
}

}  // namespace smlm::eval::detail
