// Drift correction by redundant cross-correlation (RCC; Wang et al., Opt. Express 22, 15982, 2014).
//
// A stage that drifts during an acquisition moves every molecule by the same d(f) in frame f. The
// molecules blink many times, so two stretches of the movie show the same structure, shifted by the
// difference of their drifts. RCC:
//   1. splits the frames into S segments of `segment_frames` frames and renders each segment's
//      localizations as an image (a unit Gaussian of `blur_px` pixels per localization, pixels of
//      `pixel_nm`);
//   2. cross-correlates every pair i < j of segments (FFT, zero-padded so shifts up to
//      `max_drift_nm` do not wrap) and takes the correlation peak with a sub-pixel refinement (a
//      parabola through the logarithm of the peak and its two neighbours, per axis — exact for a
//      Gaussian peak): r_ij ≈ d_j − d_i;
//   3. solves the S(S−1)/2 equations d_j − d_i = r_ij for the S − 1 unknowns (d of the first
//      segment = 0) by least squares, then drops the equation with the largest residual while it
//      exceeds `outlier_nm` and the rest still determine every segment, and solves again;
//   4. interpolates d linearly between the segments' centre frames (the mean frame of their
//      localizations), extrapolating from the two end segments, to one drift per frame.
// The redundancy (S(S−1)/2 measurements of S − 1 unknowns) is what makes it robust: one bad
// correlation is outvoted and rejected. Only the relative drift is measurable: the estimate is 0 at
// the first frame, which the correction leaves where it was.
//
// Segments without localizations drop out. Fewer than two segments with localizations, an empty
// table or bad options: an error Status naming the value.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>

#include <smlm/core/fft_size.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/status.hpp>

namespace smlm::post {

struct DriftOptions {
  std::int32_t segment_frames = 0;  ///< frames per segment; 0: enough for ~`locs_per_segment` each
  std::size_t locs_per_segment = 5000;  ///< with segment_frames = 0 (at least 2, at most 25 segments)
  double pixel_nm = 20;             ///< pixel of the correlated images
  double blur_px = 1;               ///< Gaussian sigma of one localization in the images, pixels
  double max_drift_nm = 1000;       ///< largest drift between two segments that is searched for
  double outlier_nm = 10;           ///< an equation whose residual exceeds this is rejected
};

struct DriftEstimate {
  std::vector<double> segment_frame;         ///< centre frame of each segment used (1-based)
  std::vector<double> segment_x_nm, segment_y_nm;  ///< its drift
  std::int32_t first_frame = 1;              ///< frame of x_nm[0]
  std::vector<double> x_nm, y_nm;            ///< drift of every frame first_frame, first_frame + 1, …
  std::int32_t segment_frames = 0;           ///< as used
  std::size_t pairs = 0, rejected = 0;       ///< equations, and how many were dropped
  double residual_rms_nm = 0;                ///< of the kept equations

