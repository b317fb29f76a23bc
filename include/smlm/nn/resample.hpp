// Up-sampling: nearest-neighbour ×k, bilinear ×k and pixel shuffle (sub-pixel convolution).
//
// Bilinear follows PyTorch's interpolate(mode='bilinear', align_corners=False): output pixel o
// samples the input at s = (o + ½)/k − ½, clamped below at 0, between ⌊s⌋ and min(⌊s⌋ + 1, H − 1).
// Pixel shuffle (Shi et al., "Real-time single image and video super-resolution using an
// efficient sub-pixel convolutional neural network", CVPR 2016; PyTorch's PixelShuffle): input
// channel c·r² + a·r + b at (i, j) becomes output channel c at (i·r + a, j·r + b).
//
// Nearest and pixel shuffle are pure data movement: their kernels work on ranges of rows (fixed
// pieces on the tape's pool, so results never depend on the thread count) and equal their
// element-by-element `_ref` twins bit for bit, the backward passes adding each gradient element's
// contributions in the twins' order.
#pragma once

#include <algorithm>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

/// The definition of upsample_nearest's forward: y[p][i][j] = x[p][⌊i/k⌋][⌊j/k⌋] for every
/// plane p of x (N·C of them).
template <class T>
void upsample_nearest_forward_ref(Shape x, std::ptrdiff_t k, const T* xd, T* y) noexcept {
  const std::ptrdiff_t oh = x.h * k, ow = x.w * k;
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p)
    for (std::ptrdiff_t i = 0; i < oh; ++i) {
      const T* src = xd + (p * x.h + i / k) * x.w;
      T* dst = y + (p * oh + i) * ow;
      for (std::ptrdiff_t j = 0; j < x.w; ++j)
        for (std::ptrdiff_t b = 0; b < k; ++b) dst[j * k + b] = src[j];
    }
}

/// The definition of upsample_nearest's backward: dx[p][⌊i/k⌋][⌊j/k⌋] += dy[p][i][j], one
/// addition per dy element, in dy's memory order.
template <class T>
void upsample_nearest_backward_ref(Shape x, std::ptrdiff_t k, const T* dy, T* dx) noexcept {
  const std::ptrdiff_t oh = x.h * k, ow = x.w * k;
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p)
    for (std::ptrdiff_t i = 0; i < oh; ++i) {
      T* dst = dx + (p * x.h + i / k) * x.w;
      const T* src = dy + (p * oh + i) * ow;
      for (std::ptrdiff_t j = 0; j < ow; ++j) dst[j / k] += src[j];
    }
}

namespace detail {
/// Input rows [row_begin, row_end) of upsample_nearest's forward, rows counted over all planes
/// (input row q = p·H + i becomes output rows q·k … q·k + k − 1): the first output row is
/// written, the other k − 1 are copies of it. K > 0 fixes k at compile time.
template <std::ptrdiff_t K, class T>
void upsample_nearest_rows(std::ptrdiff_t w, std::ptrdiff_t k, const T* xd, T* y, std::ptrdiff_t row_begin,
                           std::ptrdiff_t row_end) noexcept {
  if constexpr (K > 0) k = K;
  const std::ptrdiff_t ow = w * k;
  for (std::ptrdiff_t q = row_begin; q < row_end; ++q) {
    const T* src = xd + q * w;
    T* dst = y + q * k * ow;
    for (std::ptrdiff_t j = 0; j < w; ++j)
      for (std::ptrdiff_t b = 0; b < k; ++b) dst[j * k + b] = src[j];
    for (std::ptrdiff_t t = 1; t < k; ++t) std::copy_n(dst, ow, dst + t * ow);
  }
}
/// The backward of the same rows: each dx element adds its k × k dy values in dy's memory
/// order (rows first, then columns), the order of upsample_nearest_backward_ref.
template <std::ptrdiff_t K, class T>
void upsample_nearest_grad_rows(std::ptrdiff_t w, std::ptrdiff_t k, const T* dy, T* dx, std::ptrdiff_t row_begin,
                                std::ptrdiff_t row_end) noexcept {
  if constexpr (K > 0) k = K;
  const std::ptrdiff_t ow = w * k;
  for (std::ptrdiff_t q = row_begin; q < row_end; ++q) {
    T* dst = dx + q * w;
    const T* src = dy + q * k * ow;
    for (std::ptrdiff_t j = 0; j < w; ++j) {
      T g = dst[j];
      for (std::ptrdiff_t t = 0; t < k; ++t)
        for (std::ptrdiff_t b = 0; b < k; ++b) g += src[t * ow + j * k + b];
      dst[j] = g;
    }
  }
}
/// Input rows per parallel piece: about 2^15 output elements, whatever the thread count.
constexpr std::ptrdiff_t upsample_grain(Shape x, std::ptrdiff_t k) noexcept {
  return std::max<std::ptrdiff_t>(1, (std::ptrdiff_t(1) << 15) / std::max<std::ptrdiff_t>(1, x.w * k * k));
}
}  // namespace detail

