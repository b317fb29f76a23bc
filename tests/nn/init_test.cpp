// init.hpp: the initialisers' statistics, orthogonality, and reproducibility from (seed, stream).
#include <doctest/doctest.h>

#include <cmath>
#include <smlm/nn/init.hpp>

using namespace smlm::nn;

TEST_CASE("he_normal and glorot_uniform: variance and range as specified") {
  Parameter<double> w({64, 32, 3, 3});  // fan_in 288, fan_out 576, 18432 values
  he_normal(w, 11, 0);
  double s = 0, sq = 0;
  for (double v : w.value) s += v, sq += v * v;
  const double n = double(w.value.size()), var = 2.0 / 288;
  CHECK(std::abs(s / n) < 5 * std::sqrt(var / n));
  CHECK(sq / n == doctest::Approx(var).epsilon(5 * std::sqrt(2.0 / n)));  // 5 SE of the sample variance
  glorot_uniform(w, 11, 1);
  const double a = std::sqrt(6.0 / (288 + 576));
  double mx = 0;
  sq = 0;
  for (double v : w.value) mx = std::max(mx, std::abs(v)), sq += v * v;
  CHECK(mx <= a);
  CHECK(mx > 0.99 * a);
  CHECK(sq / n == doctest::Approx(a * a / 3).epsilon(0.05));
}

TEST_CASE("orthogonal: orthonormal rows (wide) or columns (tall), times gain") {
  for (const Shape s : {Shape{4, 3, 3, 3}, Shape{40, 2, 2, 2}}) {
    Parameter<double> w(s);
    orthogonal(w, 5, 2, 1.5);
    const std::ptrdiff_t rows = s.n, cols = s.c * s.h * s.w;
    const bool wide = rows <= cols;
    const std::ptrdiff_t m = wide ? rows : cols;
    for (std::ptrdiff_t i = 0; i < m; ++i)
      for (std::ptrdiff_t j = 0; j < m; ++j) {
        double d = 0;
        for (std::ptrdiff_t k = 0; k < (wide ? cols : rows); ++k)
          d += wide ? w.value[i * cols + k] * w.value[j * cols + k] : w.value[k * cols + i] * w.value[k * cols + j];
        CHECK(d == doctest::Approx(i == j ? 2.25 : 0.0).epsilon(1e-9).scale(1));
      }
  }
}

TEST_CASE("initialisers depend only on (seed, stream)") {
  Parameter<float> a({8, 4, 3, 3}), b({8, 4, 3, 3}), c({8, 4, 3, 3});
  he_normal(a, 3, 7);
  he_normal(b, 3, 7);
  he_normal(c, 3, 8);
  int same = 0, differ = 0;
  for (std::ptrdiff_t i = 0; i < a.value.size(); ++i) same += a.value[i] == b.value[i], differ += a.value[i] != c.value[i];
  CHECK(same == a.value.size());
  CHECK(differ == a.value.size());
}
