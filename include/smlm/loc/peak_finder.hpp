// Peak finding on super-resolved network output (Deep-STORM / cellSTORM style): the network
// emits an image on a grid `upsample` times finer than the camera's, in which each molecule is a
// compact blob; a molecule is a local maximum of that image.
//
// Steps (all on the output grid, output pixel (r, c) covering [c, c+1) × [r, r+1)):
//   1. Candidates: pixels whose value is above the threshold, t = max(threshold,
//      relative_threshold · max(image)) (cellSTORM used a fraction of the frame maximum), and is a
//      local maximum of the (2·neighbourhood_radius_px + 1)² square around it. Ties (plateaus):
//      a pixel must be strictly greater than every neighbour that precedes it in row-major order
//      and at least equal to every neighbour that follows it, so a flat plateau that fits inside
//      the neighbourhood yields exactly one candidate, its first pixel in row-major order.
//      Pixels outside the image are not neighbours (a maximum on the border counts).
//   2. Minimum-distance suppression: candidates in decreasing value (ties: row-major order); a
//      candidate closer than min_distance_px (output pixels, Euclidean, between pixel centres) to
//      a kept one is dropped.
//   3. Sub-pixel refinement around each kept pixel:
//      * centroid: the value-weighted centroid of the (2·refine_radius_px + 1)² square (clipped to
//        the image), weights max(v − floor, 0) with floor the smallest value in that square, so a
//        constant pedestal does not pull the estimate toward the square's centre;
//      * quadratic: the least-squares quadratic surface a + bx + cy + dx² + exy + fy² through the
//        3 × 3 values, maximised in closed form (orthogonal polynomials on {−1, 0, 1}²:
//        b = Σxv/6, c = Σyv/6, e = Σxyv/4, d = (Σx²v − ⅔Σv)/2, f likewise); where the surface has
//        no maximum within one pixel of the centre, or the 3 × 3 square leaves the image, the
//        centroid is used instead;
//      * none: the pixel centre.
//   4. Confidence: the integrated output mass, Σ v over the (2·mass_radius_px + 1)² square
//      (clipped). A network trained on photon-weighted targets makes this a photon estimate.
// Conversion to nanometres: an output coordinate u (output pixels) is u / upsample camera pixels,
// so x_nm = u · pixel_nm / upsample. Tables are 1-based in frame (DESIGN.md).
//
// The kernel find_peaks writes into a caller-provided span and allocates nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>

namespace smlm::loc {

enum class refinement : std::uint8_t { none, centroid, quadratic };

struct PeakFinderOptions {
  int neighbourhood_radius_px = 1;  ///< local-maximum square half-width, output pixels (1: 3 × 3)
  double threshold = 0;             ///< absolute threshold, output units (a value must exceed it)
  double relative_threshold = 0;    ///< fraction of the frame maximum, in [0, 1]
  double min_distance_px = 0;       ///< suppression radius between peaks, output pixels
  refinement refine = refinement::centroid;
  int refine_radius_px = 1;         ///< centroid square half-width, output pixels
  int mass_radius_px = 1;           ///< confidence square half-width, output pixels

