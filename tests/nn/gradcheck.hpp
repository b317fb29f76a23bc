// The one gradient check every op test uses: analytic gradients from Tape::backward against
// central finite differences, in double precision.
//
// The op under test maps inputs x_1..x_m to an output y of any shape; the check differentiates
// L = Σ_i r_i · y_i with fixed random weights r (so every output element's gradient path is
// exercised, not just their sum). For each input it perturbs every element (or a random subset
// of at most max_per_input) by ±h, h = 1e-6·max(1, |x|), and compares
//     numeric = (L(x + h) − L(x − h)) / 2h   with the analytic ∂L/∂x:
// pass when |a − n| ≤ tol · max(|a|, |n|) (tol = 1e-3 by default) or |a − n| ≤ 1e-8 (both
// essentially zero).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>

namespace smlm::nn::test {

using Vars = std::vector<Var<double>>;
using Op = std::function<Var<double>(Tape<double>&, const Vars&)>;

/// A tensor of N(mean, sd²) values from stream (seed, stream, user).
template <class T = double>
Tensor<T> random_tensor(Shape s, std::uint64_t seed, std::uint32_t stream, double sd = 1.0, double mean = 0.0) {
  Tensor<T> t(s);
  Philox4x32 rng(seed, stream, rng_purpose::user);
  for (auto& v : t) v = static_cast<T>(normal(rng, mean, sd));
  return t;
}

/// A tensor of U[lo, hi) values.
template <class T = double>
Tensor<T> uniform_tensor(Shape s, std::uint64_t seed, std::uint32_t stream, double lo, double hi) {
  Tensor<T> t(s);
  Philox4x32 rng(seed, stream, rng_purpose::user);
  for (auto& v : t) v = static_cast<T>(lo + (hi - lo) * uniform01<double>(rng));
  return t;
}

/// Σ r_i y_i as a tape op (a test-local op: any code may record its own backward step).
inline Var<double> weighted_sum(Tape<double>& tape, const Var<double>& y, const double* r) {
  Var<double> s = tape.make({1, 1, 1, 1}, tape.needs_grad(y));
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
  Mode mode = Mode::training;
  std::vector<bool> wrt;  ///< which inputs to check (default: all)
};

/// Checks op's gradient with respect to every input (see the file comment). Returns the largest
/// relative error seen.
inline double gradcheck(std::vector<Tensor<double>>& inputs, const Op& op, std::uint64_t seed,
                        GradcheckOptions opt = {}) {
  INFO("gradcheck seed " << seed);
  const std::size_t m = inputs.size();
  if (opt.wrt.empty()) opt.wrt.assign(m, true);
  std::vector<Tensor<double>> grads;
  for (auto& t : inputs) grads.emplace_back(t.shape());

  Tape<double> tape;
  tape.set_mode(opt.mode);
  std::vector<double> r;
  auto evaluate = [&](bool with_grad) {
    tape.reset();
    tape.set_recording(with_grad);
    Vars vars;
    for (std::size_t i = 0; i < m; ++i)
      vars.push_back(with_grad && opt.wrt[i] ? tape.input(inputs[i].view(), grads[i].data())
                                              : tape.input(inputs[i].view()));
    const Var<double> y = op(tape, vars);
    if (r.empty()) {
      Philox4x32 rng(seed, 99, rng_purpose::user);
      for (std::ptrdiff_t i = 0; i < y.value.size(); ++i) r.push_back(normal(rng, 0.0, 1.0));
    }
    REQUIRE(static_cast<std::ptrdiff_t>(r.size()) == y.value.size());
    const Var<double> l = weighted_sum(tape, y, r.data());
    if (with_grad) tape.backward(l);
    return l.value[0];
  };
  evaluate(true);

  double worst = 0;
  Philox4x32 pick(seed, 98, rng_purpose::user);
  for (std::size_t i = 0; i < m; ++i) {
    if (!opt.wrt[i]) continue;
    const std::ptrdiff_t n = inputs[i].size();
    std::vector<std::ptrdiff_t> idx;
    if (n <= opt.max_per_input) {
      for (std::ptrdiff_t e = 0; e < n; ++e) idx.push_back(e);
    } else {
      for (std::ptrdiff_t e = 0; e < opt.max_per_input; ++e)
        idx.push_back(static_cast<std::ptrdiff_t>(uniform01<double>(pick) * double(n)));
    }
    for (const std::ptrdiff_t e : idx) {
      const double x0 = inputs[i][e];
      const double h = 1e-6 * std::max(1.0, std::abs(x0));
      inputs[i][e] = x0 + h;
      const double lp = evaluate(false);
      inputs[i][e] = x0 - h;
      const double lm = evaluate(false);
      inputs[i][e] = x0;
      const double numeric = (lp - lm) / (2 * h);
      const double analytic = grads[i][e];
      const double err = std::abs(analytic - numeric);
      const double rel = err / std::max({std::abs(analytic), std::abs(numeric), 1e-300});
      const bool ok = err <= opt.tol * std::max(std::abs(analytic), std::abs(numeric)) || err <= 1e-8;
      if (err > 1e-8) worst = std::max(worst, rel);
      if (!ok) {
        CAPTURE(i);
        CAPTURE(e);
        CAPTURE(analytic);
        CAPTURE(numeric);
        CHECK(ok);
      }
    }
  }
  CHECK(worst <= opt.tol);
  return worst;
}

}  // namespace smlm::nn::test
