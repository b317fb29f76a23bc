// Gradient checks for tape ops and layers: analytic gradients from Tape::backward against central
// finite differences, in double precision. Every op of the library passes them (tests/nn); a
// user's op or nn::Layer is checked the same way:
//
//   std::vector<smlm::nn::Tensor<double>> in{smlm::testing::random_tensor({2, 3, 9, 7}, 42, 0)};
//   auto r = smlm::testing::gradcheck(in, [](smlm::nn::Tape<double>& t, const smlm::testing::Vars& v) {
//     return my_op(t, v[0]); }, 42);
//   MyLayer<double> layer;  // ... initialised
//   r.append(smlm::testing::check_layer_gradients(layer, smlm::testing::random_tensor({2, 3, 9, 7}, 42, 1), 42));
//
// The op under test maps inputs x_1..x_m to an output y of any shape; the check differentiates
// L = Σ_i r_i · y_i with fixed random weights r (so every output element's gradient path is
// exercised, not just their sum). For each input (and, for a layer, each trainable parameter)
// it perturbs every element (or a random subset of at most max_per_input) by ±h,
// h = 1e-6·max(1, |x|), and compares
//     numeric = (L(x + h) − L(x − h)) / 2h   with the analytic ∂L/∂x:
// an element passes when |a − n| ≤ tol · max(|a|, |n|) (tol = 1e-3 by default) or |a − n| ≤ 1e-8
// (both essentially zero). The report holds one check per input or parameter, named
// "gradient <double> [name] input i" or "... parameter k", measuring the worst relative error
// |a − n| / max(|a|, |n|) over its elements with |a − n| > 1e-8 (a NaN gradient fails). The op must
// be deterministic: the same inputs give the same output on every call.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/layer.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>
#include <smlm/testing/report.hpp>

namespace smlm::testing {

using Vars = std::vector<nn::Var<double>>;
using Op = std::function<nn::Var<double>(nn::Tape<double>&, const Vars&)>;

/// A tensor of N(mean, sd²) values from stream (seed, stream, user).
template <class T = double>
nn::Tensor<T> random_tensor(nn::Shape s, std::uint64_t seed, std::uint32_t stream, double sd = 1.0, double mean = 0.0) {
  nn::Tensor<T> t(s);
  Philox4x32 rng(seed, stream, rng_purpose::user);
  for (auto& v : t) v = static_cast<T>(normal(rng, mean, sd));
  return t;
}

/// A tensor of U[lo, hi) values.
template <class T = double>
nn::Tensor<T> uniform_tensor(nn::Shape s, std::uint64_t seed, std::uint32_t stream, double lo, double hi) {
  nn::Tensor<T> t(s);
  Philox4x32 rng(seed, stream, rng_purpose::user);
  for (auto& v : t) v = static_cast<T>(lo + (hi - lo) * uniform01<double>(rng));
  return t;
}

/// Σ r_i y_i as a tape op. Any code may record its own backward step like this one: a forward
/// computation and a closure that adds into its inputs' gradients.
inline nn::Var<double> weighted_sum(nn::Tape<double>& tape, const nn::Var<double>& y, const double* r) {
  nn::Var<double> s = tape.make({1, 1, 1, 1}, tape.needs_grad(y));
  double acc = 0;
  for (std::ptrdiff_t i = 0; i < y.value.size(); ++i) acc += r[i] * y.value[i];
  s.value[0] = acc;
  if (s.requires_grad()) {
    tape.record([=] {
      for (std::ptrdiff_t i = 0; i < y.value.size(); ++i) y.grad[i] += s.grad[0] * r[i];
    });
  }
  return s;
}

struct GradcheckOptions {
  double tol = 1e-3;
  std::ptrdiff_t max_per_input = 48;
  nn::Mode mode = nn::Mode::training;
  std::vector<bool> wrt;   ///< which inputs to check (default: all)
  std::string name = "op";  ///< the case name in the report's check names
};

namespace detail {

/// One tensor whose elements are perturbed, and where backward() leaves ∂L/∂x for it.
struct Perturbed {
  std::string what;
  nn::Tensor<double>* value;
  const double* analytic;
};

/// L = Σ r_i y_i with r drawn from (seed, 99) on the first call (and kept in `weights`); runs
/// backward when with_grad. NaN when y's size changed between calls.
inline double weighted_loss(nn::Tape<double>& tape, const nn::Var<double>& y, std::vector<double>& weights,
                            std::uint64_t seed, bool with_grad) {
  if (weights.empty()) {
    Philox4x32 rng(seed, 99, rng_purpose::user);
    for (std::ptrdiff_t i = 0; i < y.value.size(); ++i) weights.push_back(normal(rng, 0.0, 1.0));
  }
  if (static_cast<std::ptrdiff_t>(weights.size()) != y.value.size()) return std::nan("");
  const nn::Var<double> l = weighted_sum(tape, y, weights.data());
  if (with_grad) tape.backward(l);
  return l.value[0];
}

/// `loss(with_grad)` evaluates L (and, with_grad, runs backward); compares each tensor's
/// analytic gradient, as left by loss(true), with central differences of loss(false).
template <class Loss>
void compare_with_finite_differences(const std::vector<Perturbed>& tensors, Loss&& loss, std::uint64_t seed,
                                     const GradcheckOptions& opt, Report& r) {
  loss(true);
  std::vector<std::vector<double>> analytic;
  for (const Perturbed& p : tensors) analytic.emplace_back(p.analytic, p.analytic + p.value->size());
  Philox4x32 pick(seed, 98, rng_purpose::user);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    nn::Tensor<double>& x = *tensors[i].value;
    const std::ptrdiff_t n = x.size();
    std::vector<std::ptrdiff_t> idx;
    if (n <= opt.max_per_input) {
      for (std::ptrdiff_t e = 0; e < n; ++e) idx.push_back(e);
    } else {
      for (std::ptrdiff_t e = 0; e < opt.max_per_input; ++e)
        idx.push_back(static_cast<std::ptrdiff_t>(uniform01<double>(pick) * double(n)));
    }
    double worst = 0;
    char where[160] = "";
    for (const std::ptrdiff_t e : idx) {
      const double x0 = x[e];
      const double h = 1e-6 * std::max(1.0, std::abs(x0));
      x[e] = x0 + h;
      const double lp = loss(false);
      x[e] = x0 - h;
      const double lm = loss(false);
      x[e] = x0;
      const double numeric = (lp - lm) / (2 * h);
      const double a = analytic[i][static_cast<std::size_t>(e)];
      const double err = std::abs(a - numeric);
      if (err <= 1e-8) continue;
      const double rel = err / std::max({std::abs(a), std::abs(numeric), 1e-300});
      if (!(rel <= worst)) {  // a NaN error becomes the worst and stays
        worst = rel;
        std::snprintf(where, sizeof where, " (worst: element %td, analytic %.9g, numeric %.9g)", e, a, numeric);
      }
    }
    r.expect_le(check_name<double>("gradient", opt.name, tensors[i].what) + ": max relative error" + where, worst,
                opt.tol);
  }
}

}  // namespace detail

