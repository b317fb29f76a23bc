// loss.hpp: known values and gradients of every loss, including Deep-STORM's.
#include <doctest/doctest.h>

#include <cmath>
#include <smlm/nn/loss.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::uniform_tensor;
using smlm::testing::Vars;

TEST_CASE("losses: known values") {
  Tensor<double> p({1, 1, 1, 4}), t({1, 1, 1, 4});
  const double pv[] = {1, -2, 0.5, 3}, tv[] = {0, 1, 0.5, 1};
  for (int i = 0; i < 4; ++i) p[i] = pv[i], t[i] = tv[i];
  Tape<double> tape;
  const auto P = tape.input(p.view()), T = tape.input(t.view());
  CHECK(mse(tape, P, T).value[0] == doctest::Approx((1 + 9 + 0 + 4) / 4.0));
  CHECK(l1(tape, P, T).value[0] == doctest::Approx((1 + 3 + 0 + 2) / 4.0));
  CHECK(mean_abs(tape, P).value[0] == doctest::Approx((1 + 2 + 0.5 + 3) / 4.0));
  double bce = 0;
  for (int i = 0; i < 4; ++i) {
    const double s = 1 / (1 + std::exp(-pv[i]));
    bce -= tv[i] * std::log(s) + (1 - tv[i]) * std::log(1 - s);
  }
  CHECK(bce_with_logits(tape, P, T).value[0] == doctest::Approx(bce / 4));
  // Stable at large logits: log(1 + e^100) computed without overflow.
  p[0] = 100, t[0] = 0;
  CHECK(std::isfinite(bce_with_logits(tape, P, T).value[0]));
  CHECK_THROWS_AS(mse(tape, P, tape.input(Tensor<double>({1, 1, 2, 2}).view())), smlm::assertion_error);
}

TEST_CASE("deep_storm_loss: blur of a point source, L1 weight, equals its definition") {
  Tensor<double> p({1, 1, 9, 9}), t({1, 1, 9, 9});
  p(0, 0, 4, 4) = 1.0;
  Tape<double> tape;
  DeepStormLossOptions opt;
  opt.l1_weight = 0.5;
  const auto loss = deep_storm_loss(tape, tape.input(p.view()), tape.input(t.view()), opt);
  // G∗p is the kernel itself (sum 2): mse = Σ k² / 81, plus 0.5 · (1/81).
  double k[49], sq = 0;
  gaussian_kernel(k, 7, 1.0, 2.0);
  for (double v : k) sq += v * v;
  CHECK(loss.value[0] == doctest::Approx(sq / 81 + 0.5 / 81));
}

TEST_CASE("losses: gradients match finite differences") {
  std::vector<Tensor<double>> in{random_tensor({2, 1, 6, 5}, 71, 1), random_tensor({2, 1, 6, 5}, 71, 2)};
  smlm::testing::GradcheckOptions pred_only;
  pred_only.wrt = {true, false};
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return mse(t, v[0], v[1]); }, 71, pred_only));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return l1(t, v[0], v[1]); }, 72, pred_only));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return mean_abs(t, v[0]); }, 73, pred_only));
  std::vector<Tensor<double>> logits{random_tensor({2, 1, 4, 4}, 74, 1, 3.0), uniform_tensor({2, 1, 4, 4}, 74, 2, 0, 1)};
  SMLM_CHECK_REPORT(gradcheck(logits, [](Tape<double>& t, const Vars& v) { return bce_with_logits(t, v[0], v[1]); }, 74, pred_only));
  std::vector<Tensor<double>> storm{random_tensor({2, 1, 11, 9}, 75, 1), uniform_tensor({2, 1, 11, 9}, 75, 2, 0, 1)};
  SMLM_CHECK_REPORT(gradcheck(storm, [](Tape<double>& t, const Vars& v) { return deep_storm_loss(t, v[0], v[1]); }, 75, pred_only));
  // cellSTORM's loss with unequal weights: at its default 100 / 100 it is flat (zero gradient) for
  // an output between 0 and the blurred target, where finite differences see only rounding.
  CellStormLossOptions cs;
  cs.sparsity_weight = 7;
  SMLM_CHECK_REPORT(gradcheck(storm, [&](Tape<double>& t, const Vars& v) { return cell_storm_loss(t, v[0], v[1], cs); }, 76, pred_only));
}

TEST_CASE("cell_storm_loss: the target blurred to a peak-1 blob, L1 and sparsity weights, equals its definition") {
  CellStormLossOptions opt;
  double k[49];
  cell_storm_kernel(k, opt);
  CHECK(k[24] == doctest::Approx(1.0));  // centre of 7 × 7: an isolated spike of 1 peaks at 1
  CHECK(k[24 + 1] == doctest::Approx(std::exp(-0.5)));
  Tensor<double> p({1, 1, 9, 9}), t({1, 1, 9, 9});
  t(0, 0, 4, 4) = 1.0;
  Tape<double> tape;
  // A perfect output (the blurred target) costs only its sparsity: λ_sparse · Σ G / 81.
  double g = 0;
  for (double v : k) g += v;
  for (int u = 0; u < 7; ++u)
    for (int v = 0; v < 7; ++v) p(0, 0, 1 + u, 1 + v) = k[u * 7 + v];
  CHECK(cell_storm_loss(tape, tape.input(p.view()), tape.input(t.view()), opt).value[0] ==
        doctest::Approx(100 * g / 81));
  // Zero output: λ_L1 · Σ G / 81 and no sparsity cost; the weights scale their terms.
  fill(p.view(), 0.0);
  opt.l1_weight = 3;
  CHECK(cell_storm_loss(tape, tape.input(p.view()), tape.input(t.view()), opt).value[0] == doctest::Approx(3 * g / 81));
  // A constant output of 0.1 with sparsity only: 0.1 · λ_sparse.
  fill(p.view(), 0.1);
  opt.l1_weight = 0;
  opt.sparsity_weight = 2;
  CHECK(cell_storm_loss(tape, tape.input(p.view()), tape.input(t.view()), opt).value[0] == doctest::Approx(0.2));
}
