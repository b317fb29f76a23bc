// Fourier ring correlation (FRC) between two independent half-data images, and the image
// resolution it gives (Nieuwenhuizen et al., "Measuring image resolution in optical nanoscopy",
// Nat. Methods 10, 557 (2013); Banterle et al., J. Struct. Biol. 183, 363 (2013)).
//
// Split the localizations into two halves (split_halves), render both on the same grid
// (render module), then
//
//     FRC(q) = Re Σ_{k ∈ ring q} F₁(k) F₂*(k) / √( Σ_{ring q} |F₁(k)|² · Σ_{ring q} |F₂(k)|² )
//
// where F₁, F₂ are the 2D discrete Fourier transforms of the two (windowed, zero-padded to a
// square of N × N, N the smallest 2·3·5-smooth size ≥ the larger side) images, and ring q holds
// the frequencies k = (k_x, k_y) (signed indices, cycles per N pixels) with round(|k|) = q,
// q = 0 … N/2. Ring q is the spatial frequency f = q / (N · pixel_nm). The resolution is 1/f at
// the first ring q ≥ 1 where the (optionally smoothed) curve drops below the threshold 1/7,
// with f linearly interpolated between that ring and the one before it (Nieuwenhuizen's fixed
// 1/7 threshold). If the curve never drops below it, `crossed` is false and resolution_nm is
// 1 / f(N/2) ≈ 2 · pixel_nm, the finest the grid can show: the data resolve at least that, and a
// finer rendering is needed to measure it.
//
// Where we deviate: Nieuwenhuizen et al. smooth the curve with a LOESS-type filter; we offer a
// centred moving average over 2·smoothing_rings + 1 rings (clipped at the ends). The window
// applied before the transform (default: Tukey with α = 1/4, cosine edges over 1/8 of each side;
// hann = Tukey with α = 1) suppresses the cross-shaped leakage of the image borders, which would
// otherwise correlate the halves at all frequencies.
//
// Random halves of single localizations overestimate the correlation when a molecule is
// localized in several frames (its repeats fall into both halves); Nieuwenhuizen et al. split
// into blocks of frames for that reason. split_mode::frame_blocks assigns alternating blocks of
// block_frames frames (block_frames = 1: odd/even frames).
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <unsupported/Eigen/FFT>

#include <smlm/core/config.hpp>
#include <smlm/core/fft_size.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/rng.hpp>