  /// The drift of `frame` (held at the ends of the range).
  std::pair<double, double> at(std::int32_t frame) const noexcept {
    if (x_nm.empty()) return {0.0, 0.0};
    const auto i = static_cast<std::size_t>(
        std::clamp<std::int64_t>(std::int64_t{frame} - first_frame, 0, static_cast<std::int64_t>(x_nm.size()) - 1));
    return {x_nm[i], y_nm[i]};
  }
};

namespace detail {

using ComplexImage = Eigen::Matrix<std::complex<float>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// In-place 2-D FFT (rows, then columns); `inverse` includes the 1/(rows·cols) scaling.
inline void fft2(ComplexImage& a, bool inverse, Eigen::FFT<float>& fft) {
  std::vector<std::complex<float>> in, out;
  for (int pass = 0; pass < 2; ++pass) {
    const std::ptrdiff_t lines = pass == 0 ? a.rows() : a.cols(), length = pass == 0 ? a.cols() : a.rows();
    in.resize(static_cast<std::size_t>(length));
    for (std::ptrdiff_t l = 0; l < lines; ++l) {
      for (std::ptrdiff_t k = 0; k < length; ++k) in[static_cast<std::size_t>(k)] = pass == 0 ? a(l, k) : a(k, l);
      if (inverse) {
        fft.inv(out, in);  // Eigen's inverse divides by the length
      } else {
        fft.fwd(out, in);
      }
      for (std::ptrdiff_t k = 0; k < length; ++k) (pass == 0 ? a(l, k) : a(k, l)) = out[static_cast<std::size_t>(k)];
    }
  }
}

/// Offset of the maximum of f(-1), f(0), f(1) from 0, by a parabola through log f (exact for a
/// Gaussian) or, where a value is not positive, through f; within [-0.5, 0.5].
inline double subpixel_offset(double fm, double f0, double fp) {
  double a = fm, b = f0, c = fp;
  if (fm > 0 && f0 > 0 && fp > 0) a = std::log(fm), b = std::log(f0), c = std::log(fp);
  const double denominator = a - 2 * b + c;
  if (!(denominator < 0)) return 0;
  return std::clamp(0.5 * (a - c) / denominator, -0.5, 0.5);
}

/// Rank of the equations' matrix after dropping the marked rows equals its columns.
inline bool determines_all(const Eigen::MatrixXd& a, const std::vector<bool>& kept) {
  Eigen::MatrixXd k(std::count(kept.begin(), kept.end(), true), a.cols());
  for (std::ptrdiff_t i = 0, r = 0; i < a.rows(); ++i)
    if (kept[static_cast<std::size_t>(i)]) k.row(r++) = a.row(i);
  return k.rows() >= a.cols() && Eigen::ColPivHouseholderQR<Eigen::MatrixXd>(k).rank() == a.cols();
}

}  // namespace detail

/// Estimates the drift of `table` by RCC (see the header).
inline Expected<DriftEstimate> estimate_drift(const LocalizationTable& table, const DriftOptions& o = {}) {
  if (table.size() == 0) return make_error(errc::invalid_argument, "post::estimate_drift: the table has no localizations");
  if (!table.consistent()) return make_error(errc::invalid_argument, "post::estimate_drift: the table's columns differ in length");
  if (!(o.pixel_nm > 0) || !std::isfinite(o.pixel_nm))
    return make_error(errc::invalid_argument, "post::estimate_drift: pixel_nm ", o.pixel_nm, " must be > 0");
  if (!(o.blur_px > 0) || !(o.blur_px <= 10))
    return make_error(errc::invalid_argument, "post::estimate_drift: blur_px ", o.blur_px, " must be in (0, 10]");
  if (!(o.max_drift_nm > 0) || !std::isfinite(o.max_drift_nm))
    return make_error(errc::invalid_argument, "post::estimate_drift: max_drift_nm ", o.max_drift_nm, " must be > 0");
  if (!(o.outlier_nm > 0)) return make_error(errc::invalid_argument, "post::estimate_drift: outlier_nm ", o.outlier_nm, " must be > 0");
  if (o.segment_frames < 0)
    return make_error(errc::invalid_argument, "post::estimate_drift: segment_frames ", o.segment_frames, " must be >= 0");
  if (o.segment_frames == 0 && o.locs_per_segment == 0)
    return make_error(errc::invalid_argument, "post::estimate_drift: locs_per_segment must be > 0");

  const auto [fmin_it, fmax_it] = std::minmax_element(table.frame.begin(), table.frame.end());
  const std::int32_t first = *fmin_it, last = *fmax_it;
  const std::int64_t span = std::int64_t{last} - first + 1;
  std::int32_t seg = o.segment_frames;
  if (seg == 0) {
    const auto wanted = static_cast<std::int64_t>(std::clamp<std::size_t>(table.size() / o.locs_per_segment, 2, 25));
    seg = static_cast<std::int32_t>(std::max<std::int64_t>(1, (span + wanted - 1) / wanted));
  }
  const auto segments = static_cast<std::ptrdiff_t>((span + seg - 1) / seg);
  if (segments < 2)
    return make_error(errc::invalid_argument, "post::estimate_drift: frames ", first, "..", last, " make one segment of ", seg,
                      " frames; RCC needs at least two");

  // The images: a common grid over the localizations' bounding box, padded by the largest drift.
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (!std::isfinite(table.x_nm[i]) || !std::isfinite(table.y_nm[i]))
      return make_error(errc::invalid_argument, "post::estimate_drift: row ", i + 1, " has a position that is not finite");
    x0 = std::min(x0, table.x_nm[i]), x1 = std::max(x1, table.x_nm[i]);
    y0 = std::min(y0, table.y_nm[i]), y1 = std::max(y1, table.y_nm[i]);
  }
  const auto pad = static_cast<std::ptrdiff_t>(std::ceil(o.max_drift_nm / o.pixel_nm)) + 1;
  const auto blur_r = static_cast<std::ptrdiff_t>(std::ceil(3 * o.blur_px));
  const std::ptrdiff_t cols = fast_fft_size(static_cast<std::ptrdiff_t>((x1 - x0) / o.pixel_nm) + 2 * blur_r + 2 + pad);
  const std::ptrdiff_t rows = fast_fft_size(static_cast<std::ptrdiff_t>((y1 - y0) / o.pixel_nm) + 2 * blur_r + 2 + pad);
  // The segments' spectra are kept (complex float): at most 1 GiB of them.
  if (double(rows) * double(cols) * double(segments) * 8 > 1024.0 * 1024 * 1024)
    return make_error(errc::invalid_argument, "post::estimate_drift: the field (", x1 - x0, " × ", y1 - y0, " nm) at pixel_nm ",
                      o.pixel_nm, " needs ", segments, " images of ", cols, " × ", rows,
                      " pixels, over 1 GiB; use a larger pixel_nm or longer segments");

