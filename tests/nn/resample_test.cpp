// resample.hpp: nearest, bilinear (PyTorch align_corners=False values), pixel shuffle.
#include <doctest/doctest.h>

#include <smlm/nn/resample.hpp>

#include "gradcheck.hpp"

using namespace smlm::nn;
using smlm::nn::test::gradcheck;
using smlm::nn::test::random_tensor;
using smlm::nn::test::Vars;

TEST_CASE("upsample_nearest: each pixel becomes a k×k block") {
  Tensor<float> x({1, 1, 2, 2});
  for (int i = 0; i < 4; ++i) x[i] = float(i + 1);
  Tape<float> tape;
  const auto y = upsample_nearest(tape, tape.input(x.view()), 3);
  REQUIRE(y.shape() == Shape{1, 1, 6, 6});
  CHECK(y.value(0, 0, 2, 2) == 1);
  CHECK(y.value(0, 0, 2, 3) == 2);
  CHECK(y.value(0, 0, 5, 0) == 3);
  CHECK(y.value(0, 0, 5, 5) == 4);
}

TEST_CASE("upsample_bilinear: matches torch.nn.functional.interpolate(scale 2, align_corners=False)") {
  // x = [[1, 2], [3, 4]]; torch gives rows [1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], ...
  Tensor<double> x({1, 1, 2, 2});
  for (int i = 0; i < 4; ++i) x[i] = double(i + 1);
  Tape<double> tape;
  const auto y = upsample_bilinear(tape, tape.input(x.view()), 2);
  const double expect[16] = {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4};
  for (int i = 0; i < 16; ++i) CHECK(y.value[i] == doctest::Approx(expect[i]));
}

TEST_CASE("pixel_shuffle: channel c·r² + a·r + b goes to (i·r + a, j·r + b) of channel c") {
  Tensor<double> x({1, 8, 2, 3});
  for (std::ptrdiff_t i = 0; i < x.size(); ++i) x[i] = double(i);
  Tape<double> tape;
  const auto y = pixel_shuffle(tape, tape.input(x.view()), 2);
  REQUIRE(y.shape() == Shape{1, 2, 4, 6});
  for (int c = 0; c < 2; ++c)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 3; ++j) CHECK(y.value(0, c, i * 2 + a, j * 2 + b) == x(0, c * 4 + a * 2 + b, i, j));
  CHECK_THROWS_AS(pixel_shuffle(tape, tape.input(x.view()), 3), smlm::assertion_error);
}

TEST_CASE("resampling gradients match finite differences") {
  std::vector<Tensor<double>> in{random_tensor({2, 2, 3, 5}, 41, 1)};
  gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_nearest(t, v[0], 2); }, 41);
  gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_bilinear(t, v[0], 2); }, 42);
  gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_bilinear(t, v[0], 3); }, 43);
  std::vector<Tensor<double>> in2{random_tensor({1, 9, 3, 2}, 44, 1)};
  gradcheck(in2, [](Tape<double>& t, const Vars& v) { return pixel_shuffle(t, v[0], 3); }, 44);
}