namespace smlm::eval {

enum class split_mode : std::uint8_t {
  random,        ///< each row to half 1 or 2 with probability ½ (Philox stream of `seed`)
  frame_blocks,  ///< frames in alternating blocks of block_frames: block 0, 2, 4 … → half 1
};

struct SplitOptions {
  split_mode mode = split_mode::random;
  std::uint64_t seed = 1;
  std::int32_t block_frames = 1;  ///< frame_blocks only; ≥ 1 (1: odd frames vs even frames)
};

/// The RNG purpose word of the random split (a library stream outside core's rng_purpose list).
inline constexpr std::uint32_t frc_split_purpose = 0x46524331u;  // "FRC1"

namespace detail {
/// Appends row i of `src` to `dst`, every column `src` has (dst must have the same set).
inline void append_row(LocalizationTable& dst, const LocalizationTable& src, std::size_t i) {
  if (!src.id.empty()) dst.id.push_back(src.id[i]);
  dst.frame.push_back(src.frame[i]);
  src.for_each_real_column([&](std::string_view name, const std::vector<double>& column) {
    if (column.empty()) return;
    dst.for_each_real_column([&](std::string_view dst_name, std::vector<double>& dst_column) {
      if (dst_name == name) dst_column.push_back(column[i]);
    });
  });
}
}  // namespace detail

/// Two disjoint tables whose union is `table` (rows keep their order and all columns).
inline std::pair<LocalizationTable, LocalizationTable> split_halves(const LocalizationTable& table,
                                                                    const SplitOptions& options = {}) {
  SMLM_ASSERT(table.consistent(), "eval::split_halves: inconsistent table");
  SMLM_ASSERT(options.mode != split_mode::frame_blocks || options.block_frames >= 1,
              "eval::split_halves: block_frames must be >= 1");
  std::pair<LocalizationTable, LocalizationTable> halves;
  Philox4x32 rng(options.seed, 0, frc_split_purpose);
  for (std::size_t i = 0; i < table.size(); ++i) {
    bool first;
    if (options.mode == split_mode::random) {
      first = (rng() >> 31) == 0;
    } else {
      const std::int64_t block = (static_cast<std::int64_t>(table.frame[i]) - 1) / options.block_frames;
      first = block % 2 == 0;
    }
    detail::append_row(first ? halves.first : halves.second, table, i);
  }
  return halves;
}

enum class frc_window : std::uint8_t { none, hann, tukey };

struct FrcOptions {
  frc_window window = frc_window::tukey;
  double tukey_alpha = 0.25;    ///< fraction of each side inside the cosine edges, (0, 1]
  int smoothing_rings = 0;      ///< half-width of the moving average; 0: no smoothing
  double threshold = 1.0 / 7.0;
};

struct FrcCurve {
  std::vector<double> frequency_per_nm;  ///< ring q: q / (N · pixel_nm)
  std::vector<double> correlation;       ///< FRC(q) (smoothed when asked), q = 0 … N/2
  std::vector<std::size_t> ring_pixels;  ///< frequencies in ring q
  double resolution_nm = 0;              ///< 1 / f at the threshold crossing
  bool crossed = false;                  ///< the curve fell below the threshold
};

namespace detail {

/// Tukey window over n samples at (i + ½) / n; alpha = 1 is the Hann window.
inline double tukey(std::ptrdiff_t i, std::ptrdiff_t n, double alpha) noexcept {
  const double t = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
  const double edge = alpha / 2;
  const double d = std::min(t, 1 - t);
  if (d >= edge) return 1.0;
  return 0.5 * (1 - std::cos(M_PI * d / edge));
}

/// 2D DFT of `image` (times the separable window) zero-padded to n × n, row-major.
template <class T>
std::vector<std::complex<double>> windowed_fft2(ConstImageView<T> image, std::ptrdiff_t n, const FrcOptions& o) {
  const std::ptrdiff_t h = image.rows(), w = image.cols();
  auto weight = [&](std::ptrdiff_t i, std::ptrdiff_t size) {
    switch (o.window) {
      case frc_window::none: return 1.0;
      case frc_window::hann: return tukey(i, size, 1.0);
      case frc_window::tukey: return tukey(i, size, o.tukey_alpha);
    }
    return 1.0;
  };
  std::vector<std::complex<double>> data(static_cast<std::size_t>(n * n));
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    const double wy = weight(y, h);
    for (std::ptrdiff_t x = 0; x < w; ++x)
      data[static_cast<std::size_t>(y * n + x)] = wy * weight(x, w) * static_cast<double>(image(y, x));
  }
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> in(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n));
  for (std::ptrdiff_t y = 0; y < h; ++y) {  // rows below h are zero and stay zero
    std::copy_n(data.begin() + y * n, n, in.begin());
    fft.fwd(out.data(), in.data(), n);
    std::copy_n(out.begin(), n, data.begin() + y * n);
  }
  for (std::ptrdiff_t x = 0; x < n; ++x) {
    for (std::ptrdiff_t y = 0; y < n; ++y) in[static_cast<std::size_t>(y)] = data[static_cast<std::size_t>(y * n + x)];
    fft.fwd(out.data(), in.data(), n);
    for (std::ptrdiff_t y = 0; y < n; ++y) data[static_cast<std::size_t>(y * n + x)] = out[static_cast<std::size_t>(y)];
  }
  return data;
}

}  // namespace detail