  bool valid() const noexcept {
    return neighbourhood_radius_px >= 1 && std::isfinite(threshold) && relative_threshold >= 0 &&
           relative_threshold <= 1 && min_distance_px >= 0 && std::isfinite(min_distance_px) &&
           refine_radius_px >= 0 && mass_radius_px >= 0;
  }
};

/// One peak in output-grid coordinates (continuous, output pixel c spans [c, c+1)).
struct Peak {
  double x_px = 0;
  double y_px = 0;
  double value = 0;  ///< the output at the peak pixel
  double mass = 0;   ///< integrated output around it (the confidence)
  std::int32_t row = 0, col = 0;  ///< the peak pixel
};

struct PeakFinderResult {
  std::size_t count = 0;   ///< peaks written to the span
  bool truncated = false;  ///< more candidates than the span holds: the span was filled with the
                           ///< first ones in row-major order and suppression ran over those only
};

namespace detail {

template <class T>
bool is_local_maximum(const ConstImageView<T>& img, std::ptrdiff_t r, std::ptrdiff_t c, int radius) noexcept {
  const T v = img(r, c);
  const std::ptrdiff_t r0 = std::max<std::ptrdiff_t>(0, r - radius), r1 = std::min<std::ptrdiff_t>(img.rows() - 1, r + radius);
  const std::ptrdiff_t c0 = std::max<std::ptrdiff_t>(0, c - radius), c1 = std::min<std::ptrdiff_t>(img.cols() - 1, c + radius);
  for (std::ptrdiff_t y = r0; y <= r1; ++y) {
    for (std::ptrdiff_t x = c0; x <= c1; ++x) {
      if (y == r && x == c) continue;
      const T n = img(y, x);
      const bool precedes = y < r || (y == r && x < c);
      if (precedes ? !(v > n) : !(v >= n)) return false;
    }
  }
  return true;
}

struct Square {
  std::ptrdiff_t r0, r1, c0, c1;  // inclusive
};
template <class T>
Square clipped_square(const ConstImageView<T>& img, std::ptrdiff_t r, std::ptrdiff_t c, int radius) noexcept {
  return {std::max<std::ptrdiff_t>(0, r - radius), std::min<std::ptrdiff_t>(img.rows() - 1, r + radius),
          std::max<std::ptrdiff_t>(0, c - radius), std::min<std::ptrdiff_t>(img.cols() - 1, c + radius)};
}

template <class T>
void centroid(const ConstImageView<T>& img, Peak& p, int radius) noexcept {
  const Square s = clipped_square(img, p.row, p.col, radius);
  double floor = img(p.row, p.col);
  for (std::ptrdiff_t y = s.r0; y <= s.r1; ++y)
    for (std::ptrdiff_t x = s.c0; x <= s.c1; ++x) floor = std::min(floor, static_cast<double>(img(y, x)));
  double w = 0, wx = 0, wy = 0;
  for (std::ptrdiff_t y = s.r0; y <= s.r1; ++y) {
    for (std::ptrdiff_t x = s.c0; x <= s.c1; ++x) {
      const double v = std::max(static_cast<double>(img(y, x)) - floor, 0.0);
      w += v;
      wx += v * (static_cast<double>(x) + 0.5);
      wy += v * (static_cast<double>(y) + 0.5);
    }
  }
  if (w > 0 && std::isfinite(w)) {
    p.x_px = wx / w;
    p.y_px = wy / w;
  }
}

/// Closed-form LSQ quadratic on the 3 × 3 square; false where it has no maximum within one pixel.
template <class T>
bool quadratic(const ConstImageView<T>& img, Peak& p) noexcept {
  if (p.row < 1 || p.col < 1 || p.row + 1 >= img.rows() || p.col + 1 >= img.cols()) return false;
  double sum = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const double v = img(p.row + dy, p.col + dx);
      sum += v;
      sx += dx * v;
      sy += dy * v;
      sxx += dx * dx * v;
      syy += dy * dy * v;
      sxy += dx * dy * v;
    }
  }
  const double b = sx / 6, c = sy / 6, e = sxy / 4;
  const double d = (sxx - 2.0 * sum / 3) / 2, f = (syy - 2.0 * sum / 3) / 2;
  const double det = 4 * d * f - e * e;
  if (!(d < 0 && det > 0)) return false;
  const double ox = (e * c - 2 * f * b) / det, oy = (e * b - 2 * d * c) / det;
  if (!(std::abs(ox) <= 1 && std::abs(oy) <= 1)) return false;
  p.x_px = p.col + 0.5 + ox;
  p.y_px = p.row + 0.5 + oy;
  return true;
}

}  // namespace detail

