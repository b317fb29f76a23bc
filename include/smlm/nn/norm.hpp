// Normalisation: batch norm (Ioffe & Szegedy 2015) and instance norm (Ulyanov et al. 2016).
//
// batch_norm in training mode normalises each channel by the biased mean and variance over
// (N, H, W), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β, and updates the running statistics as PyTorch
// does: running ← (1 − momentum)·running + momentum·batch, with the unbiased variance
// (M/(M − 1)·σ², M = N·H·W) going into running_var. In inference mode it uses the running
// statistics. instance_norm normalises each (sample, channel) plane by its own biased mean and
// variance and optionally applies a per-channel γ, β; it has no running statistics.
// Sums are accumulated in double whatever T is.
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

/// Running statistics of one batch-norm layer (not trained by the optimizer).
template <class T = float>
struct BatchNormStats {
  T* mean = nullptr;  ///< C values
  T* var = nullptr;   ///< C values
  double momentum = 0.1;
  double eps = 1e-5;
};

/// Inference kernel: y = γ·(x − mean)/√(var + ε) + β per channel (γ, β may be null: 1, 0).
template <class T>
void batch_norm_inference_forward(Shape s, const T* x, const T* gamma, const T* beta, const T* mean,
                                  const T* var, double eps, T* y) noexcept {
  const std::ptrdiff_t plane = s.h * s.w;
  for (std::ptrdiff_t c = 0; c < s.c; ++c) {
    const T inv = T(1 / std::sqrt(double(var[c]) + eps));
    const T a = (gamma ? gamma[c] : T(1)) * inv;
    const T b = (beta ? beta[c] : T(0)) - a * mean[c];
    for (std::ptrdiff_t n = 0; n < s.n; ++n) {
      const T* src = x + (n * s.c + c) * plane;
      T* dst = y + (n * s.c + c) * plane;
      for (std::ptrdiff_t i = 0; i < plane; ++i) dst[i] = a * src[i] + b;
    }
  }
}

namespace detail {

/// Shared backward of the normalisations for one group of `count` elements reached through
/// `at(i)` offsets: given x̂ and dy, adds dγ, dβ and (training statistics) dx.
template <class T, class At>
void norm_group_backward(std::ptrdiff_t count, At at, const T* x, const T* dy, double mean, double inv_std,
                         double gamma, bool batch_stats, T* dx, double& dgamma, double& dbeta) noexcept {
  double sum_dy = 0, sum_dy_xhat = 0;
  for (std::ptrdiff_t i = 0; i < count; ++i) {
    const std::ptrdiff_t o = at(i);
    const double xhat = (double(x[o]) - mean) * inv_std;
    sum_dy += dy[o];
    sum_dy_xhat += double(dy[o]) * xhat;
  }
  dgamma += sum_dy_xhat;
  dbeta += sum_dy;
  if (!dx) return;
  const double m = double(count);
  for (std::ptrdiff_t i = 0; i < count; ++i) {
    const std::ptrdiff_t o = at(i);
    if (batch_stats) {
      const double xhat = (double(x[o]) - mean) * inv_std;
      dx[o] += T(gamma * inv_std * (double(dy[o]) - sum_dy / m - xhat * sum_dy_xhat / m));
    } else {
      dx[o] += T(gamma * inv_std * double(dy[o]));
    }
  }
}

}  // namespace detail