/// The FRC curve of two images of the same size on a grid of `pixel_nm`, and the resolution.
/// Preconditions (SMLM_ASSERT): same non-empty size, pixel_nm > 0, options in range.
template <class T>
FrcCurve fourier_ring_correlation(ConstImageView<T> a, ConstImageView<T> b, double pixel_nm,
                                  const FrcOptions& options = {}) {
  SMLM_ASSERT(a.rows() == b.rows() && a.cols() == b.cols() && a.rows() > 0 && a.cols() > 0,
              "eval::fourier_ring_correlation: images must have the same non-empty size");
  SMLM_ASSERT(std::isfinite(pixel_nm) && pixel_nm > 0, "eval::fourier_ring_correlation: pixel_nm must be > 0");
  SMLM_ASSERT(options.tukey_alpha > 0 && options.tukey_alpha <= 1 && options.smoothing_rings >= 0,
              "eval::fourier_ring_correlation: tukey_alpha in (0, 1], smoothing_rings >= 0");
  const std::ptrdiff_t n = fast_fft_size(std::max(a.rows(), a.cols()));
  const auto fa = detail::windowed_fft2(a, n, options);
  const auto fb = detail::windowed_fft2(b, n, options);
  const std::ptrdiff_t rings = n / 2 + 1;
  std::vector<double> cross(static_cast<std::size_t>(rings), 0.0), pa(cross), pb(cross);
  FrcCurve curve;
  curve.ring_pixels.assign(static_cast<std::size_t>(rings), 0);
  for (std::ptrdiff_t y = 0; y < n; ++y) {
    const std::ptrdiff_t ky = y <= n / 2 ? y : y - n;
    for (std::ptrdiff_t x = 0; x < n; ++x) {
      const std::ptrdiff_t kx = x <= n / 2 ? x : x - n;
      const auto q = static_cast<std::ptrdiff_t>(std::lround(std::sqrt(static_cast<double>(kx * kx + ky * ky))));
      if (q >= rings) continue;
      const auto k = static_cast<std::size_t>(y * n + x);
      const auto r = static_cast<std::size_t>(q);
      cross[r] += (fa[k] * std::conj(fb[k])).real();
      pa[r] += std::norm(fa[k]);
      pb[r] += std::norm(fb[k]);
      ++curve.ring_pixels[r];
    }
  }
  std::vector<double> raw(static_cast<std::size_t>(rings), 0.0);
  for (std::size_t q = 0; q < raw.size(); ++q) {
    const double denominator = std::sqrt(pa[q] * pb[q]);
    raw[q] = denominator > 0 ? cross[q] / denominator : 0.0;
  }
  curve.correlation.resize(raw.size());
  curve.frequency_per_nm.resize(raw.size());
  const auto s = static_cast<std::ptrdiff_t>(options.smoothing_rings);
  for (std::ptrdiff_t q = 0; q < rings; ++q) {
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, q - s), hi = std::min(rings - 1, q + s);
    double sum = 0;
    for (std::ptrdiff_t j = lo; j <= hi; ++j) sum += raw[static_cast<std::size_t>(j)];
    curve.correlation[static_cast<std::size_t>(q)] = sum / static_cast<double>(hi - lo + 1);
    curve.frequency_per_nm[static_cast<std::size_t>(q)] = static_cast<double>(q) / (static_cast<double>(n) * pixel_nm);
  }
  curve.resolution_nm = 1.0 / curve.frequency_per_nm.back();
  for (std::size_t q = 1; q < curve.correlation.size(); ++q) {
    if (curve.correlation[q] >= options.threshold) continue;
    const double c0 = curve.correlation[q - 1], c1 = curve.correlation[q];
    const double t = c0 > c1 ? std::clamp((c0 - options.threshold) / (c0 - c1), 0.0, 1.0) : 0.0;
    const double f = curve.frequency_per_nm[q - 1] + t * (curve.frequency_per_nm[q] - curve.frequency_per_nm[q - 1]);
    if (f > 0) {
      curve.resolution_nm = 1.0 / f;
      curve.crossed = true;
    }
    break;
  }
  return curve;
}

template <class T>
FrcCurve fourier_ring_correlation(const Image<T>& a, const Image<T>& b, double pixel_nm, const FrcOptions& options = {}) {
  return fourier_ring_correlation(make_view(a), make_view(b), pixel_nm, options);
}

}  // namespace smlm::eval
