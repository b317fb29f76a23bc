// cellSTORM's conditional-GAN training (Diederich et al., PLoS ONE 14 (2019) e0209827, after
// pix2pix, Isola et al. CVPR 2017) as a loss the ordinary trainer (trainer.hpp) calls: the
// generator is the network being trained, the discriminator (a PatchGan) lives in the loss and
// takes its own Adam step inside it.
//
// Per training step s (counted from the run's first step, so a resumed run continues the schedule):
//   generator loss = content(output, target)
//                  + λ_cGAN · BCE(D(condition ⊕ J(output)), 1)         on adversarial steps only
// where the condition is the generator's input enlarged to the output grid (nearest ×r), ⊕
// concatenates channels and the content loss and the discriminator's view J are one of
//   content l1 (cellSTORM):            cell_storm_loss (λ_L1·L1 to G∗target + λ_sparse·sparsity),
//                                      J(map) = map, the real maps G∗target (G of peak 1);
//   content blurred_mse (Deep-STORM):  deep_storm_loss (mse(G∗output, G∗target) + λ·mean|output|,
//                                      G of sum 2), J(map) = judge_scale · G∗map, the real maps
//                                      J(target): the discriminator compares maps as the content
//                                      loss does, blurred, scaled so that a molecule peaks near 1.
// L1 to a sparse target learns the conditional median, which is 0 almost everywhere: with
// cellSTORM's weights a generator of ours did not leave zero in 30 minutes of training
// (docs/cellstorm.md); the blurred MSE learns the mean, and the adversarial term comes on top.
// Adversarial steps are s ≥ warmup_steps with (s − warmup_steps) a multiple of `every`; on each, before the generator's term is formed, the discriminator takes one
// Adam step on
//   ½ · [BCE(D(condition ⊕ G∗target), 1) + BCE(D(condition ⊕ output), 0)]
// with the output as a constant (no gradient reaches the generator through this part) and G∗target
// the target blurred as the generator's L1 term sees it. The discriminator's weights receive no
// gradient from the generator's term (they are frozen while it is recorded). On the validation set
// (tape not recording) the loss is the non-adversarial part alone: the trainer keeps the weights
// with the best L1 + sparsity.
//
// Defaults: cellSTORM's weights 3 / 100 / 100, the discriminator's Adam at pix2pix's 2e-4 and
// β₁ = 0.5; the warm-up and the period are the caller's (0 and 1: pix2pix's every step).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <smlm/core/status.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/loss.hpp>
#include <smlm/nn/optimizer.hpp>
#include <smlm/nn/resample.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

/// The generator's content loss (see the header).
enum class CganContent : std::uint8_t { l1 = 0, blurred_mse = 1 };

struct CganOptions {
  double adversarial_weight = 3;       ///< λ_cGAN; 0: the loss is the content loss alone
  CganContent content = CganContent::l1;
  CellStormLossOptions generator;      ///< content l1: λ_L1, λ_sparse and the target blur
  DeepStormLossOptions blurred_mse;    ///< content blurred_mse: the blur and the sparsity weight
  double judge_scale = 1;              ///< content blurred_mse: J's factor (> 0; see the header)
  std::int64_t warmup_steps = 0;       ///< steps without the adversarial term first
  std::int64_t every = 1;              ///< then an adversarial step every this many steps
  AdamOptions discriminator_adam{.lr = 2e-4, .beta1 = 0.5};

  /// The defaults without the adversarial term.
  static CganOptions off() noexcept {
    CganOptions o;
    o.adversarial_weight = 0;
    return o;
  }
  Status validate() const {
    if (!(adversarial_weight >= 0) || !std::isfinite(adversarial_weight) || !(generator.l1_weight >= 0) ||
        !std::isfinite(generator.l1_weight) || !(generator.sparsity_weight >= 0) || !std::isfinite(generator.sparsity_weight))
      return make_error(errc::invalid_argument, "nn::CganOptions: the weights (adversarial ", adversarial_weight, ", L1 ",
                        generator.l1_weight, ", sparsity ", generator.sparsity_weight, ") must be finite and >= 0");
    if (warmup_steps < 0 || every < 1)
      return make_error(errc::invalid_argument, "nn::CganOptions: warmup_steps = ", warmup_steps, " must be >= 0 and every = ",
                        every, " >= 1");
    if (content != CganContent::l1 && content != CganContent::blurred_mse)
      return make_error(errc::invalid_argument, "nn::CganOptions: content = ", int(content), " is not a content loss");
    if (!(judge_scale > 0) || !std::isfinite(judge_scale))
      return make_error(errc::invalid_argument, "nn::CganOptions: judge_scale = ", judge_scale, " must be finite and > 0");
    if (!(discriminator_adam.lr > 0) || !std::isfinite(discriminator_adam.lr))
      return make_error(errc::invalid_argument, "nn::CganOptions: the discriminator's lr = ", discriminator_adam.lr,
                        " must be finite and > 0");
    return {};
  }
};