  Eigen::FFT<float> fft;
  std::vector<detail::ComplexImage> spectra;
  std::vector<double> centre;  // mean frame of each kept segment
  std::vector<std::size_t> counts(static_cast<std::size_t>(segments), 0);
  std::vector<double> frame_sum(static_cast<std::size_t>(segments), 0);
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto s = static_cast<std::size_t>((std::int64_t{table.frame[i]} - first) / seg);
    ++counts[s], frame_sum[s] += table.frame[i];
  }
  // The segments with localizations, their images (one pass over the rows), and their spectra.
  std::vector<std::ptrdiff_t> slot(static_cast<std::size_t>(segments), -1);
  for (std::ptrdiff_t s = 0; s < segments; ++s) {
    if (counts[static_cast<std::size_t>(s)] == 0) continue;
    slot[static_cast<std::size_t>(s)] = static_cast<std::ptrdiff_t>(centre.size());
    centre.push_back(frame_sum[static_cast<std::size_t>(s)] / double(counts[static_cast<std::size_t>(s)]));
  }
  const auto n = static_cast<std::ptrdiff_t>(centre.size());
  if (n < 2)
    return make_error(errc::invalid_argument, "post::estimate_drift: only one segment of ", seg,
                      " frames has localizations; RCC needs at least two");
  spectra.assign(static_cast<std::size_t>(n), detail::ComplexImage::Zero(rows, cols));
  const double inv_two_var = 1 / (2 * o.blur_px * o.blur_px);
  const double origin_x = x0 / o.pixel_nm - double(blur_r) - 1, origin_y = y0 / o.pixel_nm - double(blur_r) - 1;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto s = static_cast<std::size_t>((std::int64_t{table.frame[i]} - first) / seg);
    detail::ComplexImage& image = spectra[static_cast<std::size_t>(slot[s])];
    const double px = table.x_nm[i] / o.pixel_nm - origin_x, py = table.y_nm[i] / o.pixel_nm - origin_y;
    const auto cx = static_cast<std::ptrdiff_t>(std::floor(px)), cy = static_cast<std::ptrdiff_t>(std::floor(py));
    for (std::ptrdiff_t v = cy - blur_r; v <= cy + blur_r + 1; ++v)
      for (std::ptrdiff_t u = cx - blur_r; u <= cx + blur_r + 1; ++u) {
        const double dx = double(u) + 0.5 - px, dy = double(v) + 0.5 - py;
        image(v, u) += static_cast<float>(std::exp(-(dx * dx + dy * dy) * inv_two_var));
      }
  }
  for (detail::ComplexImage& image : spectra) detail::fft2(image, false, fft);

  // Every pair's shift: the peak of IFFT(conj(F_i) F_j) within ±pad pixels.
  const std::ptrdiff_t equations = n * (n - 1) / 2;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(equations, n - 1);
  Eigen::MatrixXd r(equations, 2);
  detail::ComplexImage product;
  for (std::ptrdiff_t i = 0, e = 0; i < n; ++i)
    for (std::ptrdiff_t j = i + 1; j < n; ++j, ++e) {
      product = spectra[static_cast<std::size_t>(i)].conjugate().cwiseProduct(spectra[static_cast<std::size_t>(j)]);
      detail::fft2(product, true, fft);
      auto value = [&](std::ptrdiff_t dy, std::ptrdiff_t dx) {
        return double(product((dy + rows) % rows, (dx + cols) % cols).real());
      };
      std::ptrdiff_t by = 0, bx = 0;
      double best = -std::numeric_limits<double>::infinity();
      for (std::ptrdiff_t dy = -pad; dy <= pad; ++dy)
        for (std::ptrdiff_t dx = -pad; dx <= pad; ++dx)
          if (const double c = value(dy, dx); c > best) best = c, by = dy, bx = dx;
      const double sx = double(bx) + detail::subpixel_offset(value(by, bx - 1), best, value(by, bx + 1));
      const double sy = double(by) + detail::subpixel_offset(value(by - 1, bx), best, value(by + 1, bx));
      if (i > 0) a(e, i - 1) = -1;
      a(e, j - 1) = 1;
      r(e, 0) = sx * o.pixel_nm, r(e, 1) = sy * o.pixel_nm;
    }

  // Least squares, dropping the worst equation while it is an outlier and the rest suffice.
  std::vector<bool> kept(static_cast<std::size_t>(equations), true);
  Eigen::MatrixXd d;
  std::size_t rejected = 0;
  double rms = 0;
  for (;;) {
    const auto m = static_cast<std::ptrdiff_t>(std::count(kept.begin(), kept.end(), true));
    Eigen::MatrixXd ak(m, n - 1), rk(m, 2);
    for (std::ptrdiff_t e = 0, k = 0; e < equations; ++e)
      if (kept[static_cast<std::size_t>(e)]) ak.row(k) = a.row(e), rk.row(k++) = r.row(e);
    d = ak.colPivHouseholderQr().solve(rk);
    const Eigen::MatrixXd residual = a * d - r;
    std::ptrdiff_t worst = -1;
    double worst_error = o.outlier_nm, sum = 0;
    for (std::ptrdiff_t e = 0; e < equations; ++e) {
      if (!kept[static_cast<std::size_t>(e)]) continue;
      const double error = residual.row(e).norm();
      sum += error * error;
      if (error > worst_error) worst_error = error, worst = e;
    }
    rms = std::sqrt(sum / double(m));
    if (worst < 0) break;
    kept[static_cast<std::size_t>(worst)] = false;
    if (!detail::determines_all(a, kept)) {
      kept[static_cast<std::size_t>(worst)] = true;
      break;
    }
    ++rejected;
  }

  DriftEstimate out;
  out.segment_frames = seg;
  out.pairs = static_cast<std::size_t>(equations);
  out.rejected = rejected;
  out.residual_rms_nm = rms;
  out.segment_frame = centre;
  out.segment_x_nm.assign(1, 0.0), out.segment_y_nm.assign(1, 0.0);
  for (std::ptrdiff_t k = 0; k + 1 < n; ++k) out.segment_x_nm.push_back(d(k, 0)), out.segment_y_nm.push_back(d(k, 1));
  // Per frame: linear between the centres, extrapolated from the end pairs.
  out.first_frame = first;
  out.x_nm.resize(static_cast<std::size_t>(span)), out.y_nm.resize(static_cast<std::size_t>(span));
  std::size_t k = 0;
  for (std::int64_t f = first; f <= last; ++f) {
    const double t = double(f);
    while (k + 2 < centre.size() && t > centre[k + 1]) ++k;
    const double w = (t - centre[k]) / (centre[k + 1] - centre[k]);
    const auto i = static_cast<std::size_t>(f - first);
    out.x_nm[i] = out.segment_x_nm[k] + w * (out.segment_x_nm[k + 1] - out.segment_x_nm[k]);
    out.y_nm[i] = out.segment_y_nm[k] + w * (out.segment_y_nm[k + 1] - out.segment_y_nm[k]);
  }
  // Relative to the first frame, which the correction leaves where it was.
  const double ax = out.x_nm.front(), ay = out.y_nm.front();
  for (double& v : out.x_nm) v -= ax;
  for (double& v : out.y_nm) v -= ay;
  for (double& v : out.segment_x_nm) v -= ax;
  for (double& v : out.segment_y_nm) v -= ay;
  return out;
}

/// Subtracts the estimated drift from every row's position.
inline void correct_drift(LocalizationTable& table, const DriftEstimate& drift) noexcept {
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto [dx, dy] = drift.at(table.frame[i]);
    table.x_nm[i] -= dx;
    table.y_nm[i] -= dy;
  }
}

}  // namespace smlm::post
