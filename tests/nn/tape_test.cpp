// tape.hpp: recording, no-grad mode, accumulation into parameters, misuse, and a self-test of
// the gradient checker (it must reject a wrong backward).
#include <doctest/doctest.h>

#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/loss.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

TEST_CASE("Tape: one record per op; no-grad mode records nothing and allocates no gradients") {
  auto x = random_tensor<float>({1, 2, 5, 5}, 1, 1);
  Parameter<float> w({3, 2, 3, 3});
  Tape<float> tape;
  auto y = relu(tape, conv2d(tape, tape.input(x.view()), tape.param(w)));
  CHECK(tape.records() == 2);
  CHECK(y.requires_grad());
  tape.reset();
  CHECK(tape.records() == 0);
  {
    NoGradScope<float> no_grad(tape);
    auto z = relu(tape, conv2d(tape, tape.input(x.view()), tape.param(w)));
    CHECK(tape.records() == 0);
    CHECK(!z.requires_grad());
    CHECK(!tape.param(w).requires_grad());
  }
  CHECK(tape.recording());
  // An op on constants only records nothing either.
  auto c = relu(tape, tape.input(x.view()));
  CHECK(tape.records() == 0);
  CHECK(!c.requires_grad());
}

TEST_CASE("Tape: parameter gradients accumulate across backward() calls until zero_grad") {
  Tensor<double> x({1, 1, 1, 3});
  x[0] = 1, x[1] = 2, x[2] = 3;
  Parameter<double> w({1, 1, 1, 1});
  w.value[0] = 2;
  const Tensor<double> zero({1, 1, 1, 3});  // inputs must outlive the tape's use of them
  Tape<double> tape;
  auto loss = [&] {  // mean((w·x)²) → d/dw = 2w·mean(x²) = 2·2·14/3
    tape.reset();
    auto y = conv2d(tape, tape.input(x.view()), tape.param(w));
    auto l = mse(tape, y, tape.input(zero.view()));
    tape.backward(l);
    return l.value[0];
  };
  CHECK(loss() == doctest::Approx(4 * 14 / 3.0));
  CHECK(w.grad[0] == doctest::Approx(4 * 14 / 3.0));
  loss();
  CHECK(w.grad[0] == doctest::Approx(8 * 14 / 3.0));
  w.zero_grad();
  loss();
  CHECK(w.grad[0] == doctest::Approx(4 * 14 / 3.0));
  w.trainable = false;
  tape.reset();
  CHECK(!tape.param(w).requires_grad());
}

TEST_CASE("Tape: misuse is caught") {
  Tensor<double> x({1, 1, 2, 2}), gx({1, 1, 2, 2});
  Tape<double> tape;
  auto y = relu(tape, tape.input(x.view(), gx.data()));
  CHECK_THROWS_AS(tape.backward(y), smlm::assertion_error);  // not one element
  auto l = mean_abs(tape, y);
  tape.backward(l);
  CHECK_THROWS_AS(tape.backward(l), smlm::assertion_error);  // twice without reset
  tape.reset();
  auto c = mean_abs(tape, tape.input(x.view()));
  CHECK_THROWS_AS(tape.backward(c), smlm::assertion_error);  // nothing needs a gradient
}

namespace {
// relu whose backward forgets the mask: the gradient check must catch it.
Var<double> broken_relu(Tape<double>& tape, const Var<double>& x) {
  Var<double> y = tape.make(x.shape(), tape.needs_grad(x));
  for (std::ptrdiff_t i = 0; i < x.value.size(); ++i) y.value[i] = x.value[i] > 0 ? x.value[i] : 0;
  if (y.requires_grad())
    tape.record([=] {
      for (std::ptrdiff_t i = 0; i < x.value.size(); ++i) x.grad[i] += y.grad[i];
    });
  return y;
}
}  // namespace

TEST_CASE("gradcheck rejects a wrong backward") {
  std::vector<Tensor<double>> in{random_tensor({1, 1, 4, 4}, 3, 1)};
  const auto report = smlm::testing::gradcheck(in, [](Tape<double>& t, const Vars& v) { return broken_relu(t, v[0]); }, 3);
  REQUIRE(report.checks.size() == 1);
  CHECK_FALSE(report.passed());
  CHECK(report.checks[0].name.starts_with("gradient <double> [op] input 0: max relative error"));
  // The forgotten mask passes the gradient of a negative input through: relative error 1 there.
  CHECK(report.checks[0].measured == doctest::Approx(1.0));
  SMLM_CHECK_REPORT(smlm::testing::gradcheck(in, [](Tape<double>& t, const Vars& v) { return relu(t, v[0]); }, 3));
}
