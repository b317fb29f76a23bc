// optimizer.hpp: Adam, AdamW and SGD against closed-form trajectories; gradient clipping.
#include <doctest/doctest.h>

#include <cmath>
#include <smlm/nn/optimizer.hpp>
#include <vector>

using namespace smlm::nn;

TEST_CASE_TEMPLATE("Adam: a constant gradient c moves each weight by lr·c/(|c| + eps) per step", T, float, double) {
  Parameter<T> p({1, 1, 1, 3});
  const double c[3] = {0.5, -2.0, 1e-3};
  Adam<T> adam({.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
  for (int s = 0; s < 5; ++s) {
    for (int i = 0; i < 3; ++i) p.grad[i] = T(c[i]);
    adam.step(p);
  }
  CHECK(p.steps == 5);
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-9;
  for (int i = 0; i < 3; ++i) CHECK(double(p.value[i]) == doctest::Approx(-5 * 0.01 * c[i] / (std::abs(c[i]) + 1e-8)).epsilon(tol));
  // The moments live beside the weights: m = c·(1 − β1⁵), v = c²·(1 − β2⁵).
  CHECK(double(p.moment1[1]) == doctest::Approx(-2.0 * (1 - std::pow(0.9, 5))).epsilon(tol));
  CHECK(double(p.moment2[1]) == doctest::Approx(4.0 * (1 - std::pow(0.999, 5))).epsilon(tol));
}

TEST_CASE("Adam: first step is lr·sign(g) whatever |g|; decoupled weight decay shrinks by (1 − lr·wd)") {
  Parameter<double> p({1, 1, 1, 2});
  p.value[0] = 1, p.value[1] = 1;
  p.grad[0] = 1e3, p.grad[1] = -1e-3;
  Adam<double> adam({.lr = 0.1});
  adam.step(p);
  CHECK(p.value[0] == doctest::Approx(0.9));
  CHECK(p.value[1] == doctest::Approx(1.1).epsilon(1e-5));
  Parameter<double> q({1, 1, 1, 1});
  q.value[0] = 2;
  Adam<double> adamw({.lr = 0.1, .weight_decay = 0.5});
  for (int s = 0; s < 4; ++s) adamw.step(q);  // zero gradient: only the decay acts
  CHECK(q.value[0] == doctest::Approx(2 * std::pow(1 - 0.05, 4)));
  q.trainable = false;
  adamw.step(q);
  CHECK(q.steps == 4);
}

TEST_CASE("SGD with momentum: b ← μb + g, θ ← θ − lr·b") {
  Parameter<double> p({1, 1, 1, 1});
  Sgd<double> sgd({.lr = 0.1, .momentum = 0.9});
  for (int s = 0; s < 3; ++s) {
    p.grad[0] = 2;
    sgd.step(p);
  }
  CHECK(p.value[0] == doctest::Approx(-0.1 * 2 * (1 + 1.9 + 2.71)));
  Parameter<double> q({1, 1, 1, 1});
  q.value[0] = 1;
  Sgd<double> plain({.lr = 0.5, .momentum = 0, .weight_decay = 0.1});
  plain.step(q);  // g = 0 + 0.1·1
  CHECK(q.value[0] == doctest::Approx(0.95));
}

TEST_CASE("clip_grad_norm: scales to max_norm, returns the norm, leaves small gradients alone") {
  Parameter<double> a({1, 1, 1, 1}), b({1, 1, 1, 1});
  a.grad[0] = 3, b.grad[0] = 4;
  std::vector<Parameter<double>*> ps{&a, &b};
  CHECK(clip_grad_norm(ps, 1.0) == doctest::Approx(5.0));
  CHECK(a.grad[0] == doctest::Approx(3 / (5 + 1e-6)));
  CHECK(b.grad[0] == doctest::Approx(4 / (5 + 1e-6)));
  CHECK(clip_grad_norm(ps, 10.0) == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(a.grad[0] == doctest::Approx(3 / (5 + 1e-6)));
  zero_grad(ps);
  CHECK(a.grad[0] == 0);
}
