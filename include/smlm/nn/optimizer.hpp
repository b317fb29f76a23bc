// Optimizers (Adam/AdamW, SGD with momentum) and gradient-norm clipping.
//
// The state of every parameter lives in the Parameter itself (moment1, moment2, steps), never in
// a side table keyed by addresses, so parameters may move, be added or be saved with their state.
// The moments are sized on a parameter's first step (the only allocation; later steps allocate
// nothing). A "parameter set" is anything parameters can be drawn from: a model with
// for_each_parameter(f), a range of Parameter<T>* or a range of Parameter<T>.
//
// Adam (Kingma & Ba 2015, with bias correction) as torch.optim.Adam computes it:
//   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
//   θ ← θ − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε);
// weight_decay > 0 applies the decoupled decay of AdamW (Loshchilov & Hutter 2019) first:
//   θ ← θ·(1 − lr·weight_decay).
// SGD with momentum μ as torch.optim.SGD: b ← μ b + g (b = g on the first step), θ ← θ − lr·b;
// weight_decay adds weight_decay·θ to g (classic L2).
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <smlm/nn/tape.hpp>

namespace smlm::nn {

namespace detail {
template <class P>
concept has_for_each_parameter = requires(P& p) { p.for_each_parameter([](auto&) {}); };

template <class Params, class F>
void visit_parameters(Params&& params, F&& f) {
  if constexpr (has_for_each_parameter<std::remove_cvref_t<Params>>) {
    params.for_each_parameter(f);
  } else {
    for (auto&& p : params) {
      if constexpr (std::is_pointer_v<std::remove_cvref_t<decltype(p)>>) {
        f(*p);
      } else {
        f(p);
      }
    }
  }
}
}  // namespace detail

/// Calls f(Parameter<T>&) for every parameter of the set.
template <class Params, class F>
void for_each_parameter(Params&& params, F&& f) {
  detail::visit_parameters(std::forward<Params>(params), std::forward<F>(f));
}

/// Sets every gradient of the set to zero.
template <class Params>
void zero_grad(Params&& params) {
  for_each_parameter(params, [](auto& p) { p.zero_grad(); });
}

/// Scales all gradients so that their joint L2 norm is at most max_norm (as
/// torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6) when norm > max_norm).
/// Returns the norm before clipping.
template <class Params>
double clip_grad_norm(Params&& params, double max_norm) {
  double sq = 0;
  for_each_parameter(params, [&](auto& p) {
    if (!p.trainable) return;
    for (auto g : p.grad) sq += double(g) * double(g);
  });
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const double f = max_norm / (norm + 1e-6);
    for_each_parameter(params, [&](auto& p) {
      for (auto& g : p.grad) g = static_cast<std::remove_reference_t<decltype(g)>>(g * f);
    });
  }
  return norm;
}

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  ///< decoupled (AdamW); 0 = plain Adam
};

template <class T = float>
class Adam {
 public:
  explicit Adam(AdamOptions opt = {}) : opt_(opt) {}
  double lr() const noexcept { return opt_.lr; }
  void set_lr(double lr) noexcept { opt_.lr = lr; }
  const AdamOptions& options() const noexcept { return opt_; }

  void step(Parameter<T>& p) {
    if (!p.trainable) return;
    if (p.moment1.shape() != p.shape()) p.moment1 = Tensor<T>(p.shape());
    if (p.moment2.shape() != p.shape()) p.moment2 = Tensor<T>(p.shape());
    const std::int64_t t = ++p.steps;
    const double bc1 = 1 - std::pow(opt_.beta1, double(t));
    const double bc2_sqrt = std::sqrt(1 - std::pow(opt_.beta2, double(t)));
    const double step_size = opt_.lr / bc1;
    const double decay = 1 - opt_.lr * opt_.weight_decay;
    T* w = p.value.data();
    T* m = p.moment1.data();
    T* v = p.moment2.data();
    const T* g = p.grad.data();
    for (std::ptrdiff_t i = 0; i < p.value.size(); ++i) {
      const double gi = g[i];
      const double mi = opt_.beta1 * double(m[i]) + (1 - opt_.beta1) * gi;
      const double vi = opt_.beta2 * double(v[i]) + (1 - opt_.beta2) * gi * gi;
      m[i] = T(mi);
      v[i] = T(vi);
      double wi = double(w[i]);
      if (opt_.weight_decay != 0) wi *= decay;
      w[i] = T(wi - step_size * double(m[i]) / (std::sqrt(double(v[i])) / bc2_sqrt + opt_.eps));
    }
  }
  template <class Params>
    requires(!std::is_same_v<std::remove_cvref_t<Params>, Parameter<T>>)
  void step(Params&& params) {
    for_each_parameter(params, [this](Parameter<T>& p) { step(p); });
  }

 private:
  AdamOptions opt_;
};

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0.9;
  double weight_decay = 0;  ///< L2 added to the gradient
};

template <class T = float>
class Sgd {
 public:
  explicit Sgd(SgdOptions opt = {}) : opt_(opt) {}
  double lr() const noexcept { return opt_.lr; }
  void set_lr(double lr) noexcept { opt_.lr = lr; }

  void step(Parameter<T>& p) {
    if (!p.trainable) return;
    const bool first = p.moment1.shape() != p.shape();
    if (first && opt_.momentum != 0) p.moment1 = Tensor<T>(p.shape());
    ++p.steps;
    T* w = p.value.data();
    const T* g = p.grad.data();
    for (std::ptrdiff_t i = 0; i < p.value.size(); ++i) {
      double d = double(g[i]) + opt_.weight_decay * double(w[i]);
      if (opt_.momentum != 0) {
        T& b = p.moment1[i];
        b = T(first ? d : opt_.momentum * double(b) + d);
        d = double(b);
      }
      w[i] = T(double(w[i]) - opt_.lr * d);
    }
  }
  template <class Params>
    requires(!std::is_same_v<std::remove_cvref_t<Params>, Parameter<T>>)
  void step(Params&& params) {
    for_each_parameter(params, [this](Parameter<T>& p) { step(p); });
  }

 private:
  SgdOptions opt_;
};

}  // namespace smlm::nn
