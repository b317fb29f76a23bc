// pool.hpp: known values, argmax routing, odd sizes, gradients.
#include <doctest/doctest.h>

#include <smlm/nn/pool.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

TEST_CASE("max_pool2x2: window maxima, odd trailing row/column dropped, gradient to the argmax") {
  // 3x5 plane: rows 0-1, columns 0-3 pool; row 2 and column 4 are dropped.
  Tensor<double> x({1, 1, 3, 5});
  const double v[] = {1, 5, 2, 0, 9, 3, 4, 8, 7, 9, 9, 9, 9, 9, 9};
  for (int i = 0; i < 15; ++i) x[i] = v[i];
  Tensor<double> dx(x.shape());
  Tape<double> tape;
  const auto y = max_pool2x2(tape, tape.input(x.view(), dx.data()));
  REQUIRE(y.shape() == Shape{1, 1, 1, 2});
  CHECK(y.value[0] == 5);
  CHECK(y.value[1] == 8);
  const double dy[] = {10, 20};
  tape.backward(y, TensorView<const double>(dy, y.shape()));
  for (int i = 0; i < 15; ++i) CHECK(dx[i] == (i == 1 ? 10 : i == 7 ? 20 : 0));
}

TEST_CASE("max_pool2x2 and avg_pool: gradients match finite differences") {
  std::vector<Tensor<double>> in{random_tensor({2, 3, 7, 6}, 31, 1)};
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return max_pool2x2(t, v[0]); }, 31));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return avg_pool(t, v[0], 2); }, 32));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return avg_pool(t, v[0], 3); }, 33));
}

TEST_CASE("avg_pool: means of k×k windows") {
  Tensor<float> x({1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x[i] = float(i);
  Tape<float> tape;
  const auto y = avg_pool(tape, tape.input(x.view()), 2);
  CHECK(y.value[0] == doctest::Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(y.value[3] == doctest::Approx((10 + 11 + 14 + 15) / 4.0));
  CHECK_THROWS_AS(avg_pool(tape, tape.input(x.view()), 5), smlm::assertion_error);
}
