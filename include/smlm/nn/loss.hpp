// Losses; each returns a one-element Var (shape {1, 1, 1, 1}), the mean over all elements.
//
//   mse(p, t)              mean (p − t)²
//   l1(p, t)               mean |p − t|   (subgradient 0 at p = t)
//   mean_abs(p)            mean |p|       (the sparsity term)
//   bce_with_logits(z, t)  mean [max(z, 0) − z·t + log(1 + e^−|z|)], the stable form of
//                          −t·log σ(z) − (1 − t)·log(1 − σ(z))
//   deep_storm_loss        Nehme et al., "Deep-STORM: super-resolution single-molecule
//                          microscopy by deep learning", Optica 5 (2018): mse(G ∗ p, t) +
//                          l1_weight · mean |p|, G a k×k Gaussian of σ px normalised to sum
//                          `kernel_sum` (7, 1, 2 by default, as in the issue) applied per channel;
//                          l1_weight defaults to 1, our choice (set it from the training recipe).
// Targets never receive gradients.
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

namespace detail {
/// A one-element loss from per-element terms f(p_i, t_i) with derivative df(p_i, t_i) in p.
template <class T, class F, class DF>
Var<T> mean_of(Tape<T>& tape, const Var<T>& p, const T* t, F f, DF df) noexcept {
  const bool grad = tape.needs_grad(p);
  Var<T> loss = tape.make({1, 1, 1, 1}, grad);
  const std::ptrdiff_t n = p.value.size();
  double s = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) s += f(p.value[i], t ? t[i] : T(0));
  loss.value[0] = T(s / double(n));
  if (grad) {
    tape.record([=] {
      const T g = loss.grad[0] / T(n);
      for (std::ptrdiff_t i = 0; i < n; ++i) p.grad[i] += g * df(p.value[i], t ? t[i] : T(0));
    });
  }
  return loss;
}
}  // namespace detail

template <class T>
Var<T> mse(Tape<T>& tape, const Var<T>& pred, const Var<T>& target) SMLM_NOEXCEPT {
  SMLM_ASSERT(pred.shape() == target.shape(), "mse: shapes differ");
  return detail::mean_of(
      tape, pred, target.data(), [](T p, T t) { return double(p - t) * double(p - t); },
      [](T p, T t) { return T(2) * (p - t); });
}

template <class T>
Var<T> l1(Tape<T>& tape, const Var<T>& pred, const Var<T>& target) SMLM_NOEXCEPT {
  SMLM_ASSERT(pred.shape() == target.shape(), "l1: shapes differ");
  return detail::mean_of(
      tape, pred, target.data(), [](T p, T t) { return std::abs(double(p - t)); },
      [](T p, T t) { return p > t ? T(1) : (p < t ? T(-1) : T(0)); });
}

template <class T>
Var<T> mean_abs(Tape<T>& tape, const Var<T>& pred) noexcept {
  return detail::mean_of(
      tape, pred, static_cast<const T*>(nullptr), [](T p, T) { return std::abs(double(p)); },
      [](T p, T) { return p > 0 ? T(1) : (p < 0 ? T(-1) : T(0)); });
}

template <class T>
Var<T> bce_with_logits(Tape<T>& tape, const Var<T>& logits, const Var<T>& target) SMLM_NOEXCEPT {
  SMLM_ASSERT(logits.shape() == target.shape(), "bce_with_logits: shapes differ");
  return detail::mean_of(
      tape, logits, target.data(),
      [](T z, T t) {
        const double zd = z;
        return (zd > 0 ? zd : 0.0) - zd * double(t) + std::log1p(std::exp(-std::abs(zd)));
      },
      [](T z, T t) { return T(1) / (T(1) + std::exp(-z)) - t; });
}

struct DeepStormLossOptions {
  std::ptrdiff_t kernel_size = 7;
  double sigma_px = 1.0;
  double kernel_sum = 2.0;
  double l1_weight = 1.0;
};

/// The k×k blur kernel of a Deep-STORM loss, to be kept alive by the caller while the loss is
/// on the tape: fills `kernel` (kernel_size² values).
template <class T>
void deep_storm_kernel(T* kernel, const DeepStormLossOptions& opt) SMLM_NOEXCEPT {
  gaussian_kernel(kernel, opt.kernel_size, opt.sigma_px, opt.kernel_sum);
}

