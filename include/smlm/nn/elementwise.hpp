// Element-wise ops and activations: add, scale, channel concat, ReLU, LeakyReLU, tanh, sigmoid,
// and seeded inverted dropout. The *_forward kernels work on flat arrays and are the inference
// path (activation_forward's y may alias x; concat's may not). concat's kernels take ranges of
// the output so that the op can run them in fixed pieces on the tape's pool; their `_ref` twins
// are the definition.
#pragma once

#include <algorithm>
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

/// The definition of concat's forward: per sample, a's na values, then b's nb values.
template <class T>
void concat_forward_ref(std::ptrdiff_t batch, std::ptrdiff_t na, std::ptrdiff_t nb, const T* a, const T* b, T* y) noexcept {
  for (std::ptrdiff_t n = 0; n < batch; ++n) {
    T* dst = y + n * (na + nb);
    for (std::ptrdiff_t i = 0; i < na; ++i) dst[i] = a[n * na + i];
    for (std::ptrdiff_t i = 0; i < nb; ++i) dst[na + i] = b[n * nb + i];
  }
}

/// The definition of concat's backward: da += dy's a part, db += its b part (either may be null).
template <class T>
void concat_backward_ref(std::ptrdiff_t batch, std::ptrdiff_t na, std::ptrdiff_t nb, const T* dy, T* da, T* db) noexcept {
  for (std::ptrdiff_t n = 0; n < batch; ++n) {
    const T* src = dy + n * (na + nb);
    if (da)
      for (std::ptrdiff_t i = 0; i < na; ++i) da[n * na + i] += src[i];
    if (db)
      for (std::ptrdiff_t i = 0; i < nb; ++i) db[n * nb + i] += src[na + i];
  }
}

namespace detail {
/// Calls f(y_offset, part, part_offset, count) for each run of elements of y[lo, hi) that comes
/// from one sample's part (0: a, 1: b) of a concat of na + nb values per sample.
template <class F>
void for_each_concat_run(std::ptrdiff_t na, std::ptrdiff_t nb, std::ptrdiff_t lo, std::ptrdiff_t hi, F&& f) noexcept {
  const std::ptrdiff_t ns = na + nb;
  for (std::ptrdiff_t i = lo; i < hi;) {
    const std::ptrdiff_t n = i / ns, o = i - n * ns;
    if (o < na) {
      const std::ptrdiff_t end = std::min(hi, n * ns + na);
      f(i, 0, n * na + o, end - i);
      i = end;
    } else {
      const std::ptrdiff_t end = std::min(hi, (n + 1) * ns);
      f(i, 1, n * nb + (o - na), end - i);
      i = end;
    }
  }
}
}  // namespace detail

/// Elements [lo, hi) of concat's output (of batch · (na + nb)); equal to concat_forward_ref's.
template <class T>
void concat_forward_range(std::ptrdiff_t na, std::ptrdiff_t nb, const T* a, const T* b, T* y, std::ptrdiff_t lo,
                          std::ptrdiff_t hi) noexcept {
  detail::for_each_concat_run(na, nb, lo, hi, [&](std::ptrdiff_t yo, int part, std::ptrdiff_t po, std::ptrdiff_t count) {
    std::copy_n((part == 0 ? a : b) + po, count, y + yo);
  });
}

/// The backward of output elements [lo, hi) (each da/db element has exactly one); equal to
/// concat_backward_ref's.
template <class T>
void concat_backward_range(std::ptrdiff_t na, std::ptrdiff_t nb, const T* dy, T* da, T* db, std::ptrdiff_t lo,
                           std::ptrdiff_t hi) noexcept {
  detail::for_each_concat_run(na, nb, lo, hi, [&](std::ptrdiff_t yo, int part, std::ptrdiff_t po, std::ptrdiff_t count) {
    T* d = part == 0 ? da : db;
    if (d == nullptr) return;
    d += po;
    const T* src = dy + yo;
    for (std::ptrdiff_t i = 0; i < count; ++i) d[i] += src[i];
  });
}

/// [a, b] along channels: a's channels first (the U-Net skip connection).
template <class T>
Var<T> concat(Tape<T>& tape, const Var<T>& a, const Var<T>& b) SMLM_NOEXCEPT {
  const Shape sa = a.shape(), sb = b.shape();
  SMLM_ASSERT(sa.n == sb.n && sa.h == sb.h && sa.w == sb.w, "concat: batch and plane sizes must agree");
  const bool grad = tape.needs_grad(a, b);
  Var<T> y = tape.make({sa.n, sa.c + sb.c, sa.h, sa.w}, grad);
  const std::ptrdiff_t na = sa.c * sa.h * sa.w, nb = sb.c * sb.h * sb.w, total = sa.n * (na + nb);
  const T* ad = a.data();
  const T* bd = b.data();
  T* yd = y.value.data();
  tape.parallel_range(total, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) { concat_forward_range(na, nb, ad, bd, yd, lo, hi); });
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel_range(total, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        concat_backward_range(na, nb, static_cast<const T*>(y.grad), a.grad, b.grad, lo, hi);
      });
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