/// The loss of a conditional GAN's generator (see the header); D is the discriminator (a
/// PatchGan over 2 channels). Not thread-safe: one trainer calls it.
template <class D>
class CganLoss {
 public:
  /// `kernel`: the content loss's blur, cell_storm_kernel(options.generator) for l1 or
  /// deep_storm_kernel(options.blurred_mse) for blurred_mse, kept alive by the caller.
  /// `first_step`: the step the trainer starts from (TrainState::step).
  CganLoss(D& discriminator, const CganOptions& options, const float* kernel, std::int64_t first_step,
           WorkerPool* pool = nullptr)
      : d_(discriminator), opt_(options), kernel_(kernel), step_(first_step), tape_(pool), adam_(options.discriminator_adam) {
    d_.for_each_parameter([&](Parameter<float>& p) { params_.push_back(&p); });
  }

  Var<float> operator()(Tape<float>& tape, const Var<float>& y, const Var<float>& t, const Var<float>& x) {
    const Var<float> base = content(tape, y, t);
    if (!tape.recording() || !tape.training()) return base;  // validation
    const std::int64_t s = step_++;
    if (!(opt_.adversarial_weight > 0) || s < opt_.warmup_steps || (s - opt_.warmup_steps) % opt_.every != 0) return base;
    SMLM_ASSERT(x.shape().h > 0 && y.shape().h % x.shape().h == 0 && y.shape().w % x.shape().w == 0 &&
                    y.shape().h / x.shape().h == y.shape().w / x.shape().w,
                "CganLoss: the output must be the input enlarged by one integer factor");
    const std::ptrdiff_t r = y.shape().h / x.shape().h;
    ++adversarial_steps_;

    // The discriminator's step: real pairs → 1, the generator's (constant) output → 0.
    tape_.reset();
    tape_.set_mode(Mode::training);
    tape_.set_recording(true);
    for (auto* p : params_) p->zero_grad();
    const Var<float> cond = upsample_nearest(tape_, tape_.input(x.value), r);
    const Var<float> real = d_.forward(tape_, concat(tape_, cond, judged_real(tape_, t)));
    const Var<float> fake = d_.forward(tape_, concat(tape_, cond, judged_fake(tape_, tape_.input(y.value))));
    const Var<float> d_loss = scale(tape_, add(tape_, bce_with_logits(tape_, real, constant(tape_, real.shape(), 1)),
                                               bce_with_logits(tape_, fake, constant(tape_, fake.shape(), 0))),
                                    0.5f);
    last_discriminator_loss_ = d_loss.value[0];
    tape_.backward(d_loss);
    adam_.step(params_);

    // The generator's term, with the discriminator frozen (its weights get no gradient).
    for (auto* p : params_) p->trainable = false;
    const Var<float> judged = d_.forward(tape, concat(tape, upsample_nearest(tape, x, r), judged_fake(tape, y)));
    for (auto* p : params_) p->trainable = true;
    const Var<float> fooled = bce_with_logits(tape, judged, constant(tape, judged.shape(), 1));
    last_adversarial_loss_ = fooled.value[0];
    return add(tape, base, scale(tape, fooled, static_cast<float>(opt_.adversarial_weight)));
  }

  /// The discriminator's loss at its last step, and the generator's adversarial BCE then (NaN
  /// before the first adversarial step).
  double last_discriminator_loss() const noexcept { return last_discriminator_loss_; }
  double last_adversarial_loss() const noexcept { return last_adversarial_loss_; }
  std::int64_t adversarial_steps() const noexcept { return adversarial_steps_; }

 private:
  std::ptrdiff_t kernel_size() const noexcept {
    return opt_.content == CganContent::l1 ? opt_.generator.kernel_size : opt_.blurred_mse.kernel_size;
  }
  Var<float> blur(Tape<float>& tape, const Var<float>& m) const {
    const std::ptrdiff_t k = kernel_size();
    return fixed_conv2d(tape, m, TensorView<const float>(kernel_, {1, 1, k, k}));
  }
  Var<float> content(Tape<float>& tape, const Var<float>& y, const Var<float>& t) const {
    if (opt_.content == CganContent::l1) return cell_storm_loss(tape, y, t, opt_.generator, kernel_);
    return deep_storm_loss(tape, y, blur(tape, tape.input(t.value)), opt_.blurred_mse, kernel_);
  }
  /// J(target) and J(output) of the header.
  Var<float> judged_real(Tape<float>& tape, const Var<float>& t) const {
    const Var<float> b = blur(tape, tape.input(t.value));
    return opt_.content == CganContent::l1 ? b : scale(tape, b, static_cast<float>(opt_.judge_scale));
  }
  Var<float> judged_fake(Tape<float>& tape, const Var<float>& y) const {
    return opt_.content == CganContent::l1 ? y : scale(tape, blur(tape, y), static_cast<float>(opt_.judge_scale));
  }

  static Var<float> constant(Tape<float>& tape, Shape shape, float value) {
    Var<float> c = tape.make(shape, false);
    std::fill(c.value.begin(), c.value.end(), value);
    return c;
  }

  D& d_;
  CganOptions opt_;
  const float* kernel_;
  std::int64_t step_;
  Tape<float> tape_;
  Adam<float> adam_;
  std::vector<Parameter<float>*> params_;
  double last_discriminator_loss_ = std::nan("");
  double last_adversarial_loss_ = std::nan("");
  std::int64_t adversarial_steps_ = 0;
};

}  // namespace smlm::nn