/// Batch norm over channels; gamma and beta are [1, C, 1, 1] (either may be an empty Var: 1, 0).
template <class T>
Var<T> batch_norm(Tape<T>& tape, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta,
                  BatchNormStats<T> stats) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  const bool has_g = !gamma.value.empty(), has_b = !beta.value.empty();
  SMLM_ASSERT(!has_g || gamma.value.size() == s.c, "batch_norm: gamma needs one value per channel");
  SMLM_ASSERT(!has_b || beta.value.size() == s.c, "batch_norm: beta needs one value per channel");
  SMLM_ASSERT(stats.mean && stats.var, "batch_norm: running statistics are required");
  const bool train = tape.training();
  SMLM_ASSERT(!train || s.n * s.h * s.w > 1, "batch_norm in training needs more than one value per channel");
  const bool grad = tape.needs_grad(x, gamma, beta);
  Var<T> y = tape.make(s, grad);
  const std::ptrdiff_t plane = s.h * s.w, m = s.n * plane;
  double* mean = tape.template scratch_as<double>(static_cast<std::size_t>(s.c));
  double* inv_std = tape.template scratch_as<double>(static_cast<std::size_t>(s.c));
  const T* xd = x.data();
  T* yd = y.value.data();
  const T* gd = has_g ? gamma.data() : nullptr;
  const T* bd = has_b ? beta.data() : nullptr;
  tape.parallel(s.c, [&](std::ptrdiff_t c, int) {
    double mu, var;
    if (train) {
      double sum = 0, sq = 0;
      for (std::ptrdiff_t n = 0; n < s.n; ++n) {
        const T* p = xd + (n * s.c + c) * plane;
        for (std::ptrdiff_t i = 0; i < plane; ++i) sum += p[i];
      }
      mu = sum / double(m);
      for (std::ptrdiff_t n = 0; n < s.n; ++n) {
        const T* p = xd + (n * s.c + c) * plane;
        for (std::ptrdiff_t i = 0; i < plane; ++i) sq += (p[i] - mu) * (p[i] - mu);
      }
      var = sq / double(m);
      stats.mean[c] = T((1 - stats.momentum) * stats.mean[c] + stats.momentum * mu);
      stats.var[c] = T((1 - stats.momentum) * stats.var[c] + stats.momentum * var * double(m) / double(m - 1));
    } else {
      mu = stats.mean[c];
      var = stats.var[c];
    }
    mean[c] = mu;
    inv_std[c] = 1 / std::sqrt(var + stats.eps);
    const double a = (gd ? double(gd[c]) : 1.0) * inv_std[c];
    const double b = (bd ? double(bd[c]) : 0.0) - a * mu;
    for (std::ptrdiff_t n = 0; n < s.n; ++n) {
      const T* p = xd + (n * s.c + c) * plane;
      T* q = yd + (n * s.c + c) * plane;
      for (std::ptrdiff_t i = 0; i < plane; ++i) q[i] = T(a * p[i] + b);
    }
  });
  if (grad) {
    Tape<T>* tp = &tape;
    tape.record([=] {
      tp->parallel(s.c, [&](std::ptrdiff_t c, int) {
        double dg = 0, db = 0;
        auto at = [&](std::ptrdiff_t i) { return ((i / plane) * s.c + c) * plane + i % plane; };
        detail::norm_group_backward(m, at, xd, static_cast<const T*>(y.grad), mean[c], inv_std[c],
                                    gd ? double(gd[c]) : 1.0, train, x.grad, dg, db);
        if (has_g && gamma.grad) gamma.grad[c] += T(dg);
        if (has_b && beta.grad) beta.grad[c] += T(db);
      });
    });
  }
  return y;
}

/// Instance norm; gamma and beta ([1, C, 1, 1]) may be empty Vars (no affine part).
template <class T>
Var<T> instance_norm(Tape<T>& tape, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta,
                     double eps = 1e-5) SMLM_NOEXCEPT {
  const Shape s = x.shape();
  const bool has_g = !gamma.value.empty(), has_b = !beta.value.empty();
  SMLM_ASSERT(!has_g || gamma.value.size() == s.c, "instance_norm: gamma needs one value per channel");
  SMLM_ASSERT(!has_b || beta.value.size() == s.c, "instance_norm: beta needs one value per channel");
  SMLM_ASSERT(s.h * s.w > 1, "instance_norm needs planes of more than one pixel");
  const bool grad = tape.needs_grad(x, gamma, beta);
  Var<T> y = tape.make(s, grad);
  const std::ptrdiff_t plane = s.h * s.w, groups = s.n * s.c;
  double* mean = tape.template scratch_as<double>(static_cast<std::size_t>(groups));
  double* inv_std = tape.template scratch_as<double>(static_cast<std::size_t>(groups));
  const T* xd = x.data();
  const T* gd = has_g ? gamma.data() : nullptr;
  const T* bd = has_b ? beta.data() : nullptr;
  for (std::ptrdiff_t gi = 0; gi < groups; ++gi) {
    const T* p = xd + gi * plane;
    double sum = 0, sq = 0;
    for (std::ptrdiff_t i = 0; i < plane; ++i) sum += p[i];
    const double mu = sum / double(plane);
    for (std::ptrdiff_t i = 0; i < plane; ++i) sq += (p[i] - mu) * (p[i] - mu);
    mean[gi] = mu;
    inv_std[gi] = 1 / std::sqrt(sq / double(plane) + eps);
    const std::ptrdiff_t c = gi % s.c;
    const double a = (gd ? double(gd[c]) : 1.0) * inv_std[gi];
    const double b = (bd ? double(bd[c]) : 0.0) - a * mu;
    for (std::ptrdiff_t i = 0; i < plane; ++i) y.value[gi * plane + i] = T(a * p[i] + b);
  }
  if (grad) {
    tape.record([=] {
      for (std::ptrdiff_t gi = 0; gi < groups; ++gi) {
        const std::ptrdiff_t c = gi % s.c;
        double dg = 0, db = 0;
        auto at = [&](std::ptrdiff_t i) { return gi * plane + i; };
        detail::norm_group_backward(plane, at, xd, static_cast<const T*>(y.grad), mean[gi], inv_std[gi],
                                    gd ? double(gd[c]) : 1.0, true, x.grad, dg, db);
        if (has_g && gamma.grad) gamma.grad[c] += T(dg);
        if (has_b && beta.grad) beta.grad[c] += T(db);
      }
    });
  }
  return y;
}

}  // namespace smlm::nn
