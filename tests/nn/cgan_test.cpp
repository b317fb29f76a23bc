// cgan.hpp: cellSTORM's conditional-GAN loss — the schedule of adversarial steps (and its
// continuation after a resume), the validation loss without the adversarial term, the
// discriminator's own Adam step and its frozen weights in the generator's term, and a
// discriminator that learns to tell blurred targets from a wrong output.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/nn/cgan.hpp>
#include <smlm/nn/patchgan.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;

namespace {

std::vector<float> flat(PatchGan<float>& d, bool grads) {
  std::vector<float> v;
  d.for_each_parameter([&](Parameter<float>& p) {
    const Tensor<float>& t = grads ? p.grad : p.value;
    v.insert(v.end(), t.begin(), t.end());
  });
  return v;
}

/// A camera batch of 8 × 8 frames, its ×4 output and a spike target (2 molecules per sample).
struct Batch {
  Tensor<float> x = random_tensor<float>({2, 1, 8, 8}, 31, 1);
  Tensor<float> y = random_tensor<float>({2, 1, 32, 32}, 31, 2, 0.1);
  Tensor<float> t{Shape{2, 1, 32, 32}};
  Batch() {
    t(0, 0, 10, 12) = 1, t(0, 0, 20, 5) = 1, t(1, 0, 16, 16) = 1, t(1, 0, 3, 27) = 1;
  }
};

}  // namespace

TEST_CASE("CganLoss: warm-up, period and a resumed schedule; validation is the L1 + sparsity loss alone") {
  PatchGan<float> d(2, 4);
  d.init(7);
  CganOptions opt;
  opt.warmup_steps = 2;
  opt.every = 3;
  std::vector<float> kernel(49);
  cell_storm_kernel(kernel.data(), opt.generator);
  Batch b;
  const auto run = [&](std::int64_t first, int calls) {
    CganLoss<PatchGan<float>> loss(d, opt, kernel.data(), first);
    std::vector<std::int64_t> adversarial;
    for (int i = 0; i < calls; ++i) {
      Tape<float> tape;
      const auto before = loss.adversarial_steps();
      loss(tape, tape.input(b.y.view()), tape.input(b.t.view()), tape.input(b.x.view()));
      if (loss.adversarial_steps() > before) adversarial.push_back(first + i);
    }
    return adversarial;
  };
  CHECK(run(0, 9) == std::vector<std::int64_t>{2, 5, 8});
  CHECK(run(4, 8) == std::vector<std::int64_t>{5, 8, 11});  // a run resumed at step 4

  // Not recording (validation): cell_storm_loss exactly, the discriminator untouched.
  CganLoss<PatchGan<float>> loss(d, opt, kernel.data(), 2);
  const std::vector<float> w = flat(d, false);
  Tape<float> tape;
  tape.set_mode(Mode::inference);
  tape.set_recording(false);
  const float v = loss(tape, tape.input(b.y.view()), tape.input(b.t.view()), tape.input(b.x.view())).value[0];
  Tape<float> plain;
  CHECK(v == cell_storm_loss(plain, plain.input(b.y.view()), plain.input(b.t.view()), opt.generator, kernel.data()).value[0]);
  CHECK(flat(d, false) == w);
  CHECK(loss.adversarial_steps() == 0);
}

TEST_CASE("CganLoss: an adversarial step moves the discriminator once and adds λ · BCE(D(x ⊕ y), 1) to the loss") {
  PatchGan<float> d(2, 4);
  d.init(8);
  CganOptions opt;
  opt.adversarial_weight = 3;
  std::vector<float> kernel(49);
  cell_storm_kernel(kernel.data(), opt.generator);
  Batch b;
  CganLoss<PatchGan<float>> loss(d, opt, kernel.data(), 0);
  const std::vector<float> w0 = flat(d, false);
  Tape<float> tape;
  Tensor<float> gy(b.y.shape());
  const Var<float> y = tape.input(b.y.view(), gy.data());
  const Var<float> total = loss(tape, y, tape.input(b.t.view()), tape.input(b.x.view()));
  CHECK(loss.adversarial_steps() == 1);
  CHECK(flat(d, false) != w0);  // the discriminator's Adam step
  CHECK(std::isfinite(loss.last_discriminator_loss()));
  Tape<float> plain;
  const float base = cell_storm_loss(plain, plain.input(b.y.view()), plain.input(b.t.view()), opt.generator, kernel.data()).value[0];
  CHECK(total.value[0] == doctest::Approx(base + 3 * loss.last_adversarial_loss()).epsilon(1e-5));
  // The generator's backward leaves the discriminator's gradients as its own step left them, and
  // reaches the output.
  const std::vector<float> g_disc = flat(d, true);
  tape.backward(total);
  CHECK(flat(d, true) == g_disc);
  double norm = 0;
  for (float g : gy) norm += double(g) * g;
  CHECK(norm > 0);
  // Every parameter stayed trainable for the next step.
  d.for_each_parameter([](Parameter<float>& p) { CHECK(p.trainable); });
}