/// Input rows [row_begin, row_end) (of the N·C·H rows of x) of upsample_nearest's forward: the
/// output rows row·k … row·k + k − 1. Results equal upsample_nearest_forward_ref's.
template <class T>
void upsample_nearest_forward_rows(Shape x, std::ptrdiff_t k, const T* xd, T* y, std::ptrdiff_t row_begin,
                                   std::ptrdiff_t row_end) noexcept {
  switch (k) {
    case 2: detail::upsample_nearest_rows<2>(x.w, k, xd, y, row_begin, row_end); break;
    case 4: detail::upsample_nearest_rows<4>(x.w, k, xd, y, row_begin, row_end); break;
    case 8: detail::upsample_nearest_rows<8>(x.w, k, xd, y, row_begin, row_end); break;
    default: detail::upsample_nearest_rows<0>(x.w, k, xd, y, row_begin, row_end); break;
  }
}

/// dx += the backward of upsample_nearest for input rows [row_begin, row_end); bit-identical to
/// upsample_nearest_backward_ref over the same rows.
template <class T>
void upsample_nearest_backward_rows(Shape x, std::ptrdiff_t k, const T* dy, T* dx, std::ptrdiff_t row_begin,
                                    std::ptrdiff_t row_end) noexcept {
  switch (k) {
    case 2: detail::upsample_nearest_grad_rows<2>(x.w, k, dy, dx, row_begin, row_end); break;
    case 4: detail::upsample_nearest_grad_rows<4>(x.w, k, dy, dx, row_begin, row_end); break;
    case 8: detail::upsample_nearest_grad_rows<8>(x.w, k, dy, dx, row_begin, row_end); break;
    default: detail::upsample_nearest_grad_rows<0>(x.w, k, dy, dx, row_begin, row_end); break;
  }
}

/// y = upsample_nearest(x) ×k for the whole of x (the inference path).
template <class T>
void upsample_nearest_forward(Shape x, std::ptrdiff_t k, const T* xd, T* y) noexcept {
  upsample_nearest_forward_rows(x, k, xd, y, 0, x.n * x.c * x.h);
}

template <class T>
Var<T> upsample_nearest(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t k = 2) SMLM_NOEXCEPT {
  SMLM_ASSERT(k >= 1, "upsample factor must be ≥ 1");
  const Shape s = x.shape();
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c, s.h * k, s.w * k}, grad);
  const std::ptrdiff_t rows = s.n * s.c * s.h, grain = detail::upsample_grain(s, k);
  const T* xd = x.data();
  T* yd = y.value.data();
  tape.parallel_range(rows, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) { upsample_nearest_forward_rows(s, k, xd, yd, lo, hi); },
                      grain);
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel_range(rows, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        upsample_nearest_backward_rows(s, k, static_cast<const T*>(y.grad), x.grad, lo, hi);
      }, grain);
    });
  }
  return y;
}

namespace detail {
struct LinearTap {
  std::ptrdiff_t i0, i1;
  double w1;  ///< weight of i1; i0 gets 1 − w1
};
constexpr LinearTap bilinear_tap(std::ptrdiff_t o, std::ptrdiff_t k, std::ptrdiff_t n) noexcept {
  double s = (double(o) + 0.5) / double(k) - 0.5;
  if (s < 0) s = 0;
  const auto i0 = static_cast<std::ptrdiff_t>(s);
  const std::ptrdiff_t i1 = i0 < n - 1 ? i0 + 1 : i0;
  return {i0, i1, s - double(i0)};
}
}  // namespace detail

template <class T>
void upsample_bilinear_forward(Shape x, std::ptrdiff_t k, const T* xd, T* y) noexcept {
  const std::ptrdiff_t oh = x.h * k, ow = x.w * k;
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p)
    for (std::ptrdiff_t i = 0; i < oh; ++i) {
      const detail::LinearTap ty = detail::bilinear_tap(i, k, x.h);
      const T* r0 = xd + (p * x.h + ty.i0) * x.w;
      const T* r1 = xd + (p * x.h + ty.i1) * x.w;
      const T wy1 = T(ty.w1), wy0 = T(1) - wy1;
      for (std::ptrdiff_t j = 0; j < ow; ++j) {
        const detail::LinearTap tx = detail::bilinear_tap(j, k, x.w);
        const T wx1 = T(tx.w1), wx0 = T(1) - wx1;
        y[(p * oh + i) * ow + j] =
            wy0 * (wx0 * r0[tx.i0] + wx1 * r0[tx.i1]) + wy1 * (wx0 * r1[tx.i0] + wx1 * r1[tx.i1]);
      }
    }
}