/// Checks op's gradient with respect to every input in opt.wrt (see the file comment).
inline Report gradcheck(std::vector<nn::Tensor<double>>& inputs, const Op& op, std::uint64_t seed,
                        GradcheckOptions opt = {}) {
  const std::size_t m = inputs.size();
  if (opt.wrt.empty()) opt.wrt.assign(m, true);
  std::vector<nn::Tensor<double>> grads;
  for (auto& t : inputs) grads.emplace_back(t.shape());

  nn::Tape<double> tape;
  tape.set_mode(opt.mode);
  std::vector<double> weights;
  Report r;
  const auto loss = [&](bool with_grad) {
    tape.reset();
    tape.set_recording(with_grad);
    Vars vars;
    for (std::size_t i = 0; i < m; ++i)
      vars.push_back(with_grad && opt.wrt[i] ? tape.input(inputs[i].view(), grads[i].data())
                                              : tape.input(inputs[i].view()));
    return detail::weighted_loss(tape, op(tape, vars), weights, seed, with_grad);
  };
  std::vector<detail::Perturbed> tensors;
  for (std::size_t i = 0; i < m; ++i)
    if (opt.wrt[i]) tensors.push_back({"input " + std::to_string(i), &inputs[i], grads[i].data()});
  detail::compare_with_finite_differences(tensors, loss, seed, opt, r);
  return r;
}

/// Checks a layer's gradients with respect to its input and to each trainable parameter
/// (for_each_parameter order), at `input`. The layer's parameters are restored afterwards; its
/// parameter gradients are left zeroed.
template <nn::Layer L>
  requires std::is_same_v<typename L::scalar, double>
Report check_layer_gradients(L& layer, nn::Tensor<double> input, std::uint64_t seed, GradcheckOptions opt = {}) {
  if (opt.name == "op") opt.name = "layer";
  nn::Tensor<double> input_grad(input.shape());
  std::vector<detail::Perturbed> tensors{{"input", &input, input_grad.data()}};
  int k = 0;
  layer.for_each_parameter([&](nn::Parameter<double>& p) {
    if (p.trainable) tensors.push_back({"parameter " + std::to_string(k), &p.value, p.grad.data()});
    ++k;
  });
  nn::Tape<double> tape;
  tape.set_mode(opt.mode);
  std::vector<double> weights;
  const auto loss = [&](bool with_grad) {
    tape.reset();
    tape.set_recording(with_grad);
    fill(input_grad.view(), 0.0);
    layer.for_each_parameter([](nn::Parameter<double>& p) { p.zero_grad(); });
    const nn::Var<double> x = with_grad ? tape.input(input.view(), input_grad.data()) : tape.input(input.view());
    return detail::weighted_loss(tape, layer.forward(tape, x), weights, seed, with_grad);
  };
  Report r;
  detail::compare_with_finite_differences(tensors, loss, seed, opt, r);
  layer.for_each_parameter([](nn::Parameter<double>& p) { p.zero_grad(); });
  return r;
}

}  // namespace smlm::testing
