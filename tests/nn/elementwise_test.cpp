// elementwise.hpp: add, scale, concat (fast kernels against their _ref twins), activations, dropout.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <smlm/nn/elementwise.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

TEST_CASE("activations: known values") {
  const double x[] = {-2, -0.5, 0.5, 3};
  double y[4];
  activation_forward(Activation::relu, 4, x, y);
  CHECK(y[0] == 0);
  CHECK(y[3] == 3);
  activation_forward(Activation::leaky_relu, 4, x, y, 0.2);
  CHECK(y[0] == doctest::Approx(-0.4));
  CHECK(y[2] == 0.5);
  activation_forward(Activation::sigmoid, 4, x, y);
  CHECK(y[1] == doctest::Approx(1 / (1 + std::exp(0.5))));
  activation_forward(Activation::tanh, 4, x, y);
  CHECK(y[3] == doctest::Approx(std::tanh(3.0)));
}

TEST_CASE("add, scale, concat and activations: gradients match finite differences") {
  std::vector<Tensor<double>> two{random_tensor({2, 3, 4, 5}, 51, 1), random_tensor({2, 3, 4, 5}, 51, 2)};
  SMLM_CHECK_REPORT(gradcheck(two, [](Tape<double>& t, const Vars& v) { return add(t, v[0], v[1]); }, 51));
  // The same Var used twice gets the sum of both contributions.
  SMLM_CHECK_REPORT(gradcheck(two, [](Tape<double>& t, const Vars& v) { return add(t, v[0], scale(t, v[0], 2.5)); }, 52));
  std::vector<Tensor<double>> cat{random_tensor({2, 3, 3, 5}, 53, 1), random_tensor({2, 1, 3, 5}, 53, 2)};
  SMLM_CHECK_REPORT(gradcheck(cat, [](Tape<double>& t, const Vars& v) { return concat(t, v[0], v[1]); }, 53));
  std::vector<Tensor<double>> one{random_tensor({1, 2, 5, 7}, 54, 1)};
  SMLM_CHECK_REPORT(gradcheck(one, [](Tape<double>& t, const Vars& v) { return relu(t, v[0]); }, 54));
  SMLM_CHECK_REPORT(gradcheck(one, [](Tape<double>& t, const Vars& v) { return leaky_relu(t, v[0], 0.1); }, 55));
  SMLM_CHECK_REPORT(gradcheck(one, [](Tape<double>& t, const Vars& v) { return smlm::nn::tanh(t, v[0]); }, 56));
  SMLM_CHECK_REPORT(gradcheck(one, [](Tape<double>& t, const Vars& v) { return sigmoid(t, v[0]); }, 57));
}

TEST_CASE("concat: a's channels come first") {
  Tensor<float> a({2, 1, 1, 2}, 1.0f), b({2, 2, 1, 2}, 2.0f);
  Tape<float> tape;
  const auto y = concat(tape, tape.input(a.view()), tape.input(b.view()));
  REQUIRE(y.shape() == Shape{2, 3, 1, 2});
  CHECK(y.value(1, 0, 0, 1) == 1.0f);
  CHECK(y.value(1, 2, 0, 0) == 2.0f);
  CHECK_THROWS_AS(concat(tape, tape.input(a.view()), tape.input(Tensor<float>({1, 2, 1, 2}).view())),
                  smlm::assertion_error);
}

TEST_CASE("dropout: keeps about 1 − p, scales kept values, same seed same mask, identity in inference") {
  const double p = 0.3;
  Tensor<float> x({1, 1, 200, 200}, 1.0f);
  Tape<float> tape;
  const auto y1 = dropout(tape, tape.input(x.view()), p, 77, 3);
  const auto y2 = dropout(tape, tape.input(x.view()), p, 77, 3);
  const auto y3 = dropout(tape, tape.input(x.view()), p, 77, 4);
  const double n = double(x.size());
  double kept = 0, differ = 0;
  for (std::ptrdiff_t i = 0; i < x.size(); ++i) {
    REQUIRE((y1.value[i] == 0.0f || y1.value[i] == doctest::Approx(1 / (1 - p))));
    kept += y1.value[i] != 0;
    REQUIRE(y1.value[i] == y2.value[i]);
    differ += (y1.value[i] != y3.value[i]);
  }
  CHECK(std::abs(kept / n - (1 - p)) < 5 * std::sqrt(p * (1 - p) / n));  // binomial, 5 SE
  CHECK(differ > 0.3 * n);  // another step draws another mask (expected 2p(1-p) = 42%)
  tape.set_mode(Mode::inference);
  const auto yi = dropout(tape, tape.input(x.view()), p, 77, 3);
  CHECK(yi.data() == x.data());
  tape.set_mode(Mode::training);
  std::vector<Tensor<double>> one{random_tensor({2, 2, 4, 5}, 58, 1)};
  SMLM_CHECK_REPORT(gradcheck(one, [](Tape<double>& t, const Vars& v) { return dropout(t, v[0], 0.5, 9, 1); }, 58));
}