template <class T>
Var<T> upsample_bilinear(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t k = 2) SMLM_NOEXCEPT {
  SMLM_ASSERT(k >= 1, "upsample factor must be ≥ 1");
  const Shape s = x.shape();
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c, s.h * k, s.w * k}, grad);
  upsample_bilinear_forward(s, k, x.data(), y.value.data());
  if (grad) {
    tape.record([=] {
      const std::ptrdiff_t oh = s.h * k, ow = s.w * k;
      for (std::ptrdiff_t p = 0; p < s.n * s.c; ++p)
        for (std::ptrdiff_t i = 0; i < oh; ++i) {
          const detail::LinearTap ty = detail::bilinear_tap(i, k, s.h);
          T* r0 = x.grad + (p * s.h + ty.i0) * s.w;
          T* r1 = x.grad + (p * s.h + ty.i1) * s.w;
          const T wy1 = T(ty.w1), wy0 = T(1) - wy1;
          for (std::ptrdiff_t j = 0; j < ow; ++j) {
            const detail::LinearTap tx = detail::bilinear_tap(j, k, s.w);
            const T wx1 = T(tx.w1), wx0 = T(1) - wx1;
            const T g = y.grad[(p * oh + i) * ow + j];
            r0[tx.i0] += wy0 * wx0 * g;
            r0[tx.i1] += wy0 * wx1 * g;
            r1[tx.i0] += wy1 * wx0 * g;
            r1[tx.i1] += wy1 * wx1 * g;
          }
        }
    });
  }
  return y;
}

namespace detail {
/// Offset in the shuffled output of input element (n, c_in, i, j).
constexpr std::ptrdiff_t shuffled_index(Shape x, std::ptrdiff_t r, std::ptrdiff_t n, std::ptrdiff_t ci,
                                        std::ptrdiff_t i, std::ptrdiff_t j) noexcept {
  const std::ptrdiff_t c = ci / (r * r), a = (ci / r) % r, b = ci % r;
  const std::ptrdiff_t oc = x.c / (r * r), oh = x.h * r, ow = x.w * r;
  return ((n * oc + c) * oh + i * r + a) * ow + j * r + b;
}
}  // namespace detail

/// The definition of pixel_shuffle's forward: every input element to its shuffled_index.
template <class T>
void pixel_shuffle_forward_ref(Shape x, std::ptrdiff_t r, const T* xd, T* y) noexcept {
  std::ptrdiff_t idx = 0;
  for (std::ptrdiff_t n = 0; n < x.n; ++n)
    for (std::ptrdiff_t c = 0; c < x.c; ++c)
      for (std::ptrdiff_t i = 0; i < x.h; ++i)
        for (std::ptrdiff_t j = 0; j < x.w; ++j) y[detail::shuffled_index(x, r, n, c, i, j)] = xd[idx++];
}

/// The definition of pixel_shuffle's backward: dx[e] += dy[shuffled_index(e)] for every input
/// element e.
template <class T>
void pixel_shuffle_backward_ref(Shape x, std::ptrdiff_t r, const T* dy, T* dx) noexcept {
  std::ptrdiff_t idx = 0;
  for (std::ptrdiff_t n = 0; n < x.n; ++n)
    for (std::ptrdiff_t c = 0; c < x.c; ++c)
      for (std::ptrdiff_t i = 0; i < x.h; ++i)
        for (std::ptrdiff_t j = 0; j < x.w; ++j) dx[idx++] += dy[detail::shuffled_index(x, r, n, c, i, j)];
}

