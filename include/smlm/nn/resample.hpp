// Up-sampling: nearest-neighbour ×k, bilinear ×k and pixel shuffle (sub-pixel convolution).
//
// Bilinear follows PyTorch's interpolate(mode='bilinear', align_corners=False): output pixel o
// samples the input at s = (o + ½)/k − ½, clamped below at 0, between ⌊s⌋ and min(⌊s⌋ + 1, H − 1).
// Pixel shuffle (Shi et al., "Real-time single image and video super-resolution using an
// efficient sub-pixel convolutional neural network", CVPR 2016; PyTorch's PixelShuffle): input
// channel c·r² + a·r + b at (i, j) becomes output channel c at (i·r + a, j·r + b).
#pragma once

#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

template <class T>
void upsample_nearest_forward(Shape x, std::ptrdiff_t k, const T* xd, T* y) noexcept {
  const std::ptrdiff_t oh = x.h * k, ow = x.w * k;
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p)
    for (std::ptrdiff_t i = 0; i < oh; ++i) {
      const T* src = xd + (p * x.h + i / k) * x.w;
      T* dst = y + (p * oh + i) * ow;
      for (std::ptrdiff_t j = 0; j < x.w; ++j)
        for (std::ptrdiff_t b = 0; b < k; ++b) dst[j * k + b] = src[j];
    }
}

template <class T>
Var<T> upsample_nearest(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t k = 2) SMLM_NOEXCEPT {
  SMLM_ASSERT(k >= 1, "upsample factor must be ≥ 1");
  const Shape s = x.shape();
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c, s.h * k, s.w * k}, grad);
  const std::ptrdiff_t in_plane = s.h * s.w, out_plane = in_plane * k * k;
  tape.parallel_range(s.n * s.c, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    upsample_nearest_forward(Shape{1, hi - lo, s.h, s.w}, k, x.data() + lo * in_plane, y.value.data() + lo * out_plane);
  }, 1);
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      const std::ptrdiff_t oh = s.h * k, ow = s.w * k;
      tp->parallel_range(s.n * s.c, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t p = lo; p < hi; ++p)
          for (std::ptrdiff_t i = 0; i < oh; ++i) {
            T* dst = x.grad + (p * s.h + i / k) * s.w;
            const T* src = y.grad + (p * oh + i) * ow;
            for (std::ptrdiff_t j = 0; j < ow; ++j) dst[j / k] += src[j];
          }
      }, 1);
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

template <class T>
void pixel_shuffle_forward(Shape x, std::ptrdiff_t r, const T* xd, T* y) noexcept {
  std::ptrdiff_t idx = 0;
  for (std::ptrdiff_t n = 0; n < x.n; ++n)
    for (std::ptrdiff_t c = 0; c < x.c; ++c)
      for (std::ptrdiff_t i = 0; i < x.h; ++i)
        for (std::ptrdiff_t j = 0; j < x.w; ++j) y[detail::shuffled_index(x, r, n, c, i, j)] = xd[idx++];
}

/// [N, C·r², H, W] → [N, C, H·r, W·r].
template <class T>
Var<T> pixel_shuffle(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t r) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  SMLM_ASSERT(r >= 1 && s.c % (r * r) == 0, "pixel_shuffle: channels must be a multiple of r²");
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c / (r * r), s.h * r, s.w * r}, grad);
  pixel_shuffle_forward(s, r, x.data(), y.value.data());
  if (grad) {
    tape.record([=] {
      std::ptrdiff_t idx = 0;
      for (std::ptrdiff_t n = 0; n < s.n; ++n)
        for (std::ptrdiff_t c = 0; c < s.c; ++c)
          for (std::ptrdiff_t i = 0; i < s.h; ++i)
            for (std::ptrdiff_t j = 0; j < s.w; ++j) x.grad[idx++] += y.grad[detail::shuffled_index(s, r, n, c, i, j)];
    });
  }
  return y;
}

}  // namespace smlm::nn
