// tensor.hpp: layout, views, alignment, copies.
#include <doctest/doctest.h>

#include <cstdint>
#include <smlm/nn/tensor.hpp>

using namespace smlm::nn;

TEST_CASE_TEMPLATE("Tensor: NCHW layout, zero initialisation, 64-byte alignment", T, float, double) {
  Tensor<T> t({2, 3, 4, 5});
  CHECK(t.size() == 120);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (T v : t) REQUIRE(v == T(0));
  t(1, 2, 3, 4) = T(7);
  CHECK(t[((1 * 3 + 2) * 4 + 3) * 5 + 4] == T(7));
  const auto s = contiguous_strides(t.shape());
  CHECK(s == std::array<std::ptrdiff_t, 4>{60, 20, 5, 1});
  CHECK_THROWS_AS(t(2, 0, 0, 0), smlm::assertion_error);
  CHECK_THROWS_AS(t(0, 0, 4, 0), smlm::assertion_error);
}

TEST_CASE("Tensor: copy, move, fill") {
  Tensor<float> a({1, 2, 2, 2}, 3.0f);
  Tensor<float> b = a;
  b[0] = 1;
  CHECK(a[0] == 3.0f);
  Tensor<float> c = std::move(b);
  CHECK(c[0] == 1.0f);
  CHECK(b.empty());
  fill(c.view(), 2.0f);
  for (float v : c) CHECK(v == 2.0f);
}

TEST_CASE("TensorView: samples, channels, reshape, strided copy") {
  Tensor<double> t({2, 3, 2, 2});
  for (std::ptrdiff_t i = 0; i < t.size(); ++i) t[i] = double(i);
  const auto s1 = t.view().sample(1);
  CHECK(s1.shape() == Shape{1, 3, 2, 2});
  CHECK(s1.is_contiguous());
  CHECK(s1(0, 0, 0, 0) == 12.0);
  const auto ch = t.view().channels(1, 2);
  CHECK(!ch.is_contiguous());
  CHECK(ch(1, 0, 1, 1) == double(12 + 4 + 3));
  Tensor<double> dst({2, 2, 2, 2});
  copy(TensorView<const double>(ch), dst.view());
  CHECK(dst(1, 1, 0, 0) == double(12 + 8));
  CHECK(t.view().reshaped({1, 1, 4, 6})(0, 0, 3, 5) == 23.0);
  CHECK_THROWS_AS(t.view().reshaped({1, 1, 5, 5}), smlm::assertion_error);
  CHECK_THROWS_AS(ch.reshaped({1, 1, 1, 16}), smlm::assertion_error);
  CHECK_THROWS_AS(t.view().channels(2, 2), smlm::assertion_error);
  TensorView<const double> cv = t.view();  // mutable → const
  CHECK(cv.data() == t.data());
}
