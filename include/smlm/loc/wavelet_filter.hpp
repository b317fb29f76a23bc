// The B-spline wavelet filter and local-maximum detector of the classic pipeline, as ThunderSTORM
// does it by default (Ovesný et al., Bioinformatics 30:2389, 2014, and its documentation, "Wavelet
// filter (B-Spline)" and "Local maximum"), after Izeddin et al., "Wavelet analysis for single
// molecule localization microscopy", Opt. Express 20:2081 (2012).
//
// Undecimated ("à trous") wavelet transform with a separable kernel, two levels:
//   V1 = I ⊛ k1,      V2 = V1 ⊛ k2,      F1 = I − V1,      F2 = V1 − V2
// k1 is the B-spline of order `order` sampled at scale `scale`, k1(i) ∝ β_order(i / scale) for the
// integers i with |i| < (order + 1)·scale/2, normalised to sum 1 (order 3, scale 2 gives the
// 7 taps [1, 8, 23, 32, 23, 8, 1]/96); k2 is k1 with one zero inserted between taps ("à trous",
// with holes). Borders are padded by repeating the edge pixel, as ThunderSTORM does. F2 is the
// filtered image in which molecules are detected; F1 is dominated by the pixel noise, and
// ThunderSTORM's default threshold is 1 · std(F1) ("std(Wave.F1)").
// Deviation: Izeddin et al. and early ThunderSTORM use the 5-tap [1, 4, 6, 4, 1]/16 kernel (the
// discrete cubic B-spline); set order = 3 and `izeddin_kernel = true` for it.
//
// Detection (ThunderSTORM's "Local maximum", 8-connectivity): pixels of F2 above the threshold that
// are local maxima of their 3 × 3 neighbourhood, with the same tie rule as loc::find_peaks, at
// least `border_px` from the frame edge (where a fit window would be clipped anyway).
//
// All buffers live in a WaveletWorkspace the caller sizes once (allocation at the edge); the
// kernels are noexcept and allocate nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/loc/peak_finder.hpp>

namespace smlm::loc {

struct WaveletOptions {
  int order = 3;        ///< B-spline order, 1..5
  double scale = 2;     ///< B-spline scale, ≥ 1
  bool izeddin_kernel = false;  ///< use [1, 4, 6, 4, 1]/16 (ignores order and scale)

  bool valid() const noexcept { return izeddin_kernel || (order >= 1 && order <= 5 && scale >= 1 && scale <= 8); }
};

/// The uniform B-spline of order n (degree n, support [−(n+1)/2, (n+1)/2]) at x, by the
/// truncated-power formula β_n(x) = Σ_k (−1)^k C(n+1, k) max(x + (n+1)/2 − k, 0)^n / n!.
inline double bspline(int n, double x) noexcept {
  double sum = 0, binom = 1, fact = 1;
  for (int i = 2; i <= n; ++i) fact *= i;
  for (int k = 0; k <= n + 1; ++k) {
    const double t = x + (n + 1) / 2.0 - k;
    if (t > 0) sum += ((k & 1) ? -binom : binom) * std::pow(t, n);
    binom = binom * (n + 1 - k) / (k + 1);
  }
  return sum / fact;
}

/// Caller-owned buffers of the filter for frames up to a given size, and the level-1 kernel.
template <class T>
struct WaveletWorkspace {
  Image<T> v1, v2, tmp, f1, f2;
  std::vector<T> kernel;  ///< k1, 2·half + 1 taps
  int half = 0;