TEST_CASE_TEMPLATE("concat: the parallel range kernels equal the _ref twins bit for bit", T, float, double) {
  const std::uint64_t seed = 20261209;
  MESSAGE("seed " << seed);
  smlm::nn::WorkerPool pool(2);
  std::uint32_t stream = 0;
  struct Case {
    Shape a, b;
  };
  // Odd plane sizes, single channels, and parts far larger than one parallel piece (2^15).
  const Case cases[] = {{{1, 1, 1, 1}, {1, 1, 1, 1}},  {{2, 3, 5, 7}, {2, 1, 5, 7}},     {{3, 1, 9, 1}, {3, 4, 9, 1}},
                        {{2, 2, 64, 65}, {2, 3, 64, 65}}, {{1, 32, 33, 31}, {1, 32, 33, 31}}};
  for (const Case& c : cases) {
    INFO("a " << c.a.n << "x" << c.a.c << "x" << c.a.h << "x" << c.a.w << ", b channels " << c.b.c);
    const Tensor<T> a = random_tensor<T>(c.a, seed, ++stream), b = random_tensor<T>(c.b, seed, ++stream);
    const Shape ys{c.a.n, c.a.c + c.b.c, c.a.h, c.a.w};
    const Tensor<T> dy = random_tensor<T>(ys, seed, ++stream);
    const Tensor<T> da0 = random_tensor<T>(c.a, seed, ++stream), db0 = random_tensor<T>(c.b, seed, ++stream);
    const std::ptrdiff_t na = c.a.size() / c.a.n, nb = c.b.size() / c.b.n;
    Tensor<T> y_ref(ys), da_ref = da0, db_ref = db0;
    concat_forward_ref(c.a.n, na, nb, a.data(), b.data(), y_ref.data());
    concat_backward_ref(c.a.n, na, nb, dy.data(), da_ref.data(), db_ref.data());
    // Ranges cut at arbitrary points (across the a/b and sample boundaries).
    Tensor<T> y_cut(ys, std::numeric_limits<T>::quiet_NaN()), da_cut = da0, db_cut = db0;
    for (std::ptrdiff_t lo = 0; lo < ys.size(); lo += 13) {
      concat_forward_range(na, nb, a.data(), b.data(), y_cut.data(), lo, std::min(ys.size(), lo + 13));
      concat_backward_range(na, nb, dy.data(), da_cut.data(), db_cut.data(), lo, std::min(ys.size(), lo + 13));
    }
    auto same = [](const Tensor<T>& u, const T* v) {
      return std::memcmp(u.data(), v, sizeof(T) * static_cast<std::size_t>(u.size())) == 0;
    };
    CHECK(same(y_ref, y_cut.data()));
    CHECK(same(da_ref, da_cut.data()));
    CHECK(same(db_ref, db_cut.data()));
    // Through the tape on 1 and 2 threads, and with only one input needing a gradient.
    for (smlm::nn::WorkerPool* p : {static_cast<smlm::nn::WorkerPool*>(nullptr), &pool}) {
      Tape<T> tape(p);
      Tensor<T> ga = da0, gb = db0;
      const auto y = concat(tape, tape.input(a.view(), ga.data()), tape.input(b.view(), gb.data()));
      CHECK(same(y_ref, y.data()));
      tape.backward(y, dy.view());
      CHECK(same(da_ref, ga.data()));
      CHECK(same(db_ref, gb.data()));
      Tape<T> half(p);
      Tensor<T> only_b = db0;
      const auto y2 = concat(half, half.input(a.view()), half.input(b.view(), only_b.data()));
      half.backward(y2, dy.view());
      CHECK(same(db_ref, only_b.data()));
    }
  }
}
