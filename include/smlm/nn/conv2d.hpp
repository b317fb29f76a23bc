// 2-D convolution (cross-correlation, as in every deep-learning framework), transposed
// convolution, and fixed (non-trainable) per-channel convolution such as a Gaussian blur.
//
// conv2d: y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n, c, i·s − pad_top + u, j·s − pad_left + v]
// with zeros outside x. Weights are [C_out, C_in, k, k] (PyTorch's layout). Padding:
//   valid  out = ⌊(H − k)/s⌋ + 1, no padding;
//   same   out = ⌈H/s⌉, total padding max((out − 1)·s + k − H, 0) split with the smaller half
//          on top/left (TensorFlow's rule; for s = 1 it is PyTorch's padding='same').
// conv_transpose2d: the adjoint of conv2d in x (PyTorch's ConvTranspose2d): weights
// [C_in, C_out, k, k], out = (H − 1)·s − 2·pad + k + output_padding.
//
// Stride-1 float convolutions with AVX-512 run on a padded extended grid with a register-blocked
// micro-kernel (see "The float forward kernel for stride 1" below); the other fast kernels lower
// each sample to a matrix product (im2col + GEMM, detail/gemm.hpp) in tiles of output rows, so the
// column buffer stays a few MB whatever the image size. The `_ref` kernels are the direct sums
// that define the results. Forward runs tiles of all samples
// in parallel; backward splits the batch into a fixed number of chunks (independent of the
// thread count) whose weight-gradient parts are summed in chunk order, so results do not depend
// on how many threads ran them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include <smlm/core/config.hpp>
#include <smlm/nn/detail/gemm.hpp>
#include <smlm/nn/detail/microkernel.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>