/// mse(G ∗ pred, target) + l1_weight · mean |pred|; `kernel` from deep_storm_kernel (in the arena
/// when null).
template <class T>
Var<T> deep_storm_loss(Tape<T>& tape, const Var<T>& pred, const Var<T>& target, DeepStormLossOptions opt = {},
                       const T* kernel = nullptr) SMLM_NOEXCEPT {
  const std::ptrdiff_t k = opt.kernel_size;
  if (kernel == nullptr) {
    T* kd = tape.scratch(static_cast<std::size_t>(k * k));
    deep_storm_kernel(kd, opt);
    kernel = kd;
  }
  const Var<T> blurred = fixed_conv2d(tape, pred, TensorView<const T>(kernel, {1, 1, k, k}));
  const Var<T> fit = mse(tape, blurred, target);
  if (opt.l1_weight == 0) return fit;
  return add(tape, fit, scale(tape, mean_abs(tape, pred), T(opt.l1_weight)));
}

/// The non-adversarial part of cellSTORM's generator loss (Diederich et al. 2019, after pix2pix):
/// λ_L1 · mean |pred − G ∗ target| + λ_sparse · mean |pred|, the target (spikes of height 1)
/// blurred by a Gaussian G of peak 1, so that an isolated molecule is a blob of height 1 — the
/// range of the generator's tanh output. Defaults: cellSTORM's 100 and 100. With equal weights the
/// two terms cancel for an output between 0 and the blurred target (the loss is flat there, its
/// gradient zero): alone, this loss does not pull an output up to the target; the adversarial
/// term (or a smaller sparsity weight) decides.
struct CellStormLossOptions {
  std::ptrdiff_t kernel_size = 7;
  double sigma_px = 1.0;          ///< target blur, output pixels
  double l1_weight = 100;         ///< λ_L1
  double sparsity_weight = 100;   ///< λ_sparse
};

/// The k×k target blur of a cellSTORM loss (peak 1), kept alive by the caller while the loss is
/// on the tape: fills `kernel` (kernel_size² values).
template <class T>
void cell_storm_kernel(T* kernel, const CellStormLossOptions& opt) SMLM_NOEXCEPT {
  SMLM_ASSERT(opt.kernel_size >= 1 && opt.kernel_size % 2 == 1 && opt.sigma_px > 0,
              "cell_storm_kernel: needs odd kernel_size and sigma_px > 0");
  const std::ptrdiff_t r = opt.kernel_size / 2;
  double sum = 0;  // the unnormalized samples' sum: the total whose kernel has peak 1
  for (std::ptrdiff_t u = -r; u <= r; ++u)
    for (std::ptrdiff_t v = -r; v <= r; ++v) sum += std::exp(-double(u * u + v * v) / (2 * opt.sigma_px * opt.sigma_px));
  gaussian_kernel(kernel, opt.kernel_size, opt.sigma_px, sum);
}

/// See CellStormLossOptions; `kernel` from cell_storm_kernel (in the arena when null). No gradient
/// flows into the target.
template <class T>
Var<T> cell_storm_loss(Tape<T>& tape, const Var<T>& pred, const Var<T>& target, CellStormLossOptions opt = {},
                       const T* kernel = nullptr) SMLM_NOEXCEPT {
  SMLM_ASSERT(pred.shape() == target.shape(), "cell_storm_loss: shapes differ");
  const std::ptrdiff_t k = opt.kernel_size;
  if (kernel == nullptr) {
    T* kd = tape.scratch(static_cast<std::size_t>(k * k));
    cell_storm_kernel(kd, opt);
    kernel = kd;
  }
  const Var<T> constant{target.value, nullptr};
  const Var<T> blurred = fixed_conv2d(tape, constant, TensorView<const T>(kernel, {1, 1, k, k}));
  const Var<T> fit = scale(tape, l1(tape, pred, blurred), T(opt.l1_weight));
  if (opt.sparsity_weight == 0) return fit;
  return add(tape, fit, scale(tape, mean_abs(tape, pred), T(opt.sparsity_weight)));
}

}  // namespace smlm::nn
