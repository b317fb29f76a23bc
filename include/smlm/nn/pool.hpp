// Pooling: 2×2 max pooling (stride 2, argmax kept for backward) and k×k average pooling
// (stride k). Odd trailing rows/columns are dropped (⌊H/2⌋, as PyTorch's default floor mode).
// Ties in max pooling go to the first maximum in row-major window order.
#pragma once

#include <cstddef>
#include <cstdint>

#include <smlm/core/config.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

/// Inference kernel over dense NCHW data: y (N, C, ⌊H/2⌋, ⌊W/2⌋) = window maxima; when argmax
/// is not null it receives the window position (0..3, row-major) of each maximum.
template <class T>
void max_pool2x2_forward(Shape x, const T* xd, T* y, std::uint8_t* argmax) noexcept {
  const std::ptrdiff_t oh = x.h / 2, ow = x.w / 2;
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p) {
    const T* src = xd + p * x.h * x.w;
    T* dst = y + p * oh * ow;
    std::uint8_t* am = argmax ? argmax + p * oh * ow : nullptr;
    for (std::ptrdiff_t i = 0; i < oh; ++i)
      for (std::ptrdiff_t j = 0; j < ow; ++j) {
        const T* r0 = src + (2 * i) * x.w + 2 * j;
        const T* r1 = r0 + x.w;
        T m = r0[0];
        std::uint8_t a = 0;
        if (r0[1] > m) m = r0[1], a = 1;
        if (r1[0] > m) m = r1[0], a = 2;
        if (r1[1] > m) m = r1[1], a = 3;
        dst[i * ow + j] = m;
        if (am) am[i * ow + j] = a;
      }
  }
}

template <class T>
Var<T> max_pool2x2(Tape<T>& tape, const Var<T>& x) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  SMLM_ASSERT(s.h >= 2 && s.w >= 2, "max_pool2x2 needs at least 2×2 planes");
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c, s.h / 2, s.w / 2}, grad);
  std::uint8_t* argmax = grad ? tape.template scratch_as<std::uint8_t>(static_cast<std::size_t>(y.value.size())) : nullptr;
  const std::ptrdiff_t in_plane = s.h * s.w, out_plane = (s.h / 2) * (s.w / 2);
  tape.parallel_range(s.n * s.c, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    max_pool2x2_forward(Shape{1, hi - lo, s.h, s.w}, x.data() + lo * in_plane, y.value.data() + lo * out_plane,
                        argmax ? argmax + lo * out_plane : nullptr);
  }, 1);
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      const std::ptrdiff_t oh = s.h / 2, ow = s.w / 2;
      tp->parallel_range(s.n * s.c, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t p = lo; p < hi; ++p)
          for (std::ptrdiff_t i = 0; i < oh; ++i)
            for (std::ptrdiff_t j = 0; j < ow; ++j) {
              const std::ptrdiff_t o = (p * oh + i) * ow + j;
              const int a = argmax[o];
              x.grad[(p * s.h + 2 * i + a / 2) * s.w + 2 * j + a % 2] += y.grad[o];
            }
      }, 1);
    });
  }
  return y;
}

/// Inference kernel: k×k windows, stride k, mean.
template <class T>
void avg_pool_forward(Shape x, std::ptrdiff_t k, const T* xd, T* y) noexcept {
  const std::ptrdiff_t oh = x.h / k, ow = x.w / k;
  const T inv = T(1) / T(k * k);
  for (std::ptrdiff_t p = 0; p < x.n * x.c; ++p)
    for (std::ptrdiff_t i = 0; i < oh; ++i)
      for (std::ptrdiff_t j = 0; j < ow; ++j) {
        T s = 0;
        for (std::ptrdiff_t u = 0; u < k; ++u)
          for (std::ptrdiff_t v = 0; v < k; ++v) s += xd[(p * x.h + i * k + u) * x.w + j * k + v];
        y[(p * oh + i) * ow + j] = s * inv;
      }
}

template <class T>
Var<T> avg_pool(Tape<T>& tape, const Var<T>& x, std::ptrdiff_t k = 2) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  SMLM_ASSERT(k >= 1 && s.h >= k && s.w >= k, "avg_pool needs k ≥ 1 and planes of at least k×k");
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make({s.n, s.c, s.h / k, s.w / k}, grad);
  avg_pool_forward(s, k, x.data(), y.value.data());
  if (grad) {
    tape.record([=] {
      const std::ptrdiff_t oh = s.h / k, ow = s.w / k;
      const T inv = T(1) / T(k * k);
      for (std::ptrdiff_t p = 0; p < s.n * s.c; ++p)
        for (std::ptrdiff_t i = 0; i < oh; ++i)
          for (std::ptrdiff_t j = 0; j < ow; ++j) {
            const T g = y.grad[(p * oh + i) * ow + j] * inv;
            for (std::ptrdiff_t u = 0; u < k; ++u)
              for (std::ptrdiff_t v = 0; v < k; ++v) x.grad[(p * s.h + i * k + u) * s.w + j * k + v] += g;
          }
    });
  }
  return y;
}

}  // namespace smlm::nn
