// Element-wise ops and activations: add, scale, channel concat, ReLU, LeakyReLU, tanh, sigmoid,
// and seeded inverted dropout. The *_forward kernels work on flat arrays (y may alias x) and are
// the inference path.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include <smlm/core/config.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

template <class T>
Var<T> add(Tape<T>& tape, const Var<T>& a, const Var<T>& b) SMLM_NOEXCEPT {
  SMLM_ASSERT(a.shape() == b.shape(), "add: shapes differ");
  const bool grad = tape.needs_grad(a, b);
  Var<T> y = tape.make(a.shape(), grad);
  const std::ptrdiff_t n = a.value.size();
  tape.parallel_range(n, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t i = lo; i < hi; ++i) y.value[i] = a.value[i] + b.value[i];
  });
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel_range(n, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        if (a.grad)
          for (std::ptrdiff_t i = lo; i < hi; ++i) a.grad[i] += y.grad[i];
        if (b.grad)
          for (std::ptrdiff_t i = lo; i < hi; ++i) b.grad[i] += y.grad[i];
      });
    });
  }
  return y;
}

/// factor · x for a constant factor.
template <class T>
Var<T> scale(Tape<T>& tape, const Var<T>& x, T factor) SMLM_NOEXCEPT {
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make(x.shape(), grad);
  const std::ptrdiff_t n = x.value.size();
  for (std::ptrdiff_t i = 0; i < n; ++i) y.value[i] = factor * x.value[i];
  if (grad) {
    tape.record([=] {
      for (std::ptrdiff_t i = 0; i < n; ++i) x.grad[i] += factor * y.grad[i];
    });
  }
  return y;
}

/// [a, b] along channels: a's channels first (the U-Net skip connection).
template <class T>
Var<T> concat(Tape<T>& tape, const Var<T>& a, const Var<T>& b) SMLM_NOEXCEPT {
  const Shape sa = a.shape(), sb = b.shape();
  SMLM_ASSERT(sa.n == sb.n && sa.h == sb.h && sa.w == sb.w, "concat: batch and plane sizes must agree");
  const bool grad = tape.needs_grad(a, b);
  Var<T> y = tape.make({sa.n, sa.c + sb.c, sa.h, sa.w}, grad);
  const std::ptrdiff_t na = sa.c * sa.h * sa.w, nb = sb.c * sb.h * sb.w;
  for (std::ptrdiff_t n = 0; n < sa.n; ++n) {
    T* dst = y.value.data() + n * (na + nb);
    for (std::ptrdiff_t i = 0; i < na; ++i) dst[i] = a.value[n * na + i];
    for (std::ptrdiff_t i = 0; i < nb; ++i) dst[na + i] = b.value[n * nb + i];
  }
  if (grad) {
    tape.record([=] {
      for (std::ptrdiff_t n = 0; n < sa.n; ++n) {
        const T* src = y.grad + n * (na + nb);
        if (a.grad)
          for (std::ptrdiff_t i = 0; i < na; ++i) a.grad[n * na + i] += src[i];
        if (b.grad)
          for (std::ptrdiff_t i = 0; i < nb; ++i) b.grad[n * nb + i] += src[na + i];
      }
    });
  }
  return y;
}

// --- activations ----------------------------------------------------------------------------

enum class Activation { identity, relu, leaky_relu, tanh, sigmoid };

/// y = f(x) element-wise (y may alias x); slope is LeakyReLU's negative slope.
template <class T>
void activation_forward(Activation f, std::ptrdiff_t n, const T* x, T* y, T slope = T(0.01)) noexcept {
  switch (f) {
    case Activation::identity:
      for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i];
      break;
    case Activation::relu:
      for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      break;
    case Activation::leaky_relu:
      for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
      break;
    case Activation::tanh:
      for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
    case Activation::sigmoid:
      for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
      break;
  }
}

/// dx += f'(x) · dy, written in terms of the forward output y where that is cheaper.
template <class T>
void activation_backward(Activation f, std::ptrdiff_t n, const T* x, const T* y, const T* dy, T* dx,
                         T slope = T(0.01)) noexcept {
  switch (f) {
    case Activation::identity:
      for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] += dy[i];
      break;
    case Activation::relu:
      for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] += x[i] > T(0) ? dy[i] : T(0);
      break;
    case Activation::leaky_relu:
      for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] += x[i] > T(0) ? dy[i] : slope * dy[i];
      break;
    case Activation::tanh:
      for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] += (T(1) - y[i] * y[i]) * dy[i];
      break;
    case Activation::sigmoid:
      for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] += y[i] * (T(1) - y[i]) * dy[i];
      break;
  }
}

template <class T>
Var<T> activate(Tape<T>& tape, const Var<T>& x, Activation f, T slope = T(0.01)) noexcept {
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make(x.shape(), grad);
  const std::ptrdiff_t n = x.value.size();
  tape.parallel_range(n, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    activation_forward(f, hi - lo, x.data() + lo, y.value.data() + lo, slope);
  });
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel_range(n, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        activation_backward(f, hi - lo, x.data() + lo, y.data() + lo, static_cast<const T*>(y.grad) + lo, x.grad + lo, slope);
      });
    });
  }
  return y;
}
template <class T>
Var<T> relu(Tape<T>& tape, const Var<T>& x) noexcept { return activate(tape, x, Activation::relu); }
template <class T>
Var<T> leaky_relu(Tape<T>& tape, const Var<T>& x, T slope = T(0.01)) noexcept {
  return activate(tape, x, Activation::leaky_relu, slope);
}
template <class T>
Var<T> tanh(Tape<T>& tape, const Var<T>& x) noexcept { return activate(tape, x, Activation::tanh); }
template <class T>
Var<T> sigmoid(Tape<T>& tape, const Var<T>& x) noexcept { return activate(tape, x, Activation::sigmoid); }

// --- dropout --------------------------------------------------------------------------------

/// Inverted dropout: in training mode each element is kept with probability 1 − p and scaled
/// by 1/(1 − p); in inference mode (or p = 0) it is the identity. Element i's decision is
/// uniform01 of word i of stream Philox4x32(seed, step, rng_purpose::dropout), so a given
/// (seed, step) drops the same elements on any number of threads.
template <class T>
Var<T> dropout(Tape<T>& tape, const Var<T>& x, double p, std::uint64_t seed, std::uint32_t step) SMLM_NOEXCEPT {
  SMLM_ASSERT(p >= 0 && p < 1, "dropout probability must be in [0, 1)");
  if (!tape.training() || p == 0) return x;
  const bool grad = tape.needs_grad(x);
  Var<T> y = tape.make(x.shape(), grad);
  const std::ptrdiff_t n = x.value.size();
  std::uint8_t* keep = tape.template scratch_as<std::uint8_t>(static_cast<std::size_t>(n));
  Philox4x32 rng(seed, step, rng_purpose::dropout);
  const T gain = T(1 / (1 - p));
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    keep[i] = uniform01<float>(rng) >= float(p);
    y.value[i] = keep[i] ? gain * x.value[i] : T(0);
  }
  if (grad) {
    tape.record([=] {
      for (std::ptrdiff_t i = 0; i < n; ++i)
        if (keep[i]) x.grad[i] += gain * y.grad[i];
    });
  }
  return y;
}

}  // namespace smlm::nn
