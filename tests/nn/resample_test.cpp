// resample.hpp: nearest, bilinear (PyTorch align_corners=False values), pixel shuffle; the fast
// nearest and pixel-shuffle kernels against their _ref twins.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <smlm/nn/resample.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

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
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_nearest(t, v[0], 2); }, 41));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_bilinear(t, v[0], 2); }, 42));
  SMLM_CHECK_REPORT(gradcheck(in, [](Tape<double>& t, const Vars& v) { return upsample_bilinear(t, v[0], 3); }, 43));
  std::vector<Tensor<double>> in2{random_tensor({1, 9, 3, 2}, 44, 1)};
  SMLM_CHECK_REPORT(gradcheck(in2, [](Tape<double>& t, const Vars& v) { return pixel_shuffle(t, v[0], 3); }, 44));
}

namespace {
/// Values spread over many binades (so that a different order of additions shows), some of
/// them negative zero, one at the type's largest magnitude.
template <class T>
Tensor<T> spread_tensor(Shape s, std::uint64_t seed, std::uint32_t stream) {
  Tensor<T> t = random_tensor<T>(s, seed, stream);
  smlm::Philox4x32 rng(seed, stream + 1000, smlm::rng_purpose::user);
  for (auto& v : t) {
    const double u = smlm::uniform01<double>(rng);
    v = u < 0.05 ? T(-0.0) : static_cast<T>(double(v) * std::pow(10.0, 6 * u - 3));
  }
  if (t.size() > 0) t[t.size() / 2] = std::numeric_limits<T>::max() / T(4);
  return t;
}
template <class T>
bool bit_equal(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}
template <class T>
bool bit_equal(const Tensor<T>& a, const T* b) {
  return std::memcmp(a.data(), b, sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}
/// No NaN appears in an output of finite inputs (an index error would read uninitialised data).
template <class T>
bool all_finite(const Tensor<T>& t) {
  for (const T v : t)
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace

TEST_CASE_TEMPLATE("upsample_nearest and pixel_shuffle: the fast kernels equal their _ref twins bit for bit", T, float, double) {
  const std::uint64_t seed = 20261207;
  MESSAGE("seed " << seed);
  smlm::nn::WorkerPool pool(2);
  std::uint32_t stream = 0;
  // Odd and even sizes, one-row and one-column planes, factors with and without a compile-time
  // specialisation (2, 4, 8 and the rest).
  const Shape shapes[] = {{1, 1, 1, 1}, {1, 1, 1, 7}, {2, 3, 5, 1}, {2, 3, 5, 7}, {1, 2, 16, 16}, {3, 1, 9, 33}};
  for (const std::ptrdiff_t k : {1, 2, 3, 4, 5, 8}) {
    for (const Shape& s : shapes) {
      INFO("k " << k << ", x " << s.n << "x" << s.c << "x" << s.h << "x" << s.w);
      const Shape ys{s.n, s.c, s.h * k, s.w * k};
      const Tensor<T> x = spread_tensor<T>(s, seed, ++stream), dy = spread_tensor<T>(ys, seed, ++stream);
      const Tensor<T> dx0 = spread_tensor<T>(s, seed, ++stream);
      Tensor<T> y_ref(ys), y_fast(ys), dx_ref = dx0, dx_fast = dx0;
      upsample_nearest_forward_ref(s, k, x.data(), y_ref.data());
      upsample_nearest_forward(s, k, x.data(), y_fast.data());
      CHECK(bit_equal(y_ref, y_fast));
      CHECK(all_finite(y_fast));
      upsample_nearest_backward_ref(s, k, dy.data(), dx_ref.data());
      upsample_nearest_backward_rows(s, k, dy.data(), dx_fast.data(), 0, s.n * s.c * s.h);
      CHECK(bit_equal(dx_ref, dx_fast));
      CHECK(all_finite(dx_fast));
      // Through the tape on 1 and 2 threads: the same values, the same gradient.
      for (smlm::nn::WorkerPool* p : {static_cast<smlm::nn::WorkerPool*>(nullptr), &pool}) {
        Tape<T> tape(p);
        Tensor<T> g = dx0;
        const auto y = upsample_nearest(tape, tape.input(x.view(), g.data()), k);
        CHECK(bit_equal(y_ref, y.data()));
        tape.backward(y, dy.view());
        CHECK(bit_equal(dx_ref, g));
      }
    }
  }
  for (const std::ptrdiff_t r : {1, 2, 3, 4, 8}) {
    for (const Shape& base : shapes) {
      const Shape s{base.n, base.c * r * r, base.h, base.w};
      INFO("r " << r << ", x " << s.n << "x" << s.c << "x" << s.h << "x" << s.w);
      const Shape ys{s.n, base.c, s.h * r, s.w * r};
      const Tensor<T> x = spread_tensor<T>(s, seed, ++stream), dy = spread_tensor<T>(ys, seed, ++stream);
      const Tensor<T> dx0 = spread_tensor<T>(s, seed, ++stream);
      Tensor<T> y_ref(ys), y_fast(ys), dx_ref = dx0, dx_fast = dx0;
      pixel_shuffle_forward_ref(s, r, x.data(), y_ref.data());
      pixel_shuffle_forward(s, r, x.data(), y_fast.data());
      CHECK(bit_equal(y_ref, y_fast));
      CHECK(all_finite(y_fast));
      pixel_shuffle_backward_ref(s, r, dy.data(), dx_ref.data());
      pixel_shuffle_backward_rows(s, r, dy.data(), dx_fast.data(), 0, ys.n * ys.c * ys.h);
      CHECK(bit_equal(dx_ref, dx_fast));
      CHECK(all_finite(dx_fast));
      for (smlm::nn::WorkerPool* p : {static_cast<smlm::nn::WorkerPool*>(nullptr), &pool}) {
        Tape<T> tape(p);
        Tensor<T> g = dx0;
        const auto y = pixel_shuffle(tape, tape.input(x.view(), g.data()), r);
        CHECK(bit_equal(y_ref, y.data()));
        tape.backward(y, dy.view());
        CHECK(bit_equal(dx_ref, g));
      }
    }
  }
}

TEST_CASE("upsample_nearest and pixel_shuffle: row ranges split anywhere give the whole result") {
  // The parallel pieces are row ranges: any cut must give the same output as one call.
  const std::uint64_t seed = 20261208;
  MESSAGE("seed " << seed);
  const Shape s{2, 3, 5, 7};
  const Tensor<float> x = spread_tensor<float>(s, seed, 1);
  Tensor<float> whole({2, 3, 15, 21}), cut({2, 3, 15, 21}, std::numeric_limits<float>::quiet_NaN());
  upsample_nearest_forward_ref(s, 3, x.data(), whole.data());
  const std::ptrdiff_t rows = s.n * s.c * s.h;
  for (std::ptrdiff_t lo = 0; lo < rows; lo += 4) upsample_nearest_forward_rows(s, 3, x.data(), cut.data(), lo, std::min(rows, lo + 4));
  CHECK(bit_equal(whole, cut));
  const Shape ps{2, 18, 5, 7};
  const Tensor<float> xp = spread_tensor<float>(ps, seed, 2);
  Tensor<float> pw({2, 2, 15, 21}), pc({2, 2, 15, 21}, std::numeric_limits<float>::quiet_NaN());
  pixel_shuffle_forward_ref(ps, 3, xp.data(), pw.data());
  const std::ptrdiff_t prows = 2 * 2 * 15;
  for (std::ptrdiff_t lo = 0; lo < prows; lo += 7) pixel_shuffle_forward_rows(ps, 3, xp.data(), pc.data(), lo, std::min(prows, lo + 7));
  CHECK(bit_equal(pw, pc));
}