TEST_CASE("CganLoss with the blurred-MSE content: Deep-STORM's loss, and the discriminator sees s · G∗output") {
  PatchGan<float> d(2, 4);
  d.init(10);
  CganOptions opt;
  opt.content = CganContent::blurred_mse;
  opt.judge_scale = 2.5;
  std::vector<float> kernel(49);
  deep_storm_kernel(kernel.data(), opt.blurred_mse);
  Batch b;
  CganLoss<PatchGan<float>> loss(d, opt, kernel.data(), 0);
  Tape<float> tape;
  Tensor<float> gy(b.y.shape());
  const Var<float> y = tape.input(b.y.view(), gy.data());
  const Var<float> total = loss(tape, y, tape.input(b.t.view()), tape.input(b.x.view()));
  REQUIRE(loss.adversarial_steps() == 1);
  // The content: mse(G∗y, G∗t) + λ·mean|y| with Deep-STORM's kernel (sum 2).
  Tape<float> plain;
  const TensorView<const float> g(kernel.data(), {1, 1, 7, 7});
  const float base = deep_storm_loss(plain, plain.input(b.y.view()), fixed_conv2d(plain, plain.input(b.t.view()), g),
                                     opt.blurred_mse, kernel.data())
                         .value[0];
  CHECK(total.value[0] == doctest::Approx(base + 3 * loss.last_adversarial_loss()).epsilon(1e-5));
  // The adversarial BCE is D's verdict on x↑ ⊕ 2.5·G∗y (D after its step, batch statistics).
  Tape<float> judge;
  const Var<float> view = scale(judge, fixed_conv2d(judge, judge.input(b.y.view()), g), 2.5f);
  const Var<float> logits = d.forward(judge, concat(judge, upsample_nearest(judge, judge.input(b.x.view()), 4), view));
  Tensor<float> ones(logits.shape());
  std::fill(ones.begin(), ones.end(), 1.0f);
  CHECK(bce_with_logits(judge, logits, judge.input(ones.view())).value[0] ==
        doctest::Approx(loss.last_adversarial_loss()).epsilon(1e-5));
  // Validation: the content alone.
  Tape<float> v;
  v.set_mode(Mode::inference);
  v.set_recording(false);
  CHECK(loss(v, v.input(b.y.view()), v.input(b.t.view()), v.input(b.x.view())).value[0] == doctest::Approx(base).epsilon(1e-6));
  tape.backward(total);
  double norm = 0;
  for (float e : gy) norm += double(e) * e;
  CHECK(norm > 0);
}

TEST_CASE("CganLoss: the discriminator learns to tell blurred targets from a wrong output") {
  PatchGan<float> d(2, 4);
  d.init(9);
  CganOptions opt;
  opt.discriminator_adam.lr = 2e-3;
  std::vector<float> kernel(49);
  cell_storm_kernel(kernel.data(), opt.generator);
  Batch b;
  CganLoss<PatchGan<float>> loss(d, opt, kernel.data(), 0);
  std::vector<double> history;
  for (int s = 0; s < 40; ++s) {
    Tape<float> tape;
    loss(tape, tape.input(b.y.view()), tape.input(b.t.view()), tape.input(b.x.view()));
    history.push_back(loss.last_discriminator_loss());
  }
  // ln 2 ≈ 0.69 is a discriminator that cannot tell; a learning one falls well below it.
  MESSAGE("discriminator loss, first and last step: ", history.front(), " -> ", history.back());
  CHECK(history.back() < 0.5 * history.front());
  CHECK(history.back() < 0.2);
}

TEST_CASE("CganOptions: bad weights, schedule or learning rate are refused by name") {
  CganOptions o;
  CHECK(o.validate().ok());
  o.every = 0;
  CHECK(o.validate().message().find("every = 0") != std::string::npos);
  o = {};
  o.adversarial_weight = -1;
  CHECK(o.validate().message().find("adversarial -1") != std::string::npos);
  o = {};
  o.discriminator_adam.lr = 0;
  CHECK(o.validate().message().find("lr = 0") != std::string::npos);
  o = {};
  o.judge_scale = 0;
  CHECK(o.validate().message().find("judge_scale = 0") != std::string::npos);
}