namespace smlm::nn {

enum class Padding { same, valid };

/// Everything a convolution kernel needs to know about sizes. For conv_transpose2d the same
/// struct describes the forward convolution it is the adjoint of ("in" = the transposed conv's
/// output).
struct ConvGeometry {
  std::ptrdiff_t in_c = 0, in_h = 0, in_w = 0;
  std::ptrdiff_t out_c = 0, out_h = 0, out_w = 0;
  std::ptrdiff_t k = 1, stride = 1, pad_top = 0, pad_left = 0;
  constexpr std::ptrdiff_t depth() const noexcept { return in_c * k * k; }
  constexpr std::ptrdiff_t in_plane() const noexcept { return in_h * in_w; }
  constexpr std::ptrdiff_t out_plane() const noexcept { return out_h * out_w; }
  /// 1×1, stride 1, no padding: the input already is the column matrix.
  constexpr bool pointwise() const noexcept {
    return k == 1 && stride == 1 && pad_top == 0 && pad_left == 0 && in_h == out_h && in_w == out_w;
  }
  constexpr double flops_per_sample() const noexcept {
    return 2.0 * double(out_c) * double(depth()) * double(out_plane());
  }
};

namespace detail {
constexpr void same_or_valid(std::ptrdiff_t in, std::ptrdiff_t k, std::ptrdiff_t s, Padding p,
                             std::ptrdiff_t& out, std::ptrdiff_t& pad_before) noexcept {
  if (p == Padding::valid) {
    out = in >= k ? (in - k) / s + 1 : 0;
    pad_before = 0;
  } else {
    out = (in + s - 1) / s;
    const std::ptrdiff_t total = std::max<std::ptrdiff_t>((out - 1) * s + k - in, 0);
    pad_before = total / 2;
  }
}
}  // namespace detail

/// Geometry of conv2d of an input of shape x with weights of shape w.
constexpr ConvGeometry conv2d_geometry(const Shape& x, const Shape& w, std::ptrdiff_t stride,
                                       Padding padding) SMLM_NOEXCEPT {
  SMLM_ASSERT(w.h == w.w && w.h >= 1, "conv2d weights must be [C_out, C_in, k, k]");
  SMLM_ASSERT(w.c == x.c, "conv2d: weight C_in differs from the input's channels");
  SMLM_ASSERT(stride >= 1, "conv2d: stride must be ≥ 1");
  ConvGeometry g;
  g.in_c = x.c, g.in_h = x.h, g.in_w = x.w, g.out_c = w.n, g.k = w.h, g.stride = stride;
  detail::same_or_valid(x.h, g.k, stride, padding, g.out_h, g.pad_top);
  detail::same_or_valid(x.w, g.k, stride, padding, g.out_w, g.pad_left);
  return g;
}

/// Geometry of conv_transpose2d of x with weights w ([C_in, C_out, k, k]): the convolution
/// from the (bigger) output back to x.
constexpr ConvGeometry conv_transpose2d_geometry(const Shape& x, const Shape& w, std::ptrdiff_t stride,
                                                 std::ptrdiff_t padding,
                                                 std::ptrdiff_t output_padding = 0) SMLM_NOEXCEPT {
  SMLM_ASSERT(w.h == w.w && w.h >= 1, "conv_transpose2d weights must be [C_in, C_out, k, k]");
  SMLM_ASSERT(w.n == x.c, "conv_transpose2d: weight C_in differs from the input's channels");
  SMLM_ASSERT(stride >= 1 && padding >= 0 && output_padding >= 0 && output_padding < stride,
              "conv_transpose2d: needs stride ≥ 1, padding ≥ 0, 0 ≤ output_padding < stride");
  ConvGeometry g;
  g.out_c = x.c, g.out_h = x.h, g.out_w = x.w, g.in_c = w.c, g.k = w.h, g.stride = stride;
  g.pad_top = g.pad_left = padding;
  g.in_h = (x.h - 1) * stride - 2 * padding + g.k + output_padding;
  g.in_w = (x.w - 1) * stride - 2 * padding + g.k + output_padding;
  SMLM_ASSERT(g.in_h > 0 && g.in_w > 0, "conv_transpose2d: output would be empty");
  return g;
}

// ---------------------------------------------------------------------------------------------
// Scalar references (the definition). Sample-by-sample over dense NCHW data.

namespace detail {
/// Calls f(x_index, w_index) for every tap of output (n, o, i, j) that falls inside the input:
/// the sum that defines conv2d, written once for the reference kernels.
template <class F>
void for_each_tap(const ConvGeometry& g, std::ptrdiff_t n, std::ptrdiff_t o, std::ptrdiff_t i, std::ptrdiff_t j,
                  F&& f) noexcept {
  for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
    for (std::ptrdiff_t u = 0; u < g.k; ++u) {
      const std::ptrdiff_t yy = i * g.stride - g.pad_top + u;
      if (yy < 0 || yy >= g.in_h) continue;
      for (std::ptrdiff_t v = 0; v < g.k; ++v) {
        const std::ptrdiff_t xx = j * g.stride - g.pad_left + v;
        if (xx < 0 || xx >= g.in_w) continue;
        f(((n * g.in_c + c) * g.in_h + yy) * g.in_w + xx, ((o * g.in_c + c) * g.k + u) * g.k + v);
      }
    }
}
/// Calls f(y_index, n, o, i, j) for every output element, in memory order.
template <class F>
void for_each_output(const ConvGeometry& g, std::ptrdiff_t batch, F&& f) noexcept {
  for (std::ptrdiff_t n = 0; n < batch; ++n)
    for (std::ptrdiff_t o = 0; o < g.out_c; ++o)
      for (std::ptrdiff_t i = 0; i < g.out_h; ++i)
        for (std::ptrdiff_t j = 0; j < g.out_w; ++j) f(((n * g.out_c + o) * g.out_h + i) * g.out_w + j, n, o, i, j);
}
}  // namespace detail

/// y = conv2d(x, w) + bias (bias may be null).
template <class T>
void conv2d_forward_ref(const ConvGeometry& g, std::ptrdiff_t batch, const T* x, const T* w,
                        const T* bias, T* y) noexcept {
  detail::for_each_output(g, batch, [&](std::ptrdiff_t yi, std::ptrdiff_t n, std::ptrdiff_t o, std::ptrdiff_t i, std::ptrdiff_t j) {
    T s = bias ? bias[o] : T(0);
    detail::for_each_tap(g, n, o, i, j, [&](std::ptrdiff_t xi, std::ptrdiff_t wi) { s += w[wi] * x[xi]; });
    y[yi] = s;
  });
}

/// Adds the gradients of conv2d: dx += ∂/∂x, dw += ∂/∂w, db += ∂/∂b (each may be null).
template <class T>
void conv2d_backward_ref(const ConvGeometry& g, std::ptrdiff_t batch, const T* x, const T* w,
                         const T* dy, T* dx, T* dw, T* db) noexcept {
  detail::for_each_output(g, batch, [&](std::ptrdiff_t yi, std::ptrdiff_t n, std::ptrdiff_t o, std::ptrdiff_t i, std::ptrdiff_t j) {
    const T d = dy[yi];
    if (db) db[o] += d;
    detail::for_each_tap(g, n, o, i, j, [&](std::ptrdiff_t xi, std::ptrdiff_t wi) {
      if (dx) dx[xi] += w[wi] * d;
      if (dw) dw[wi] += x[xi] * d;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// im2col + GEMM kernels, one sample (and one tile of output rows) at a time.

namespace detail {

/// Output rows per tile: the column buffer (depth × rows · out_w) stays near 2^20 elements.
constexpr std::ptrdiff_t conv_tile_rows(const ConvGeometry& g) noexcept {
  const std::ptrdiff_t per_row = std::max<std::ptrdiff_t>(g.depth() * g.out_w, 1);
  return std::clamp<std::ptrdiff_t>((std::ptrdiff_t(1) << 20) / per_row, 1, std::max<std::ptrdiff_t>(g.out_h, 1));
}

struct ColumnRange {
  std::ptrdiff_t offset, first, last;
};
/// Output columns [first, last) whose input column j·s + offset (offset = v − pad_left) lies
/// inside [0, in_w).
constexpr ColumnRange valid_columns(const ConvGeometry& g, std::ptrdiff_t v) noexcept {
  const std::ptrdiff_t off = v - g.pad_left;
  const std::ptrdiff_t j0 = std::min(off >= 0 ? 0 : (-off + g.stride - 1) / g.stride, g.out_w);
  const std::ptrdiff_t j1 = std::clamp<std::ptrdiff_t>((g.in_w - off + g.stride - 1) / g.stride, j0, g.out_w);
  return {off, j0, j1};
}

/// col[(c·k + u)·k + v][r·out_w + j] = x[c][(row0 + r)·s − pad_top + u][j·s − pad_left + v] (0 outside).
template <class T>
void im2col(const ConvGeometry& g, const T* x, std::ptrdiff_t row0, std::ptrdiff_t rows, T* col) noexcept {
  const std::ptrdiff_t ld = rows * g.out_w;
  for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
    for (std::ptrdiff_t u = 0; u < g.k; ++u)
      for (std::ptrdiff_t v = 0; v < g.k; ++v) {
        T* dst = col + ((c * g.k + u) * g.k + v) * ld;
        const auto [off, j0, j1] = valid_columns(g, v);
        for (std::ptrdiff_t r = 0; r < rows; ++r, dst += g.out_w) {
          const std::ptrdiff_t yy = (row0 + r) * g.stride - g.pad_top + u;
          if (yy < 0 || yy >= g.in_h) {
            std::fill(dst, dst + g.out_w, T(0));
            continue;
          }
          const T* src = x + (c * g.in_h + yy) * g.in_w + off;
          std::fill(dst, dst + j0, T(0));
          if (g.stride == 1) {
            std::copy(src + j0, src + j1, dst + j0);
          } else {
            for (std::ptrdiff_t j = j0; j < j1; ++j) dst[j] = src[j * g.stride];
          }
          std::fill(dst + j1, dst + g.out_w, T(0));
        }
      }
}

/// The adjoint of im2col: x[c][..][..] += col[..][..] for every in-range position.
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, std::ptrdiff_t row0, std::ptrdiff_t rows, T* x) noexcept {
  const std::ptrdiff_t ld = rows * g.out_w;
  for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
    for (std::ptrdiff_t u = 0; u < g.k; ++u)
      for (std::ptrdiff_t v = 0; v < g.k; ++v) {
        const T* src = col + ((c * g.k + u) * g.k + v) * ld;
        const auto [off, j0, j1] = valid_columns(g, v);
        for (std::ptrdiff_t r = 0; r < rows; ++r, src += g.out_w) {
          const std::ptrdiff_t yy = (row0 + r) * g.stride - g.pad_top + u;
          if (yy < 0 || yy >= g.in_h) continue;
          T* dst = x + (c * g.in_h + yy) * g.in_w + off;
          if (g.stride == 1) {
            for (std::ptrdiff_t j = j0; j < j1; ++j) dst[j] += src[j];
          } else {
            for (std::ptrdiff_t j = j0; j < j1; ++j) dst[j * g.stride] += src[j];
          }
        }
      }
}

}  // namespace detail

/// y = conv2d(x, w) + bias (bias may be null) without scratch, threads or SIMD types: each tap
/// adds w · (the input rows it reads) into the output rows it reaches, an axpy over the tap's
/// valid columns (contiguous for stride 1) with no bounds test inside it. The convolution of
/// StaticUNet (static_unet.hpp), the microcontroller path; conv2d_forward_ref up to the order of
/// summation (taps outermost instead of innermost).
template <class T>
void conv2d_forward_direct(const ConvGeometry& g, std::ptrdiff_t batch, const T* x, const T* w, const T* bias,
                           T* y) noexcept {
  const std::ptrdiff_t s = g.stride, plane = g.out_plane();
  for (std::ptrdiff_t n = 0; n < batch; ++n)
    for (std::ptrdiff_t o = 0; o < g.out_c; ++o) {
      T* yo = y + (n * g.out_c + o) * plane;
      std::fill(yo, yo + plane, bias ? bias[o] : T(0));
      for (std::ptrdiff_t c = 0; c < g.in_c; ++c) {
        const T* xc = x + (n * g.in_c + c) * g.in_plane();
        const T* wc = w + (o * g.in_c + c) * g.k * g.k;
        for (std::ptrdiff_t u = 0; u < g.k; ++u) {
          // Output rows i whose input row i·s − pad_top + u lies inside [0, in_h).
          const std::ptrdiff_t top = g.pad_top - u;
          const std::ptrdiff_t i0 = std::min(top <= 0 ? 0 : (top + s - 1) / s, g.out_h);
          const std::ptrdiff_t i1 = std::clamp<std::ptrdiff_t>((g.in_h + top + s - 1) / s, i0, g.out_h);
          for (std::ptrdiff_t v = 0; v < g.k; ++v) {
            const T wv = wc[u * g.k + v];
            const detail::ColumnRange cols = detail::valid_columns(g, v);
            const std::ptrdiff_t m = cols.last - cols.first;
            for (std::ptrdiff_t i = i0; i < i1; ++i) {
              T* yr = yo + i * g.out_w + cols.first;
              const T* xr = xc + (i * s - top) * g.in_w + cols.first * s + cols.offset;
              if (s == 1) {
                for (std::ptrdiff_t j = 0; j < m; ++j) yr[j] += wv * xr[j];
              } else {
                for (std::ptrdiff_t j = 0; j < m; ++j) yr[j] += wv * xr[j * s];
              }
            }
          }
        }
      }
    }
}

/// Scratch elements one worker needs for any of the per-sample kernels below.
template <class T>
std::size_t conv_worker_scratch(const ConvGeometry& g) noexcept {
  const std::ptrdiff_t rows = detail::conv_tile_rows(g);
  const std::ptrdiff_t p = rows * g.out_w;
  const std::size_t col = g.pointwise() ? 0 : static_cast<std::size_t>(g.depth() * p);
  std::size_t gemm = detail::gemm_scratch_size<T>(g.out_c, p, g.depth());  // forward, dW
  gemm = std::max(gemm, detail::gemm_scratch_size<T>(g.out_c, g.depth(), p));
  gemm = std::max(gemm, detail::gemm_scratch_size<T>(g.depth(), p, g.out_c));  // data gradient
  constexpr std::size_t pad = 64 / sizeof(T);
  // A multiple of 64 bytes, so that every worker's part of a shared buffer stays aligned.
  return (col + pad - 1) / pad * pad + (gemm + pad - 1) / pad * pad;
}

namespace detail {
/// Runs f(row0, rows, pixels, col, gemm_scratch) for each tile of output rows, with the tile's
/// column buffer and the GEMM scratch carved out of one worker's scratch.
template <class T, class F>
void for_each_tile(const ConvGeometry& g, T* scratch, F&& f, std::ptrdiff_t row_begin = 0,
                   std::ptrdiff_t row_end = -1) noexcept {
  if (row_end < 0) row_end = g.out_h;
  const std::ptrdiff_t tile = conv_tile_rows(g);
  constexpr std::size_t pad = 64 / sizeof(T);
  T* col = scratch;
  const std::size_t col_size = (static_cast<std::size_t>(g.depth() * tile * g.out_w) + pad - 1) / pad * pad;
  T* gs = scratch + col_size;
  const std::size_t gs_size = conv_worker_scratch<T>(g) - col_size;
  for (std::ptrdiff_t r0 = row_begin; r0 < row_end; r0 += tile) {
    const std::ptrdiff_t rows = std::min(tile, row_end - r0);
    f(r0, rows, rows * g.out_w, col, gs, gs_size);
  }
}
}  // namespace detail

/// Output rows [row_begin, row_end) of y_n += conv2d(x_n, w) for one sample (no bias).
/// scratch: conv_worker_scratch<T>(g).
template <class T>
void conv_forward_rows(const ConvGeometry& g, const T* x, const T* w, T* y, T* scratch, std::ptrdiff_t row_begin,
                       std::ptrdiff_t row_end) noexcept {
  using detail::trans;
  const std::ptrdiff_t k = g.depth(), plane = g.out_plane();
  if (g.pointwise()) {
    const std::ptrdiff_t c0 = row_begin * g.out_w, c1 = row_end * g.out_w;
    detail::gemm<trans::no, trans::no>(g.out_c, c1 - c0, k, T(1), w, k, x + c0, plane, y + c0, plane, scratch,
                                       conv_worker_scratch<T>(g));
    return;
  }
  detail::for_each_tile(g, scratch, [&](std::ptrdiff_t r0, std::ptrdiff_t rows, std::ptrdiff_t p, T* col, T* gs, std::size_t gs_size) {
    detail::im2col(g, x, r0, rows, col);
    detail::gemm<trans::no, trans::no>(g.out_c, p, k, T(1), w, k, col, p, y + r0 * g.out_w, plane, gs, gs_size);
  }, row_begin, row_end);
}

/// y_n += conv2d(x_n, w) for one sample (no bias).
template <class T>
void conv_forward_sample(const ConvGeometry& g, const T* x, const T* w, T* y, T* scratch) noexcept {
  conv_forward_rows(g, x, w, y, scratch, 0, g.out_h);
}

/// dx_n += ∂/∂x of conv2d for one sample given dy_n.
template <class T>
void conv_backward_data_sample(const ConvGeometry& g, const T* dy, const T* w, T* dx, T* scratch) noexcept {
  using detail::trans;
  const std::ptrdiff_t k = g.depth(), plane = g.out_plane();
  if (g.pointwise()) {
    detail::gemm<trans::yes, trans::no>(k, plane, g.out_c, T(1), w, k, dy, plane, dx, plane, scratch, conv_worker_scratch<T>(g));
    return;
  }
  detail::for_each_tile(g, scratch, [&](std::ptrdiff_t r0, std::ptrdiff_t rows, std::ptrdiff_t p, T* col, T* gs, std::size_t gs_size) {
    std::fill(col, col + k * p, T(0));
    detail::gemm<trans::yes, trans::no>(k, p, g.out_c, T(1), w, k, dy + r0 * g.out_w, plane, col, p, gs, gs_size);
    detail::col2im_add(g, col, r0, rows, dx);
  });
}

/// dw += ∂/∂w of conv2d for one sample.
template <class T>
void conv_backward_weight_sample(const ConvGeometry& g, const T* x, const T* dy, T* dw, T* scratch) noexcept {
  using detail::trans;
  const std::ptrdiff_t k = g.depth(), plane = g.out_plane();
  if (g.pointwise()) {
    detail::gemm<trans::no, trans::yes>(g.out_c, k, plane, T(1), dy, plane, x, plane, dw, k, scratch, conv_worker_scratch<T>(g));
    return;
  }
  detail::for_each_tile(g, scratch, [&](std::ptrdiff_t r0, std::ptrdiff_t rows, std::ptrdiff_t p, T* col, T* gs, std::size_t gs_size) {
    detail::im2col(g, x, r0, rows, col);
    detail::gemm<trans::no, trans::yes>(g.out_c, k, p, T(1), dy + r0 * g.out_w, plane, col, p, dw, k, gs, gs_size);
  });
}

// ---------------------------------------------------------------------------------------------
// The float forward kernel for stride 1 (where the micro-kernel is compiled): no column matrix.
// The input is copied once into a zero-padded plane of width Wp = out_w + k − 1, and the product
// runs over an extended grid of output positions q = r·Wp + j (the k − 1 extra per row are
// computed and dropped). On that grid tap (c, u, v) of position q is element
// c·Hp·Wp + q + u·Wp + v of the padded input, so the patches of mr consecutive positions are mr
// consecutive elements (mr = micro_mr: 48 on AVX-512, 24 on AVX2): they pack straight into the
// cache-sized block the micro-kernel reads.
// Positions are padded up to whole panels of mr and channels to panels of nr (computed, dropped),
// so the micro-kernel never sees an edge. The weights are packed once per call.

namespace detail {

/// Sizes of the padded input and the extended grid of a stride-1 convolution.
struct ShiftedGrid {
  std::ptrdiff_t hp, wp;  // padded plane: out_h + k − 1 rows of out_w + k − 1
  constexpr std::ptrdiff_t plane() const noexcept { return hp * wp; }
  static constexpr ShiftedGrid of(const ConvGeometry& g) noexcept { return {g.out_h + g.k - 1, g.out_w + g.k - 1}; }
  /// Elements of the padded input of one sample; the slack lets the dropped positions of the
  /// last panel read past the last plane.
  constexpr std::ptrdiff_t sample(const ConvGeometry& g) const noexcept { return g.in_c * plane() + micro_mr + g.k; }
};

/// Taps per packed block (kc) and grid positions per block (mc, whole panels).
inline constexpr std::ptrdiff_t shifted_kc = 256, shifted_mc = 8 * micro_mr;

/// Whether conv2d_forward<T> takes the shifted-grid kernel (else im2col + gemm, or a plain
/// product for 1 × 1).
template <class T>
constexpr bool shifted_forward(const ConvGeometry& g) noexcept {
  return SMLM_NN_MICROKERNEL && std::is_same_v<T, float> && g.stride == 1 && !g.pointwise();
}

constexpr std::ptrdiff_t round_up(std::ptrdiff_t n, std::ptrdiff_t m) noexcept { return (n + m - 1) / m * m; }

/// Channels [c0, c1) of the zero-padded copy xp of one sample x (ShiftedGrid layout; the slack is
/// zeroed with the last channel).
template <class T>
void pad_input(const ConvGeometry& g, const T* x, std::ptrdiff_t c0, std::ptrdiff_t c1, T* xp) noexcept {
  const ShiftedGrid s = ShiftedGrid::of(g);
  const std::ptrdiff_t x0 = std::min(g.pad_left, s.wp), x1 = std::clamp(g.pad_left + g.in_w, x0, s.wp);
  for (std::ptrdiff_t c = c0; c < c1; ++c) {
    T* dst = xp + c * s.plane();
    for (std::ptrdiff_t yy = 0; yy < s.hp; ++yy, dst += s.wp) {
      const std::ptrdiff_t sy = yy - g.pad_top;
      if (sy < 0 || sy >= g.in_h) {
        std::fill(dst, dst + s.wp, T(0));
        continue;
      }
      const T* src = x + (c * g.in_h + sy) * g.in_w;
      std::fill(dst, dst + x0, T(0));
      std::copy(src, src + (x1 - x0), dst + x0);
      std::fill(dst + x1, dst + s.wp, T(0));
    }
  }
  if (c1 == g.in_c) std::fill(xp + g.in_c * s.plane(), xp + s.sample(g), T(0));
}

/// Calls f(q, r, j, len, kept) for each run of grid positions [q, q + len) in [q0, q1) that lie in
/// one grid row r from column j; the first `kept` of them are real outputs (j < out_w, q inside
/// the grid), the rest are dropped positions.
template <class F>
void for_each_grid_run(const ConvGeometry& g, std::ptrdiff_t q0, std::ptrdiff_t q1, F&& f) noexcept {
  const ShiftedGrid s = ShiftedGrid::of(g);
  const std::ptrdiff_t q_total = g.out_h * s.wp;
  for (std::ptrdiff_t q = q0; q < q1;) {
    const std::ptrdiff_t r = q / s.wp, j = q - r * s.wp, len = std::min(s.wp - j, q1 - q);
    f(q, r, j, len, q < q_total ? std::clamp<std::ptrdiff_t>(g.out_w - j, 0, len) : std::ptrdiff_t(0));
    q += len;
  }
}

/// Packs `panels` panels of micro_mr grid positions from q0 and taps [k0, k0 + depth) (c slowest):
/// block[(p·depth + t)·mr + i] = patch of position q0 + mr·p + i at tap k0 + t.
template <class T>
void pack_shifted(const ConvGeometry& g, const T* xp, std::ptrdiff_t q0, std::ptrdiff_t panels, std::ptrdiff_t k0,
                  std::ptrdiff_t depth, T* block) noexcept {
  const ShiftedGrid s = ShiftedGrid::of(g);
  const std::ptrdiff_t kk = g.k * g.k;
  constexpr int line = 64 / sizeof(T);
  for (std::ptrdiff_t p = 0; p < panels; ++p) {
    const std::ptrdiff_t q = q0 + p * micro_mr;
    std::ptrdiff_t c = k0 / kk, u = k0 % kk / g.k, v = k0 % g.k;
    for (std::ptrdiff_t t = 0; t < depth; ++t, block += micro_mr) {
      const T* src = xp + c * s.plane() + u * s.wp + v + q;
      // The taps read k·C_in separate rows, too many streams for the hardware prefetcher:
      // fetch what the next panel reads while this one is copied.
      for (int e = micro_mr; e < 2 * micro_mr; e += line) __builtin_prefetch(src + e);
      std::memcpy(block, src, micro_mr * sizeof(T));
      if (++v == g.k) {
        v = 0;
        if (++u == g.k) u = 0, ++c;
      }
    }
  }
}

/// Packs the weights ([C_out, depth] row-major) for the micro-kernel: for each block of
/// shifted_kc taps, for each panel of micro_nr output channels (zeros past C_out), nr values per tap.
template <class T>
void pack_shifted_weights(const ConvGeometry& g, const T* w, T* packed) noexcept {
  const std::ptrdiff_t depth = g.depth(), nc = round_up(g.out_c, micro_nr);
  for (std::ptrdiff_t k2 = 0; k2 < depth; k2 += shifted_kc) {
    const std::ptrdiff_t kc = std::min(shifted_kc, depth - k2);
    for (std::ptrdiff_t j0 = 0; j0 < nc; j0 += micro_nr)
      for (std::ptrdiff_t t = 0; t < kc; ++t)
        for (std::ptrdiff_t j = j0; j < j0 + micro_nr; ++j) *packed++ = j < g.out_c ? w[j * depth + k2 + t] : T(0);
  }
}

template <class T>
std::size_t shifted_weights_size(const ConvGeometry& g) noexcept {
  return static_cast<std::size_t>(round_up(g.depth() * round_up(g.out_c, micro_nr), 64 / sizeof(T)));
}

/// Per-worker scratch of the shifted-grid kernel: the packed patch block and the product block.
template <class T>
std::size_t shifted_worker_scratch(const ConvGeometry& g) noexcept {
  return static_cast<std::size_t>(shifted_kc * shifted_mc + shifted_mc * round_up(g.out_c, micro_nr));
}

/// Output rows [row_begin, row_end) of y_n += conv2d(x_n, w) for one sample, from its padded input
/// xp and the weights packed by pack_shifted_weights; scratch holds shifted_worker_scratch
/// elements, 64-byte aligned.
inline void conv_forward_rows_shifted(const ConvGeometry& g, const float* xp, const float* packed_w, float* y,
                                      float* scratch, std::ptrdiff_t row_begin, std::ptrdiff_t row_end) noexcept {
#if SMLM_NN_MICROKERNEL
  const ShiftedGrid s = ShiftedGrid::of(g);
  const std::ptrdiff_t depth = g.depth(), plane = g.out_plane(), nc = round_up(g.out_c, micro_nr);
  float* block = scratch;
  float* out = scratch + shifted_kc * shifted_mc;
  const std::ptrdiff_t q_end = row_end * s.wp;
  for (std::ptrdiff_t q0 = row_begin * s.wp; q0 < q_end; q0 += shifted_mc) {
    const std::ptrdiff_t mc = std::min(shifted_mc, q_end - q0), panels = (mc + micro_mr - 1) / micro_mr;
    const std::ptrdiff_t ld = panels * micro_mr;
    std::fill(out, out + ld * nc, 0.0f);
    const float* b = packed_w;
    for (std::ptrdiff_t k2 = 0; k2 < depth; k2 += shifted_kc) {
      const std::ptrdiff_t kc = std::min(shifted_kc, depth - k2);
      pack_shifted(g, xp, q0, panels, k2, kc, block);
      // One weight panel stays in L1 while the position panels stream from L2 (the other order
      // was 15-20 % slower on the big Deep-STORM layers with AVX2's panels: docs/performance.md).
      for (std::ptrdiff_t j0 = 0; j0 < nc; j0 += micro_nr, b += kc * micro_nr)
        for (std::ptrdiff_t p = 0; p < panels; ++p)
          micro_kernel(kc, block + p * kc * micro_mr, b, out + p * micro_mr + j0 * ld, ld);
    }
    // Keep the real positions: y[o][r][j] += out[o·ld + r·Wp + j − q0] for j < out_w.
    for_each_grid_run(g, q0, q0 + mc, [&](std::ptrdiff_t q, std::ptrdiff_t r, std::ptrdiff_t j, std::ptrdiff_t, std::ptrdiff_t n) {
      for (std::ptrdiff_t o = 0; o < g.out_c; ++o) {
        float* dst = y + o * plane + r * g.out_w + j;
        const float* src = out + o * ld + (q - q0);
        for (std::ptrdiff_t e = 0; e < n; ++e) dst[e] += src[e];
      }
    });
  }
#else
  (void)g, (void)xp, (void)packed_w, (void)y, (void)scratch, (void)row_begin, (void)row_end;
#endif
}

/// Taps per weight-gradient panel group and positions per weight-gradient block.
inline constexpr std::ptrdiff_t wgrad_kc = 256;

/// Per-worker scratch of shifted_weight_gradient: the packed positions of dy and of the patches,
/// and the padded gradient (taps rounded up to mr, channels to nr).
inline std::size_t wgrad_worker_scratch(const ConvGeometry& g) noexcept {
  return static_cast<std::size_t>(2 * wgrad_kc * round_up(g.out_c, micro_nr) + wgrad_kc * micro_mr +
                                  round_up(g.depth(), micro_mr) * round_up(g.out_c, micro_nr) + 64);
}

/// gt (taps × channels, column-major, leading dimension round_up(depth, mr)) += ∂/∂w of one
/// sample on the extended grid: Σ_q patch(q, t) · dy(o, q) over kept positions q, from the padded
/// input xp and dy (out_c × out_h × out_w). The reduction runs over blocks of wgrad_kc positions:
/// dy's block is packed nr channels per position (zero at dropped positions), each group of mr
/// taps is transposed out of the padded input L × L at a time (L = transpose_lanes), and
/// micro_kernel accumulates.
inline void shifted_weight_gradient(const ConvGeometry& g, const float* xp, const float* dy, float* gt,
                                    float* scratch) noexcept {
#if SMLM_NN_MICROKERNEL
  constexpr int lanes = transpose_lanes;
  const ShiftedGrid s = ShiftedGrid::of(g);
  const std::ptrdiff_t depth = g.depth(), kd = round_up(depth, micro_mr), nc = round_up(g.out_c, micro_nr);
  const std::ptrdiff_t kk = g.k * g.k, q_total = g.out_h * s.wp, plane = g.out_plane();
  float* bdy = scratch;                   // [channel panel][position][nr]
  float* apatch = bdy + wgrad_kc * nc;    // [position][mr]
  float* dyx = apatch + wgrad_kc * micro_mr;  // [channel][position]: dy on the grid, 0 where dropped
  alignas(64) static constexpr float zeros[lanes] = {};
  for (std::ptrdiff_t q0 = 0; q0 < q_total; q0 += wgrad_kc) {
    const std::ptrdiff_t kc = std::min(wgrad_kc, round_up(q_total - q0, lanes));
    // dy's positions of this block on the extended grid, then L channels × L positions at a
    // time transposed into the nr-channel panels.
    for (std::ptrdiff_t o = 0; o < g.out_c; ++o) {
      float* row = dyx + o * kc - q0;
      for_each_grid_run(g, q0, q0 + kc, [&](std::ptrdiff_t q, std::ptrdiff_t r, std::ptrdiff_t j, std::ptrdiff_t len, std::ptrdiff_t n) {
        std::copy(dy + o * plane + r * g.out_w + j, dy + o * plane + r * g.out_w + j + n, row + q);
        std::fill(row + q + n, row + q + len, 0.0f);
      });
    }
    for (std::ptrdiff_t o0 = 0; o0 < nc; o0 += lanes) {
      const float* rows[lanes];
      alignas(64) float tile[lanes * lanes];
      for (std::ptrdiff_t q = 0; q < kc; q += lanes) {
        for (int i = 0; i < lanes; ++i) rows[i] = o0 + i < g.out_c ? dyx + (o0 + i) * kc + q : zeros;
        transpose_block(rows, tile, lanes);
        for (int e = 0; e < lanes; ++e)
          for (std::ptrdiff_t o1 = o0; o1 < std::min<std::ptrdiff_t>(o0 + lanes, nc); o1 += micro_nr)
            std::memcpy(bdy + o1 * kc + (q + e) * micro_nr, tile + e * lanes + (o1 - o0), micro_nr * sizeof(float));
      }
    }
    for (std::ptrdiff_t t0 = 0; t0 < kd; t0 += micro_mr) {
      for (std::ptrdiff_t t1 = t0; t1 < t0 + micro_mr; t1 += lanes) {
        const float* rows[lanes];
        std::ptrdiff_t offs[lanes];
        for (int i = 0; i < lanes; ++i) {
          const std::ptrdiff_t t = t1 + i, c = t / kk, u = t % kk / g.k, v = t % g.k;
          offs[i] = t < depth ? c * s.plane() + u * s.wp + v + q0 : -1;
        }
        for (std::ptrdiff_t q = 0; q < kc; q += lanes) {
          for (int i = 0; i < lanes; ++i) rows[i] = offs[i] >= 0 ? xp + offs[i] + q : zeros;
          transpose_block(rows, apatch + q * micro_mr + (t1 - t0), micro_mr);
        }
      }
      for (std::ptrdiff_t jp = 0; jp < nc; jp += micro_nr)
        micro_kernel(kc, apatch, bdy + jp * kc, gt + t0 + jp * kd, kd);
    }
  }
#else
  (void)g, (void)xp, (void)dy, (void)gt, (void)scratch;
#endif
}

}  // namespace detail

/// Scratch elements conv2d_forward<T> needs for a batch on `workers` threads.
template <class T>
std::size_t conv_forward_scratch(const ConvGeometry& g, std::ptrdiff_t batch, int workers) noexcept {
  std::size_t per_worker = conv_worker_scratch<T>(g), shared = 0;
  if (detail::shifted_forward<T>(g)) {
    per_worker = std::max(per_worker, detail::shifted_worker_scratch<T>(g));
    shared = static_cast<std::size_t>(detail::round_up(std::max<std::ptrdiff_t>(batch, 1) * detail::ShiftedGrid::of(g).sample(g),
                                                       64 / sizeof(T))) +
             detail::shifted_weights_size<T>(g);
  }
  return shared + static_cast<std::size_t>(std::max(workers, 1)) * per_worker;
}

namespace detail {
/// Bands of output rows per sample for conv2d_forward: at least one per tile, at least
/// forward_job_quantum jobs in all, and batch · bands a multiple of it where the rows allow, so
/// that equal jobs split evenly on 1, 2 or 4 threads (5 tiles on 2 threads left one thread idle
/// a fifth of the time). The cut never depends on the thread count: a band's position changes
/// which output columns fall on GEMM edge paths, whose rounding differs, so a thread-dependent
/// cut would make results depend on the threads.
inline constexpr std::ptrdiff_t forward_job_quantum = 4;
constexpr std::ptrdiff_t forward_bands(const ConvGeometry& g, std::ptrdiff_t batch) noexcept {
  const std::ptrdiff_t rows = std::max<std::ptrdiff_t>(g.out_h, 1), tile = conv_tile_rows(g);
  batch = std::max<std::ptrdiff_t>(batch, 1);
  std::ptrdiff_t bands = (rows + tile - 1) / tile;
  bands = std::min(std::max(bands, (forward_job_quantum + batch - 1) / batch), rows);
  for (std::ptrdiff_t b = bands; b <= rows; ++b)
    if (batch * b % forward_job_quantum == 0) return b;
  return bands;
}
}  // namespace detail

/// Inference-path conv2d over a batch with caller buffers: y = conv2d(x, w) + bias (bias may be
/// null), or y += conv2d(x, w) with `accumulate` (bias then unused). scratch holds
/// conv_forward_scratch<T>(g, batch, workers) elements, 64-byte aligned, for a pool of `workers`
/// threads (1 without a pool); pool may be null. No allocation, no exceptions.
template <class T>
void conv2d_forward(const ConvGeometry& g, std::ptrdiff_t batch, const T* x, const T* w, const T* bias,
                    T* y, T* scratch, WorkerPool* pool = nullptr, bool accumulate = false) noexcept {
  const std::ptrdiff_t plane = g.out_plane();
  constexpr bool can_shift = std::is_same_v<T, float>;
  const bool shifted = detail::shifted_forward<T>(g);
  const std::size_t per_worker =
      std::max(conv_worker_scratch<T>(g), shifted ? detail::shifted_worker_scratch<T>(g) : std::size_t(0));
  const std::ptrdiff_t padded_n = detail::ShiftedGrid::of(g).sample(g);
  T* padded = scratch;
  const T* packed_w = nullptr;
  if (shifted) {
    scratch += detail::round_up(std::max<std::ptrdiff_t>(batch, 1) * padded_n, 64 / sizeof(T));
    detail::pack_shifted_weights(g, w, scratch);
    packed_w = scratch;
    scratch += detail::shifted_weights_size<T>(g);
    // Pad every sample, a few channels per job.
    const std::ptrdiff_t per_job = std::max<std::ptrdiff_t>(1, (std::ptrdiff_t(1) << 16) / detail::ShiftedGrid::of(g).plane());
    const std::ptrdiff_t jobs_per_sample = (g.in_c + per_job - 1) / per_job;
    auto pad = [&](std::ptrdiff_t j, int) {
      const std::ptrdiff_t n = j / jobs_per_sample, c0 = j % jobs_per_sample * per_job;
      detail::pad_input(g, x + n * g.in_c * g.in_plane(), c0, std::min(c0 + per_job, g.in_c), padded + n * padded_n);
    };
    if (pool) {
      pool->run(batch * jobs_per_sample, pad);
    } else {
      for (std::ptrdiff_t j = 0; j < batch * jobs_per_sample; ++j) pad(j, 0);
    }
  }
  // Jobs are (sample, band of output rows); a small batch is cut into bands so that every
  // thread has work. Bands write disjoint outputs, and the cut (forward_bands) does not depend
  // on the thread count, so neither does the result.
  const std::ptrdiff_t bands = detail::forward_bands(g, batch);
  auto job = [&](std::ptrdiff_t j, int worker) {
    const std::ptrdiff_t n = j / bands, band = j % bands;
    const std::ptrdiff_t r0 = band * g.out_h / bands, r1 = (band + 1) * g.out_h / bands;
    T* yn = y + n * g.out_c * plane;
    if (!accumulate)
      for (std::ptrdiff_t o = 0; o < g.out_c; ++o)
        std::fill(yn + o * plane + r0 * g.out_w, yn + o * plane + r1 * g.out_w, bias ? bias[o] : T(0));
    T* own = scratch + static_cast<std::size_t>(worker) * per_worker;
    if constexpr (can_shift) {
      if (shifted) {
        detail::conv_forward_rows_shifted(g, padded + n * padded_n, packed_w, yn, own, r0, r1);
        return;
      }
    }
    conv_forward_rows(g, x + n * g.in_c * g.in_plane(), w, yn, own, r0, r1);
  };
  if (pool) {
    pool->run(batch * bands, job);
  } else {
    for (std::ptrdiff_t j = 0; j < batch * bands; ++j) job(j, 0);
  }
}

namespace detail {

/// For stride 1: the convolution whose output is the data gradient of g's (input dy, output dx).
constexpr ConvGeometry data_gradient_geometry(const ConvGeometry& g) noexcept {
  ConvGeometry d;
  d.in_c = g.out_c, d.in_h = g.out_h, d.in_w = g.out_w;
  d.out_c = g.in_c, d.out_h = g.in_h, d.out_w = g.in_w;
  d.k = g.k, d.stride = g.stride, d.pad_top = g.k - 1 - g.pad_top, d.pad_left = g.k - 1 - g.pad_left;
  return d;
}

/// flipped[c][o][u][v] = w[o][c][k − 1 − u][k − 1 − v]: the weights of data_gradient_geometry.
template <class T>
void flip_weights(const ConvGeometry& g, const T* w, T* flipped) noexcept {
  const std::ptrdiff_t kk = g.k * g.k;
  for (std::ptrdiff_t o = 0; o < g.out_c; ++o)
    for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
      for (std::ptrdiff_t t = 0; t < kk; ++t) flipped[(c * g.out_c + o) * kk + t] = w[(o * g.in_c + c) * kk + kk - 1 - t];
}

/// The fixed partition of a batch for weight-gradient reductions (independent of threads).
constexpr std::ptrdiff_t reduction_chunks(std::ptrdiff_t batch) noexcept {
  return std::min<std::ptrdiff_t>(batch, 8);
}
constexpr std::ptrdiff_t chunk_begin(std::ptrdiff_t chunk, std::ptrdiff_t chunks, std::ptrdiff_t batch) noexcept {
  return chunk * batch / chunks;
}

/// The shared backward of conv2d and conv_transpose2d. For conv2d (transposed = false): x is the
/// conv input, dy the output gradient. For the transposed conv the roles swap: `x` of the
/// underlying convolution is the transposed conv's output gradient and `dy` its input.
/// Weight gradient: per chunk into zeroed parts, summed in chunk order into dw.
template <class T>
void conv_backward(Tape<T>& tape, const ConvGeometry& g, std::ptrdiff_t batch, bool transposed,
                   const T* big, const T* small, const T* w, const T* d_big, const T* d_small,
                   T* grad_big, T* grad_small, T* dw, const T* padded_x = nullptr) noexcept {
  // big: tensors shaped like the convolution's input (in_c × in_h × in_w), small: like its output.
  const std::ptrdiff_t big_n = g.in_c * g.in_plane(), small_n = g.out_c * g.out_plane();
  const std::size_t wsize = static_cast<std::size_t>(g.out_c * g.depth());
  const std::ptrdiff_t chunks = reduction_chunks(batch);
  if (!transposed && grad_big) {
    // The data gradient of a stride-1 convolution is the convolution of dy with the weights
    // transposed and flipped, padded by k − 1 − pad: it takes the forward kernel.
    const ConvGeometry gd = data_gradient_geometry(g);
    if (shifted_forward<T>(gd)) {
      T* flipped = tape.scratch(wsize);
      flip_weights(g, w, flipped);
      T* s = tape.scratch(conv_forward_scratch<T>(gd, batch, tape.threads()));
      conv2d_forward(gd, batch, d_small, static_cast<const T*>(flipped), static_cast<const T*>(nullptr), grad_big, s,
                     tape.pool(), true);
      grad_big = nullptr;
    }
  }
  // Weight gradient on the forward's padded input where it kept one (stride-1 float conv2d).
  const bool shifted_dw = !transposed && dw && padded_x && shifted_forward<T>(g);
  std::size_t per_worker = conv_worker_scratch<T>(g);
  if constexpr (std::is_same_v<T, float>)
    if (shifted_dw) per_worker = std::max(per_worker, wgrad_worker_scratch(g));
  T* scratch = tape.scratch(per_worker * static_cast<std::size_t>(tape.threads()));
  T* parts = dw ? tape.arena().template allocate_zeroed<T>(wsize * static_cast<std::size_t>(chunks)) : nullptr;
  tape.parallel(chunks, [&](std::ptrdiff_t chunk, int worker) {
    T* s = scratch + static_cast<std::size_t>(worker) * per_worker;
    if constexpr (std::is_same_v<T, float>) {
      if (shifted_dw) {
        // This chunk's taps × channels gradient, padded, after shifted_weight_gradient's blocks.
        const std::ptrdiff_t kd = round_up(g.depth(), micro_mr), nc = round_up(g.out_c, micro_nr);
        T* gt = s + wgrad_kc * (2 * nc + micro_mr);
        std::fill(gt, gt + kd * nc, T(0));
        for (std::ptrdiff_t n = chunk_begin(chunk, chunks, batch); n < chunk_begin(chunk + 1, chunks, batch); ++n)
          shifted_weight_gradient(g, padded_x + n * ShiftedGrid::of(g).sample(g), d_small + n * small_n, gt, s);
        T* part = parts + wsize * chunk;
        for (std::ptrdiff_t o = 0; o < g.out_c; ++o)
          for (std::ptrdiff_t t = 0; t < g.depth(); ++t) part[o * g.depth() + t] += gt[t + o * kd];
      }
    }
    for (std::ptrdiff_t n = chunk_begin(chunk, chunks, batch); n < chunk_begin(chunk + 1, chunks, batch); ++n) {
      if (!transposed) {
        // conv2d: big = x, d_small = dy.
        if (dw && !shifted_dw) conv_backward_weight_sample(g, big + n * big_n, d_small + n * small_n, parts + wsize * chunk, s);
        if (grad_big) conv_backward_data_sample(g, d_small + n * small_n, w, grad_big + n * big_n, s);
      } else {
        // conv_transpose2d: small = its input x, d_big = its output gradient.
        if (dw) conv_backward_weight_sample(g, d_big + n * big_n, small + n * small_n, parts + wsize * chunk, s);
        if (grad_small) conv_forward_sample(g, d_big + n * big_n, w, grad_small + n * small_n, s);
      }
    }
  });
  if (dw)
    for (std::ptrdiff_t c = 0; c < chunks; ++c)
      for (std::size_t i = 0; i < wsize; ++i) dw[i] += parts[wsize * c + i];
}

template <class T>
void add_bias_grad(const T* dy, std::ptrdiff_t batch, std::ptrdiff_t channels, std::ptrdiff_t plane, T* db) noexcept {
  for (std::ptrdiff_t o = 0; o < channels; ++o) {
    T s = 0;
    for (std::ptrdiff_t n = 0; n < batch; ++n) {
      const T* p = dy + (n * channels + o) * plane;
      for (std::ptrdiff_t i = 0; i < plane; ++i) s += p[i];
    }
    db[o] += s;
  }
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Tape ops.

struct Conv2dOptions {
  std::ptrdiff_t stride = 1;
  Padding padding = Padding::same;
};

/// conv2d(x, w) + bias; pass a Var with an empty value (Var<T>{}) for no bias.
template <class T>
Var<T> conv2d(Tape<T>& tape, const Var<T>& x, const Var<T>& w, const Var<T>& bias,
              Conv2dOptions opt = {}) SMLM_NOEXCEPT {
  const ConvGeometry g = conv2d_geometry(x.shape(), w.shape(), opt.stride, opt.padding);
  const bool has_bias = !bias.value.empty();
  SMLM_ASSERT(!has_bias || bias.value.size() == g.out_c, "conv2d: bias needs one value per output channel");
  const std::ptrdiff_t batch = x.shape().n;
  const bool grad = tape.needs_grad(x, w, bias);
  Var<T> y = tape.make({batch, g.out_c, g.out_h, g.out_w}, grad);
  // The scratch starts with the padded input (shifted kernel), which the weight gradient reuses.
  T* scratch = tape.scratch(conv_forward_scratch<T>(g, batch, tape.threads()));
  conv2d_forward(g, batch, x.data(), w.data(), has_bias ? bias.data() : nullptr, y.value.data(), scratch,
                 tape.pool());
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      detail::conv_backward(*tp, g, batch, false, x.data(), y.data(), w.data(), static_cast<const T*>(nullptr),
                            static_cast<const T*>(y.grad), x.grad, static_cast<T*>(nullptr), w.grad,
                            detail::shifted_forward<T>(g) ? static_cast<const T*>(scratch) : static_cast<const T*>(nullptr));
      if (has_bias && bias.grad) detail::add_bias_grad(static_cast<const T*>(y.grad), batch, g.out_c, g.out_plane(), bias.grad);
    });
  }
  return y;
}
template <class T>
Var<T> conv2d(Tape<T>& tape, const Var<T>& x, const Var<T>& w, Conv2dOptions opt = {}) SMLM_NOEXCEPT {
  return conv2d(tape, x, w, Var<T>{}, opt);
}

struct ConvTranspose2dOptions {
  std::ptrdiff_t stride = 2;
  std::ptrdiff_t padding = 0;
  std::ptrdiff_t output_padding = 0;
};

/// Reference transposed convolution (the adjoint of conv2d_forward_ref in x, plus bias).
template <class T>
void conv_transpose2d_forward_ref(const ConvGeometry& g, std::ptrdiff_t batch, const T* x, const T* w,
                                  const T* bias, T* y) noexcept {
  // y has the convolution's input shape (in_c × in_h × in_w); x its output shape.
  for (std::ptrdiff_t n = 0; n < batch; ++n)
    for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
      for (std::ptrdiff_t i = 0; i < g.in_plane(); ++i) y[(n * g.in_c + c) * g.in_plane() + i] = bias ? bias[c] : T(0);
  detail::for_each_output(g, batch, [&](std::ptrdiff_t xi, std::ptrdiff_t n, std::ptrdiff_t o, std::ptrdiff_t i, std::ptrdiff_t j) {
    detail::for_each_tap(g, n, o, i, j, [&](std::ptrdiff_t yi, std::ptrdiff_t wi) { y[yi] += w[wi] * x[xi]; });
  });
}

/// Transposed convolution (PyTorch's ConvTranspose2d, groups = 1, dilation = 1); bias optional.
template <class T>
Var<T> conv_transpose2d(Tape<T>& tape, const Var<T>& x, const Var<T>& w, const Var<T>& bias,
                        ConvTranspose2dOptions opt = {}) SMLM_NOEXCEPT {
  const ConvGeometry g = conv_transpose2d_geometry(x.shape(), w.shape(), opt.stride, opt.padding, opt.output_padding);
  const bool has_bias = !bias.value.empty();
  SMLM_ASSERT(!has_bias || bias.value.size() == g.in_c, "conv_transpose2d: bias needs one value per output channel");
  const std::ptrdiff_t batch = x.shape().n;
  const bool grad = tape.needs_grad(x, w, bias);
  Var<T> y = tape.make({batch, g.in_c, g.in_h, g.in_w}, grad);
  T* yd = y.value.data();
  const std::ptrdiff_t big = g.in_c * g.in_plane(), small = g.out_c * g.out_plane();
  for (std::ptrdiff_t n = 0; n < batch; ++n)
    for (std::ptrdiff_t c = 0; c < g.in_c; ++c)
      std::fill(yd + n * big + c * g.in_plane(), yd + n * big + (c + 1) * g.in_plane(), has_bias ? bias.data()[c] : T(0));
  const std::size_t per_worker = conv_worker_scratch<T>(g);
  T* scratch = tape.scratch(per_worker * static_cast<std::size_t>(tape.threads()));
  const T* xd = x.data();
  const T* wd = w.data();
  tape.parallel(batch, [&](std::ptrdiff_t n, int worker) {
    conv_backward_data_sample(g, xd + n * small, wd, yd + n * big, scratch + static_cast<std::size_t>(worker) * per_worker);
  });
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      detail::conv_backward(*tp, g, batch, true, static_cast<const T*>(nullptr), x.data(), w.data(),
                            static_cast<const T*>(y.grad), static_cast<const T*>(nullptr), static_cast<T*>(nullptr),
                            x.grad, w.grad);
      if (has_bias && bias.grad) detail::add_bias_grad(static_cast<const T*>(y.grad), batch, g.in_c, g.in_plane(), bias.grad);
    });
  }
  return y;
}
template <class T>
Var<T> conv_transpose2d(Tape<T>& tape, const Var<T>& x, const Var<T>& w, ConvTranspose2dOptions opt = {}) SMLM_NOEXCEPT {
  return conv_transpose2d(tape, x, w, Var<T>{}, opt);
}

// ---------------------------------------------------------------------------------------------
// Fixed (non-trainable) per-channel convolution.

/// Fills kernel (k × k, row-major) with exp(−(u² + v²)/(2σ²)) at integer offsets from the
/// centre, scaled to sum to `total` (k odd).
template <class T>
void gaussian_kernel(T* kernel, std::ptrdiff_t k, double sigma_px, double total = 1.0) SMLM_NOEXCEPT {
  SMLM_ASSERT(k >= 1 && k % 2 == 1 && sigma_px > 0, "gaussian_kernel: needs odd k and sigma > 0");
  const std::ptrdiff_t r = k / 2;
  double sum = 0;
  for (std::ptrdiff_t u = -r; u <= r; ++u)
    for (std::ptrdiff_t v = -r; v <= r; ++v) sum += std::exp(-double(u * u + v * v) / (2 * sigma_px * sigma_px));
  for (std::ptrdiff_t u = -r; u <= r; ++u)
    for (std::ptrdiff_t v = -r; v <= r; ++v)
      kernel[(u + r) * k + v + r] = static_cast<T>(total * std::exp(-double(u * u + v * v) / (2 * sigma_px * sigma_px)) / sum);
}

/// Every channel of x convolved ('same', stride 1) with the same fixed k × k kernel
/// ([1, 1, k, k] view): no gradient flows into the kernel. Used to blur outputs and targets.
template <class T>
Var<T> fixed_conv2d(Tape<T>& tape, const Var<T>& x, TensorView<const T> kernel) SMLM_NOEXCEPT {
  SMLM_ASSERT(kernel.n() == 1 && kernel.c() == 1 && kernel.is_contiguous(), "fixed_conv2d: kernel must be [1, 1, k, k]");
  const Shape planes{x.shape().n * x.shape().c, 1, x.shape().h, x.shape().w};
  const ConvGeometry g = conv2d_geometry(planes, kernel.shape(), 1, Padding::same);
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make(x.shape(), grad);
  T* scratch = tape.scratch(conv_forward_scratch<T>(g, planes.n, tape.threads()));
  conv2d_forward(g, planes.n, x.data(), kernel.data(), static_cast<const T*>(nullptr), y.value.data(), scratch, tape.pool());
  if (grad) {
    Tape<T>* tp = &tape;
    const T* kd = kernel.data();
    tape.record([=] {
      const std::size_t pw = conv_worker_scratch<T>(g);
      T* s = tp->scratch(pw * static_cast<std::size_t>(tp->threads()));
      tp->parallel(planes.n, [&](std::ptrdiff_t n, int worker) {
        conv_backward_data_sample(g, static_cast<const T*>(y.grad) + n * g.out_plane(), kd, x.grad + n * g.in_plane(),
                                  s + static_cast<std::size_t>(worker) * pw);
      });
    });
  }
  return y;
}

}  // namespace smlm::nn