namespace detail {
/// Output rows [row_begin, row_end) of pixel shuffle, counted over all output planes (row
/// q = P·H·r + i·r + a of output plane P = n·C + c). Its r inputs are rows i of input planes
/// P·r² + a·r + b, b = 0 … r − 1, interleaved: y[q][j·r + b] = x[P·r² + a·r + b][i][j].
/// With `Add` the same map runs backward: dx[…] += dy[q][…]. R > 0 fixes r at compile time.
template <std::ptrdiff_t R, bool Add, class T>
void pixel_shuffle_rows(Shape x, std::ptrdiff_t r, const T* from, T* to, std::ptrdiff_t row_begin,
                        std::ptrdiff_t row_end) noexcept {
  if constexpr (R > 0) r = R;
  const std::ptrdiff_t w = x.w, oh = x.h * r, ow = w * r, in_plane = x.h * w;
  for (std::ptrdiff_t q = row_begin; q < row_end; ++q) {
    const std::ptrdiff_t plane = q / oh, yy = q - plane * oh, i = yy / r, a = yy - i * r;
    const std::ptrdiff_t in_row = ((plane * r + a) * r) * in_plane + i * w;  // channel P·r² + a·r, row i
    if constexpr (!Add) {
      const T* src = from + in_row;
      T* dst = to + q * ow;
      for (std::ptrdiff_t j = 0; j < w; ++j)
        for (std::ptrdiff_t b = 0; b < r; ++b) dst[j * r + b] = src[b * in_plane + j];
    } else {
      const T* src = from + q * ow;
      T* dst = to + in_row;
      if constexpr (R > 0) {
        // Blocks of 8 columns: the block's R × 8 values are transposed into a local tile first,
        // then added row by row (adding straight from src would store into R rows a plane
        // apart in turn, which for power-of-two planes stalls on 4 KiB address aliasing).
        constexpr std::ptrdiff_t block = 8;
        T tile[R][block];
        for (std::ptrdiff_t j0 = 0; j0 < w; j0 += block) {
          const std::ptrdiff_t m = std::min(block, w - j0);
          for (std::ptrdiff_t jj = 0; jj < m; ++jj)
            for (std::ptrdiff_t b = 0; b < R; ++b) tile[b][jj] = src[(j0 + jj) * R + b];
          for (std::ptrdiff_t b = 0; b < R; ++b) {
            T* d = dst + b * in_plane + j0;
            for (std::ptrdiff_t jj = 0; jj < m; ++jj) d[jj] += tile[b][jj];
          }
        }
      } else {
        for (std::ptrdiff_t b = 0; b < r; ++b)
          for (std::ptrdiff_t j = 0; j < w; ++j) dst[b * in_plane + j] += src[j * r + b];
      }
    }
  }
}
template <bool Add, class T>
void pixel_shuffle_dispatch(Shape x, std::ptrdiff_t r, const T* from, T* to, std::ptrdiff_t row_begin,
                            std::ptrdiff_t row_end) noexcept {
  switch (r) {
    case 2: pixel_shuffle_rows<2, Add>(x, r, from, to, row_begin, row_end); break;
    case 4: pixel_shuffle_rows<4, Add>(x, r, from, to, row_begin, row_end); break;
    case 8: pixel_shuffle_rows<8, Add>(x, r, from, to, row_begin, row_end); break;
    default: pixel_shuffle_rows<0, Add>(x, r, from, to, row_begin, row_end); break;
  }
}
/// Output rows per parallel piece: about 2^15 elements, whatever the thread count.
constexpr std::ptrdiff_t pixel_shuffle_grain(Shape x, std::ptrdiff_t r) noexcept {
  return std::max<std::ptrdiff_t>(1, (std::ptrdiff_t(1) << 15) / std::max<std::ptrdiff_t>(1, x.w * r));
}
}  // namespace detail

/// Output rows [row_begin, row_end) (of the N·(C/r²)·H·r rows of the output) of pixel shuffle;
/// equal to pixel_shuffle_forward_ref's.
template <class T>
void pixel_shuffle_forward_rows(Shape x, std::ptrdiff_t r, const T* xd, T* y, std::ptrdiff_t row_begin,
                                std::ptrdiff_t row_end) noexcept {
  detail::pixel_shuffle_dispatch<false>(x, r, xd, y, row_begin, row_end);
}

/// dx += the backward of pixel shuffle for output rows [row_begin, row_end) (each dx element
/// is written by exactly one output row); equal to pixel_shuffle_backward_ref's.
template <class T>
void pixel_shuffle_backward_rows(Shape x, std::ptrdiff_t r, const T* dy, T* dx, std::ptrdiff_t row_begin,
                                 std::ptrdiff_t row_end) noexcept {
  detail::pixel_shuffle_dispatch<true>(x, r, dy, dx, row_begin, row_end);
}

/// y = pixel_shuffle(x) for the whole of x (the inference path).
template <class T>
void pixel_shuffle_forward(Shape x, std::ptrdiff_t r, const T* xd, T* y) noexcept {
  pixel_shuffle_forward_rows(x, r, xd, y, 0, x.n * x.c / (r * r) * x.h * r);
}

/// [N, C·r², H, W] → [N, C, H·r, W·r].
template <class T>
Var<T> pixel_shuffle(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t r) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  SMLM_ASSERT(r >= 1 && s.c % (r * r) == 0, "pixel_shuffle: channels must be a multiple of r²");
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c / (r * r), s.h * r, s.w * r}, grad);
  const std::ptrdiff_t rows = s.n * (s.c / (r * r)) * s.h * r, grain = detail::pixel_shuffle_grain(s, r);
  const T* xd = x.data();
  T* yd = y.value.data();
  tape.parallel_range(rows, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) { pixel_shuffle_forward_rows(s, r, xd, yd, lo, hi); },
                      grain);
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel_range(rows, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        pixel_shuffle_backward_rows(s, r, static_cast<const T*>(y.grad), x.grad, lo, hi);
      }, grain);
    });
  }
  return y;
}

}  // namespace smlm::nn
