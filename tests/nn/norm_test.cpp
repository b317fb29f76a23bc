// norm.hpp: batch norm (training, inference, running statistics as PyTorch) and instance norm.
#include <doctest/doctest.h>

#include <cmath>
#include <smlm/nn/norm.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

TEST_CASE("batch_norm (training): zero mean, unit variance per channel; running statistics update") {
  auto x = random_tensor({4, 2, 3, 5}, 61, 1, 3.0, 2.0);
  Tensor<double> rm({1, 2, 1, 1}), rv({1, 2, 1, 1}, 1.0);
  Tape<double> tape;
  const auto y = batch_norm(tape, tape.input(x.view()), Var<double>{}, Var<double>{}, {rm.data(), rv.data(), 0.1, 1e-5});
  for (int c = 0; c < 2; ++c) {
    double s = 0, sq = 0, xs = 0, xsq = 0;
    const int m = 4 * 15;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 15; ++i) {
        const double v = y.value(n, c, i / 5, i % 5), xv = x(n, c, i / 5, i % 5);
        s += v, sq += v * v, xs += xv, xsq += xv * xv;
      }
    CHECK(std::abs(s / m) < 1e-12);
    CHECK(sq / m == doctest::Approx(1.0).epsilon(1e-4));  // var/(var+eps)
    const double mean = xs / m, var_unbiased = (xsq - m * mean * mean) / (m - 1);
    CHECK(rm[c] == doctest::Approx(0.1 * mean));
    CHECK(rv[c] == doctest::Approx(0.9 + 0.1 * var_unbiased));
  }
}

TEST_CASE("batch_norm (inference): uses the running statistics, leaves them unchanged") {
  Tensor<double> x({1, 1, 1, 3});
  x[0] = 1, x[1] = 2, x[2] = 4;
  Tensor<double> rm({1, 1, 1, 1}, 2.0), rv({1, 1, 1, 1}, 4.0), g({1, 1, 1, 1}, 3.0), b({1, 1, 1, 1}, 0.5);
  Tape<double> tape;
  tape.set_mode(Mode::inference);
  const auto y = batch_norm(tape, tape.input(x.view()), tape.input(g.view()), tape.input(b.view()),
                            {rm.data(), rv.data(), 0.1, 0.0});
  CHECK(y.value[0] == doctest::Approx(3 * (1 - 2) / 2.0 + 0.5));
  CHECK(y.value[2] == doctest::Approx(3 * (4 - 2) / 2.0 + 0.5));
  CHECK(rm[0] == 2.0);
  CHECK(rv[0] == 4.0);
  double out[3];
  batch_norm_inference_forward<double>(x.shape(), x.data(), g.data(), b.data(), rm.data(), rv.data(), 0.0, out);
  for (int i = 0; i < 3; ++i) CHECK(out[i] == doctest::Approx(y.value[i]));
}

TEST_CASE("batch_norm and instance_norm: gradients match finite differences (training and inference)") {
  std::vector<Tensor<double>> in{random_tensor({3, 2, 3, 5}, 62, 1, 2.0, 1.0), random_tensor({1, 2, 1, 1}, 62, 2, 1.0, 1.0),
                                 random_tensor({1, 2, 1, 1}, 62, 3)};
  Tensor<double> rm({1, 2, 1, 1}), rv({1, 2, 1, 1}, 1.5);
  auto bn = [&](Tape<double>& t, const Vars& v) {
    return batch_norm(t, v[0], v[1], v[2], BatchNormStats<double>{rm.data(), rv.data(), 0.1, 1e-5});
  };
  SMLM_CHECK_REPORT(gradcheck(in, bn, 62));
  smlm::testing::GradcheckOptions inference;
  inference.mode = Mode::inference;
  SMLM_CHECK_REPORT(gradcheck(in, bn, 63, inference));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return instance_norm(t, v[0], v[1], v[2]); }, 64));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return instance_norm(t, v[0], Var<double>{}, Var<double>{}); }, 65));
}

TEST_CASE("instance_norm: each plane normalised on its own") {
  auto x = random_tensor({2, 3, 4, 4}, 66, 1, 5.0, -3.0);
  Tape<double> tape;
  const auto y = instance_norm(tape, tape.input(x.view()), Var<double>{}, Var<double>{}, 0.0);
  for (int p = 0; p < 6; ++p) {
    double s = 0, sq = 0;
    for (int i = 0; i < 16; ++i) s += y.value[p * 16 + i], sq += y.value[p * 16 + i] * y.value[p * 16 + i];
    CHECK(std::abs(s) < 1e-10);
    CHECK(sq / 16 == doctest::Approx(1.0));
  }
}