/// Finds, refines and scores the peaks of one output frame (see the header). Writes at most
/// out.size() peaks, ordered by decreasing value (ties: row-major). Non-finite pixels are never
/// peaks, and a frame whose maximum is not finite uses the absolute threshold only.
template <class T>
PeakFinderResult find_peaks(ConstImageView<T> image, const PeakFinderOptions& options,
                            std::span<Peak> out) SMLM_NOEXCEPT {
  SMLM_ASSERT(options.valid(), "loc::find_peaks: invalid PeakFinderOptions");
  PeakFinderResult result;
  if (image.size() == 0) return result;
  double frame_max = -INFINITY;
  for (std::ptrdiff_t y = 0; y < image.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < image.cols(); ++x)
      if (std::isfinite(image(y, x))) frame_max = std::max(frame_max, static_cast<double>(image(y, x)));
  double t = options.threshold;
  if (options.relative_threshold > 0 && std::isfinite(frame_max)) t = std::max(t, options.relative_threshold * frame_max);

  std::size_t n = 0;
  for (std::ptrdiff_t y = 0; y < image.rows(); ++y) {
    for (std::ptrdiff_t x = 0; x < image.cols(); ++x) {
      const double v = image(y, x);
      if (!(v > t) || !std::isfinite(v)) continue;
      if (!detail::is_local_maximum(image, y, x, options.neighbourhood_radius_px)) continue;
      if (n == out.size()) {
        result.truncated = true;
        break;
      }
      Peak& p = out[n++];
      p = Peak{};
      p.row = static_cast<std::int32_t>(y);
      p.col = static_cast<std::int32_t>(x);
      p.value = v;
    }
    if (result.truncated) break;
  }
  std::sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), [](const Peak& a, const Peak& b) {
    if (a.value != b.value) return a.value > b.value;
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  if (options.min_distance_px > 0) {
    const double d2 = options.min_distance_px * options.min_distance_px;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      bool near = false;
      for (std::size_t k = 0; k < kept && !near; ++k) {
        const double dy = out[i].row - out[k].row, dx = out[i].col - out[k].col;
        near = dx * dx + dy * dy < d2;
      }
      if (!near) out[kept++] = out[i];
    }
    n = kept;
  }
  for (std::size_t i = 0; i < n; ++i) {
    Peak& p = out[i];
    p.x_px = p.col + 0.5;
    p.y_px = p.row + 0.5;
    if (options.refine == refinement::quadratic) {
      if (!detail::quadratic(image, p)) detail::centroid(image, p, 1);
    } else if (options.refine == refinement::centroid) {
      detail::centroid(image, p, options.refine_radius_px);
    }
    const detail::Square s = detail::clipped_square(image, p.row, p.col, options.mass_radius_px);
    double mass = 0;
    for (std::ptrdiff_t y = s.r0; y <= s.r1; ++y)
      for (std::ptrdiff_t x = s.c0; x <= s.c1; ++x) mass += static_cast<double>(image(y, x));
    p.mass = mass;
  }
  result.count = n;
  return result;
}

/// Appends peaks of output frame `frame` (1-based) to a table: x_nm = x_px · pixel_nm / upsample
/// (pixel_nm the camera pixel), intensity_photons = the peak's mass (the confidence), id = row
/// number (1-based) when the table numbers its rows. Precondition: the sigma, offset, bkgstd,
/// uncertainty and z columns are empty (peak finding has nothing to put there).
inline void append_peaks(LocalizationTable& table, std::span<const Peak> peaks, std::int32_t frame,
                         double pixel_nm, int upsample) {
  SMLM_ASSERT(pixel_nm > 0 && upsample >= 1, "loc::append_peaks: pixel_nm > 0 and upsample >= 1");
  SMLM_ASSERT(table.sigma_nm.empty() && table.offset_photons.empty() && table.bkgstd_photons.empty() &&
                  table.uncertainty_xy_nm.empty() && table.z_nm.empty(),
              "loc::append_peaks: the table must hold only frame, x, y, intensity (and id) columns");
  const double scale = pixel_nm / upsample;
  for (const Peak& p : peaks) {
    if (!table.id.empty() || table.size() == 0) table.id.push_back(static_cast<std::int64_t>(table.size() + 1));
    table.frame.push_back(frame);
    table.x_nm.push_back(p.x_px * scale);
    table.y_nm.push_back(p.y_px * scale);
    table.intensity_photons.push_back(p.mass);
  }
}

}  // namespace smlm::loc