  WaveletWorkspace() = default;
  WaveletWorkspace(std::ptrdiff_t height, std::ptrdiff_t width, const WaveletOptions& options = {}) {
    resize(height, width, options);
  }
  void resize(std::ptrdiff_t height, std::ptrdiff_t width, const WaveletOptions& options = {}) {
    SMLM_ASSERT(options.valid(), "loc::WaveletWorkspace: invalid WaveletOptions");
    for (Image<T>* b : {&v1, &v2, &tmp, &f1, &f2}) b->resize(height, width);
    kernel.clear();
    if (options.izeddin_kernel) {
      kernel = {T(1) / 16, T(4) / 16, T(6) / 16, T(4) / 16, T(1) / 16};
    } else {
      const double support = (options.order + 1) * options.scale / 2;
      const int h = static_cast<int>(std::ceil(support)) - 1;
      double sum = 0;
      std::vector<double> k;
      for (int i = -h; i <= h; ++i) k.push_back(bspline(options.order, i / options.scale));
      for (double v : k) sum += v;
      for (double v : k) kernel.push_back(static_cast<T>(v / sum));
    }
    half = static_cast<int>(kernel.size() / 2);
  }
};

namespace detail {
/// out = in ⊛ k along rows (horizontal) and then columns, taps `step` apart, edge-replicated.
/// Interior pixels take the plain sums (vectorisable); only the borders clamp their indices.
template <class T>
void separable_convolve(const ConstImageView<T>& in, std::span<const T> k, int step, ImageView<T> tmp,
                        ImageView<T> out) noexcept {
  const std::ptrdiff_t h = in.rows(), w = in.cols();
  const int half = static_cast<int>(k.size() / 2);
  const std::ptrdiff_t reach = static_cast<std::ptrdiff_t>(half) * step;
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    const T* src = in.data() + y * in.outerStride();
    T* dst = tmp.data() + y * tmp.outerStride();
    auto clamped = [&](std::ptrdiff_t x) {
      T s = 0;
      for (int i = -half; i <= half; ++i)
        s += k[static_cast<std::size_t>(i + half)] * src[std::clamp<std::ptrdiff_t>(x + i * step, 0, w - 1)];
      dst[x] = s;
    };
    const std::ptrdiff_t lo = std::min(reach, w), hi = std::max(lo, w - reach);
    for (std::ptrdiff_t x = 0; x < lo; ++x) clamped(x);
    for (std::ptrdiff_t x = lo; x < hi; ++x) dst[x] = 0;
    for (int i = -half; i <= half; ++i) {  // taps outside, pixels inside: contiguous, vectorisable
      const T c = k[static_cast<std::size_t>(i + half)];
      const T* shifted = src + i * step;
      for (std::ptrdiff_t x = lo; x < hi; ++x) dst[x] += c * shifted[x];
    }
    for (std::ptrdiff_t x = hi; x < w; ++x) clamped(x);
  }
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    T* dst = out.data() + y * out.outerStride();
    for (std::ptrdiff_t x = 0; x < w; ++x) dst[x] = 0;
    for (int i = -half; i <= half; ++i) {
      const T c = k[static_cast<std::size_t>(i + half)];
      const T* src = tmp.data() + std::clamp<std::ptrdiff_t>(y + i * step, 0, h - 1) * tmp.outerStride();
      for (std::ptrdiff_t x = 0; x < w; ++x) dst[x] += c * src[x];
    }
  }
}
}  // namespace detail

/// Fills ws.f1 and ws.f2 for `frame` (see the header) and returns std(F1) (population standard
/// deviation over the frame). Precondition: ws was sized for the frame.
template <class T>
T wavelet_filter(ConstImageView<T> frame, WaveletWorkspace<T>& ws) SMLM_NOEXCEPT {
  SMLM_ASSERT(ws.v1.rows() == frame.rows() && ws.v1.cols() == frame.cols() && !ws.kernel.empty(),
              "loc::wavelet_filter: workspace not sized for this frame");
  const std::span<const T> k(ws.kernel);
  detail::separable_convolve(frame, k, 1, make_view(ws.tmp), make_view(ws.v1));
  detail::separable_convolve(const_view(ws.v1), k, 2, make_view(ws.tmp), make_view(ws.v2));
  ws.f1 = frame - ws.v1;
  ws.f2 = ws.v1 - ws.v2;
  const std::ptrdiff_t n = frame.size();
  if (n == 0) return T(0);
  double mean = 0, m2 = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) mean += ws.f1.data()[i];
  mean /= static_cast<double>(n);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const double d = ws.f1.data()[i] - mean;
    m2 += d * d;
  }
  return static_cast<T>(std::sqrt(m2 / static_cast<double>(n)));
}

/// Local maxima of `filtered` (3 × 3, ThunderSTORM's 8-neighbourhood) strictly above `threshold`,
/// at least border_px from every edge; writes their pixel (row, col) and value into `out` in
/// row-major order, pixel-centre positions, and returns how many (truncated at out.size(); the
/// result says so).
template <class T>
PeakFinderResult detect_local_maxima(ConstImageView<T> filtered, double threshold, int border_px,
                                     std::span<Peak> out) noexcept {
  PeakFinderResult r;
  for (std::ptrdiff_t y = border_px; y < filtered.rows() - border_px; ++y) {
    for (std::ptrdiff_t x = border_px; x < filtered.cols() - border_px; ++x) {
      const double v = filtered(y, x);
      if (!(v > threshold) || !detail::is_local_maximum(filtered, y, x, 1)) continue;
      if (r.count == out.size()) {
        r.truncated = true;
        return r;
      }
      Peak& p = out[r.count++];
      p = Peak{};
      p.row = static_cast<std::int32_t>(y);
      p.col = static_cast<std::int32_t>(x);
      p.x_px = x + 0.5;
      p.y_px = y + 0.5;
      p.value = v;
    }
  }
  return r;
}

}  // namespace smlm::loc
