// Samplers of distributions.hpp, tested statistically: for every parameter set the sample mean
// and variance lie within 4 standard errors of the exact values (the variance's standard error
// from the distribution's exact fourth central moment), and a Pearson chi-square test against
// the exact pmf / cdf gives p > 1e-5. Seeds are fixed, so every run draws the same numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>

namespace {

constexpr std::size_t draws = 1'000'000;  // per parameter set, also under sanitizers
constexpr std::uint64_t seed = 0xD15EA5E;  // every stream below is (seed, frame, purpose)
constexpr double min_p_value = 1e-5;

// --- reference mathematics (independent of the code under test) ------------------------------

// Regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): the series for P when x < a + 1,
// Lentz's continued fraction for Q otherwise (Abramowitz & Stegun 6.5.29, 6.5.31).
double gamma_q(double a, double x) {
  if (x <= 0) return 1;
  const double log_prefix = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    double term = 1 / a, sum = term;
    for (int n = 1; n < 100000 && term > sum * 1e-17; ++n) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * std::exp(log_prefix);
  }
  constexpr double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < 1e-16) break;
  }
  return std::exp(log_prefix) * h;
}
double gamma_p(double a, double x) { return 1 - gamma_q(a, x); }
double chi_square_p_value(double chi2, double dof) { return gamma_q(dof / 2, chi2 / 2); }

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double poisson_pmf(std::int64_t k, double mean) {
  const double kd = static_cast<double>(k);
  return std::exp(kd * std::log(mean) - mean - std::lgamma(kd + 1));
}

double binomial_pmf(std::int64_t k, std::int64_t n, double p) {
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  return std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
                  (nd - kd) * std::log1p(-p));
}

// --- statistical checks ----------------------------------------------------------------------

struct moments {
  double mean, variance, mu4;  // exact mean, variance and fourth central moment
};

// |x̄ − μ| ≤ 4·√(σ²/n) and |s² − σ²| ≤ 4·√((μ₄ − σ⁴(n−3)/(n−1))/n), the exact standard errors
// of the sample mean and of the unbiased sample variance.
template <class Sample>
void check_moments(const std::vector<Sample>& x, const moments& expected) {
  const double n = static_cast<double>(x.size());
  double mean = 0;
  for (const auto v : x) mean += static_cast<double>(v);
  mean /= n;
  double ss = 0;
  for (const auto v : x) ss += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  const double variance = ss / (n - 1);
  const double se_mean = std::sqrt(expected.variance / n);
  const double se_variance =
      std::sqrt((expected.mu4 - expected.variance * expected.variance * (n - 3) / (n - 1)) / n);
  CAPTURE(mean);
  CAPTURE(expected.mean);
  CAPTURE(se_mean);
  CAPTURE(variance);
  CAPTURE(expected.variance);
  CAPTURE(se_variance);
  CHECK(std::abs(mean - expected.mean) <= 4 * se_mean);
  CHECK(std::abs(variance - expected.variance) <= 4 * se_variance);
}

// Pearson chi-square of integer samples against pmf on {0, …, support_max}. Cells run from 0
// upwards, each closed once its expected count reaches 5 while at least 5 remain beyond it; the
// last cell takes the whole upper tail.
template <class Pmf>
double discrete_gof_p_value(const std::vector<std::int64_t>& x, Pmf pmf, std::int64_t support_max) {
  const double n = static_cast<double>(x.size());
  const std::int64_t x_max = *std::max_element(x.begin(), x.end());
  std::vector<double> observed(static_cast<std::size_t>(x_max) + 1);
  for (const auto v : x) observed[static_cast<std::size_t>(v)] += 1;
  auto observed_at = [&](std::int64_t k) { return k <= x_max ? observed[static_cast<std::size_t>(k)] : 0.0; };
  double chi2 = 0, o = 0, e = 0, cdf = 0;
  int cells = 0;
  for (std::int64_t k = 0; k <= support_max; ++k) {
    const double p = pmf(k);
    cdf += p;
    o += observed_at(k);
    e += n * p;
    const double tail = std::max(0.0, n * (1 - cdf));
    if (tail < 5 || k == support_max) {
      for (std::int64_t j = k + 1; j <= x_max; ++j) o += observed_at(j);
      e += tail;
      chi2 += (o - e) * (o - e) / e;
      ++cells;
      break;
    }
    if (e >= 5) {
      chi2 += (o - e) * (o - e) / e;
      ++cells;
      o = e = 0;
    }
  }
  CAPTURE(cells);
  CAPTURE(chi2);
  REQUIRE(cells >= 2);
  return chi_square_p_value(chi2, cells - 1);
}

// Pearson chi-square over `cells` equiprobable cells whose edges are the j/cells quantiles of
// cdf, found by bisection on [lo, hi] (so the test never uses the sampler's own inverse).
template <class Sample, class Cdf>
double continuous_gof_p_value(const std::vector<Sample>& x, Cdf cdf, double lo, double hi, int cells = 100) {
  std::vector<double> edges;
  for (int j = 1; j < cells; ++j) {
    double a = lo, b = hi;
    for (int it = 0; it < 200 && b - a > 0; ++it) {
      const double mid = a + (b - a) / 2;
      if (mid <= a || mid >= b) break;
      (cdf(mid) < static_cast<double>(j) / cells ? a : b) = mid;
    }
    edges.push_back(b);
  }
  // Cell index = number of edges ≤ v, by a branch-free binary search over the edges padded
  // with +∞ to a power of two.
  std::size_t width = 1;
  while (width < edges.size() + 1) width *= 2;
  edges.resize(width, std::numeric_limits<double>::infinity());
  std::vector<double> count(static_cast<std::size_t>(cells));
  for (const auto sample_value : x) {
    const double v = static_cast<double>(sample_value);
    std::size_t lo = 0;
    for (std::size_t step = width / 2; step > 0; step /= 2) lo += edges[lo + step - 1] <= v ? step : 0;
    count[lo] += 1;
  }
  const double e = static_cast<double>(x.size()) / cells;
  double chi2 = 0;
  for (const double o : count) chi2 += (o - e) * (o - e) / e;
  CAPTURE(chi2);
  return chi_square_p_value(chi2, cells - 1);
}

template <class F>
auto sample(std::uint32_t frame, F&& f) {
  smlm::Philox4x32 rng(seed, frame, smlm::rng_purpose::user);
  std::vector<decltype(f(rng))> x;
  x.reserve(draws);
  for (std::size_t i = 0; i < draws; ++i) x.push_back(f(rng));
  return x;
}

// Counts the 32-bit outputs a sampler takes.
struct counting_engine {
  smlm::Philox4x32 inner;
  std::uint64_t outputs = 0;
  std::uint32_t operator()() noexcept {
    ++outputs;
    return inner();
  }
  std::uint64_t next_u64() noexcept {
    outputs += 2;
    return inner.next_u64();
  }
};
static_assert(smlm::bit_engine<counting_engine>);

// Returns the same 64 bits for every next_u64() and their high half for every 32-bit output:
// drives the bit-to-number conversions to their extremes.
struct fixed_engine {
  std::uint64_t bits;
  std::uint32_t operator()() noexcept { return static_cast<std::uint32_t>(bits >> 32); }
  std::uint64_t next_u64() noexcept { return bits; }
};

}  // namespace

TEST_CASE("the chi-square reference functions reproduce tabulated values") {
  // The helpers above decide every goodness-of-fit verdict below; check them first.
  CHECK(chi_square_p_value(3.841458820694124, 1) == doctest::Approx(0.05).epsilon(1e-9));
  CHECK(chi_square_p_value(18.307038053275146, 10) == doctest::Approx(0.05).epsilon(1e-9));
  CHECK(chi_square_p_value(135.80672317102676, 99) == doctest::Approx(0.0080).epsilon(1e-2));
  CHECK(chi_square_p_value(99.0, 99) == doctest::Approx(0.4811).epsilon(1e-3));
  for (double x : {0.01, 0.5, 1.0, 3.0, 20.0}) {
    CAPTURE(x);
    CHECK(gamma_p(1, x) == doctest::Approx(-std::expm1(-x)).epsilon(1e-13));
    CHECK(gamma_p(0.5, x) == doctest::Approx(std::erf(std::sqrt(x))).epsilon(1e-13));
  }
}

TEST_CASE("normal_quantile inverts the normal cdf") {
  // Double (PPND16): Φ(Φ⁻¹(p)) = p to within a relative 1e-15·(1 + z²) (the z² term is
  // Φ's condition number for an error of one ulp in z), over 1e-300 ≤ p ≤ 1 − 1e-16.
  std::vector<double> ps;
  for (double p = 1e-300; p < 0.5; p *= 3.7) ps.push_back(p);
  for (int i = 1; i < 1000; ++i) ps.push_back(i / 1000.0);
  for (const double p : ps) {
    CAPTURE(p);
    const double z = smlm::normal_quantile(p);
    CHECK(std::abs(normal_cdf(z) - p) <= 1e-15 * (1 + z * z) * p);
    // Upper half: 1 − Φ(z) = Φ(−z) against 1 − q, exact for q ≥ ½.
    const double q = 1 - p;
    if (q < 1) {
      const double zq = smlm::normal_quantile(q);
      CHECK(std::abs(normal_cdf(-zq) - (1 - q)) <= 1e-15 * (1 + zq * zq) * (1 - q));
    }
    // Float (PPND7 evaluated in float): within the documented 3.5e-7·(1 + |z|) of PPND16.
    if (p > std::numeric_limits<float>::min()) {
      const float zf = smlm::normal_quantile(static_cast<float>(p));
      const double zd = smlm::normal_quantile(static_cast<double>(static_cast<float>(p)));
      CHECK(std::abs(zf - zd) <= 3.5e-7 * (1 + std::abs(zd)));
    }
  }
  CHECK(smlm::normal_quantile(0.5) == 0.0);
  CHECK(smlm::normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-15));
  CHECK_THROWS_AS(smlm::normal_quantile(0.0), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::normal_quantile(1.0f), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::normal_quantile(std::nan("")), smlm::assertion_error);
}

TEST_CASE("the log-factorial helpers agree with lgamma in long double") {
  constexpr long double half_log_2pi = 0.918938533204672741780329736405617639861L;
  for (int n = 1; n <= 2000; ++n) {
    CAPTURE(n);
    const long double nl = n;
    const long double delta = std::lgamma(nl + 1) - (nl * std::log(nl) - nl + half_log_2pi + std::log(nl) / 2);
    // Series truncation (n ≥ 16) < 1.1e-16; the long double reference carries ~1e-19·n ln n.
    CHECK(std::abs(smlm::detail::stirling_error(n) - static_cast<double>(delta)) <= 1.2e-16 + 4e-19 * n * std::log(n + 1.0));
  }
  for (double x = 1; x <= 0x1.0p20; x = x * 1.37 + 1) {
    CAPTURE(x);
    CHECK(std::abs(smlm::detail::constexpr_log(x) - std::log(x)) <= 4 * std::numeric_limits<double>::epsilon() * std::log(x) + 1e-300);
  }
  for (std::size_t k = 0; k < smlm::detail::log_factorials.size(); ++k) {
    CAPTURE(k);
    CHECK(std::abs(smlm::detail::log_factorials[k] - static_cast<double>(std::lgamma(static_cast<long double>(k) + 1))) <= 1e-12);
  }
  for (const double mean : {12.0, 1e3, 1e6, 1e12}) {
    for (const double offset : {-5.0, -1.0, 0.0, 1.0, 5.0}) {
      const double k = std::max(0.0, std::floor(mean + offset * std::sqrt(mean)));
      CAPTURE(mean);
      CAPTURE(k);
      const long double direct = k * std::log(static_cast<long double>(mean)) - mean - std::lgamma(static_cast<long double>(k) + 1);
      // long double's own rounding: ~1e-19 · mean · ln mean.
      CHECK(std::abs(smlm::detail::poisson_log_pmf(k, mean) - static_cast<double>(direct)) <= 1e-13 + 2e-18 * mean * std::log(mean));
    }
  }
  CHECK(smlm::detail::poisson_log_pmf(0, 30) == -30);
}

// Transformed rejection (PTRS, BTRD) proposes k = ⌊G(u)⌋, G(u) = (2a/u_s + b)·u + c,
// u_s = ½ − |u|, u uniform on (−½, ½); G is increasing and G'(u) = a/u_s² + b grows with |u|.
// It accepts when v·α/G'(u) ≤ f(k) (f the pmf up to a constant factor), which is exact only if
// f(k)·G'(u)/α ≤ 1 on every k-cell {u : ⌊G(u)⌋ = k} (the hat dominates), and its squeeze —
// accept when |u| ≤ 0.43 and v ≤ v_r — only if f(k)·G'(u)/α ≥ v_r there. G' is monotone in
// |u|, so both reduce to the end points of each cell. Returns
// {max ln(f·G'/α) over cells (must be ≤ 0), min ln(f·G'/(α·v_r)) over the squeeze (≥ 0)}.
struct rejection_margins {
  double domination = -std::numeric_limits<double>::infinity();
  double squeeze = std::numeric_limits<double>::infinity();
};
template <class LogF>
void transformed_rejection_margins(rejection_margins& r, double a, double b, double c, double alpha, double v_r,
                                   double k_first, double k_last, LogF log_f) {
  auto g_prime = [&](double u) { return a / ((0.5 - std::abs(u)) * (0.5 - std::abs(u))) + b; };
  // The u with G(u) = x: with d = x − c and w = |u|, b·w² − (2a + b/2 + |d|)·w + |d|/2 = 0,
  // whose root in [0, ½) is |d| / (B + √(B² − 2b|d|)), B = 2a + b/2 + |d|; u has d's sign.
  auto g_inverse = [&](double x) {
    const double d = std::abs(x - c), big_b = 2 * a + b / 2 + d;
    return std::copysign(d / (big_b + std::sqrt(big_b * big_b - 2 * b * d)), x - c);
  };
  double u0 = g_inverse(k_first);
  for (double k = k_first; k <= k_last; ++k) {
    const double u1 = g_inverse(k + 1);
    const double lf = log_f(k);
    r.domination = std::max(r.domination, lf + std::log(std::max(g_prime(u0), g_prime(u1)) / alpha));
    const double s0 = std::max(u0, -0.43), s1 = std::min(u1, 0.43);
    if (s0 < s1) {
      const double g_min = s0 <= 0 && s1 >= 0 ? g_prime(0) : std::min(g_prime(s0), g_prime(s1));
      r.squeeze = std::min(r.squeeze, lf + std::log(g_min / (alpha * v_r)));
    }
    u0 = u1;
  }
}

TEST_CASE("PTRS: the hat dominates the Poisson pmf and the squeeze lies inside the acceptance region") {
  // Means 10 … 10^5 in 1% steps, k within 8σ + 10 of the mean. (The published constants fail
  // both by ~0.6%; see ptrs_constants.)
  rejection_margins r;
  double smallest_squeezed = std::numeric_limits<double>::infinity();
  for (double mean = 10; mean < 1e5; mean *= 1.01) {
    const smlm::detail::ptrs_constants h(mean);
    const double spread = 8 * std::sqrt(mean) + 10;
    transformed_rejection_margins(r, h.a, h.b, mean + 0.43, h.alpha(), h.v_r, std::max(0.0, std::floor(mean - spread)),
                                  std::floor(mean + spread), [&](double k) { return smlm::detail::poisson_log_pmf(k, mean); });
    smallest_squeezed = std::min(smallest_squeezed, (2 * h.a / 0.07 + h.b) * -0.43 + mean + 0.43);
  }
  CAPTURE(r.domination);
  CAPTURE(r.squeeze);
  CHECK(r.domination <= 0);
  CHECK(r.squeeze >= 0);
  CHECK(smallest_squeezed > 0);  // so truncating the squeeze's values is flooring them
}

TEST_CASE("BTRD: the hat dominates the binomial pmf and the squeeze lies inside the acceptance region") {
  // f(k) = f(k)/f(m), from binomial_log_pmf_ratio (checked against lgamma below).
  rejection_margins r;
  int step1_outside = 0;
  for (const double n : {20.0, 21.0, 30.0, 50.0, 200.0, 1000.0, 1e4, 1e5}) {
    for (double p = 0.5; n * p >= smlm::binomial_btrd_min_mean; p *= 0.8) {
      const smlm::detail::btrd_constants h(static_cast<std::int64_t>(n), p);
      const double spread = 8 * std::sqrt(h.npq) + 10;
      transformed_rejection_margins(r, h.a, h.b, h.c, h.alpha, h.v_r, std::max(0.0, std::floor(h.m - spread)),
                                    std::min(n, std::floor(h.m + spread)),
                                    [&](double k) { return smlm::detail::binomial_log_pmf_ratio(k, h.m, h.n, h.r); });
      // Step 1 returns ⌊(2a/u_s + b)·u + c⌋ for |u| ≤ 0.43 unchecked: it must lie in [0, n].
      const double reach = 0.43 * (2 * h.a / 0.07 + h.b);
      step1_outside += !(h.c - reach >= 0 && h.c + reach < n + 1);
    }
  }
  CAPTURE(r.domination);
  CAPTURE(r.squeeze);
  CHECK(r.domination <= 0);
  CHECK(r.squeeze >= 0);
  CHECK(step1_outside == 0);
}

TEST_CASE("BTRD's squeeze brackets, and its Stirling form equals, ln f(k)/f(m)") {
  auto log_pmf = [](long double k, long double n, long double p) {
    return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) + k * std::log(p) + (n - k) * std::log1p(-p);
  };
  for (const double n : {20.0, 50.0, 200.0, 1000.0, 12345.0, 1e5, 1e6}) {
    for (const double p : {0.5, 0.4762, 0.3, 0.1, 0.05, 0.02, 0.0101, 1e-3, 1e-4}) {
      if (n * p < smlm::binomial_btrd_min_mean) continue;
      CAPTURE(n);
      CAPTURE(p);
      const smlm::detail::btrd_constants h(static_cast<std::int64_t>(n), p);
      const double step = std::max(1.0, std::floor(n / 3000));
      int above = 0, wrong_accept_region = 0, ratio_errors = 0;
      for (double k = 0; k <= n; k += step) {
        const double km = std::abs(k - h.m);
        if (km <= 15) continue;
        const long double exact = log_pmf(k, n, p) - log_pmf(h.m, n, p);
        const smlm::detail::btrd_squeeze squeeze(km, h.npq);
        above += exact > squeeze.t + squeeze.rho;
        // Below the lower bound only ≥ 7σ under the mode, where the bound is < −43.
        wrong_accept_region += exact < squeeze.t - squeeze.rho &&
                               !(h.m - k > 7 * std::sqrt(h.npq) && squeeze.t - squeeze.rho < -43);
        // Steps 3.3–3.4: rounding ~eps·(m + |ratio|); lgammal's own ~1e-19·n ln n.
        const double tolerance = 1e-14 * (h.m + std::abs(static_cast<double>(exact))) + 1e-18 * n * std::log(n);
        ratio_errors += std::abs(smlm::detail::binomial_log_pmf_ratio(k, h.m, h.n, h.r) - static_cast<double>(exact)) > tolerance;
      }
      CHECK(above == 0);
      CHECK(wrong_accept_region == 0);
      CHECK(ratio_errors == 0);
    }
  }
}

TEST_CASE("samplers take the documented number of engine outputs") {
  counting_engine rng{smlm::Philox4x32(seed, 1, smlm::rng_purpose::user)};
  auto outputs = [&](auto&& f) {
    const std::uint64_t before = rng.outputs;
    f();
    return rng.outputs - before;
  };
  for (int i = 0; i < 1000; ++i) {
    CHECK(outputs([&] { smlm::normal<float>(rng); }) == 1);
    CHECK(outputs([&] { smlm::normal<double>(rng); }) == 2);
    CHECK(outputs([&] { smlm::exponential<float>(rng); }) == 1);
    CHECK(outputs([&] { smlm::exponential<double>(rng); }) == 2);
    CHECK(outputs([&] { smlm::uniform(rng, -1.0f, 1.0f); }) == 1);
    CHECK(outputs([&] { smlm::poisson(rng, 7.5f); }) == 1);
    CHECK(outputs([&] { smlm::poisson(rng, 7.5); }) == 2);
    CHECK(outputs([&] { smlm::binomial(rng, 30, 0.1f); }) == 1);
    CHECK(outputs([&] { smlm::poisson(rng, 0.0); }) == 0);
    CHECK(outputs([&] { smlm::binomial(rng, 30, 1.0); }) == 0);
    CHECK(outputs([&] { smlm::binomial(rng, 0, 0.5); }) == 0);
  }
  // PTRS: two uniforms per trial, 1.15 trials per sample at mean 500 (documented 1.1–1.3).
  const std::uint64_t before = rng.outputs;
  for (std::size_t i = 0; i < 100'000; ++i) smlm::poisson(rng, 500.0f);
  const double per_sample = static_cast<double>(rng.outputs - before) / 100'000;
  CAPTURE(per_sample);
  CHECK(per_sample >= 2 * 1.1);
  CHECK(per_sample <= 2 * 1.2);
}

TEST_CASE("samplers are noexcept where they have no precondition") {
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  static_assert(noexcept(smlm::normal<float>(rng)));
  static_assert(noexcept(smlm::normal<double>(rng)));
  static_assert(noexcept(smlm::exponential<float>(rng)));
  static_assert(noexcept(smlm::exponential<double>(rng)));
  CHECK(std::isfinite(smlm::normal<double>(rng)));
}

TEST_CASE_TEMPLATE("uniform(lo, hi)", T, float, double) {
  CAPTURE(seed);
  struct parameters {
    T lo, hi;
    std::uint32_t frame;
  };
  for (const auto& set : {parameters{T(-3), T(5), 10}, parameters{T(0), T(1), 11}}) {
    const T lo = set.lo, hi = set.hi;
    const std::uint32_t frame = set.frame;
    CAPTURE(lo);
    CAPTURE(hi);
    const auto x = sample(frame, [&](auto& rng) { return smlm::uniform(rng, lo, hi); });
    const double w = static_cast<double>(hi - lo);
    check_moments(x, {(lo + hi) / 2.0, w * w / 12, w * w * w * w / 80});
    CHECK(*std::min_element(x.begin(), x.end()) >= lo);
    CHECK(*std::max_element(x.begin(), x.end()) <= hi);
    CHECK(continuous_gof_p_value(x, [&](double v) { return (v - lo) / w; }, lo, hi) > min_p_value);
  }
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  CHECK(smlm::uniform(rng, T(2), T(2)) == T(2));
  CHECK_THROWS_AS(smlm::uniform(rng, T(1), T(0)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::uniform(rng, T(0), std::numeric_limits<T>::infinity()), smlm::assertion_error);
}

TEST_CASE_TEMPLATE("normal", T, float, double) {
  CAPTURE(seed);
  SUBCASE("standard") {
    const auto x = sample(20, [](auto& rng) { return smlm::normal<T>(rng); });
    check_moments(x, {0, 1, 3});
    CHECK(continuous_gof_p_value(x, normal_cdf, -40, 40) > min_p_value);
  }
  SUBCASE("mean 3, sd 2") {
    const auto x = sample(21, [](auto& rng) { return smlm::normal(rng, T(3), T(2)); });
    check_moments(x, {3, 4, 3 * 16});
    CHECK(continuous_gof_p_value(x, [](double v) { return normal_cdf((v - 3) / 2); }, -80, 80) > min_p_value);
  }
  SUBCASE("the tails end where documented") {
    // Sign bit clear and the smallest magnitude: p = 2^-32 (float) / 2^-64 (double).
    fixed_engine lowest{0}, highest{0x8000000000000000u}, middle{0x7FFFFFFFFFFFFFFFu};
    const double p_min = std::is_same_v<T, float> ? 0x1.0p-32 : 0x1.0p-64;
    const auto z_min = static_cast<double>(smlm::normal<T>(lowest));
    CHECK(z_min < -6);
    CHECK(normal_cdf(z_min) == doctest::Approx(p_min).epsilon(1e-5));
    CHECK(static_cast<double>(smlm::normal<T>(highest)) == -z_min);
    CHECK(std::abs(smlm::normal<T>(middle)) < T(1e-6));  // p at the cell next to ½
  }
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  CHECK(smlm::normal(rng, T(5), T(0)) == T(5));
  CHECK_THROWS_AS(smlm::normal(rng, T(0), T(-1)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::normal(rng, T(0), std::numeric_limits<T>::quiet_NaN()), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::normal(rng, std::numeric_limits<T>::infinity(), T(1)), smlm::assertion_error);
}

TEST_CASE_TEMPLATE("exponential", T, float, double) {
  CAPTURE(seed);
  std::uint32_t frame = 30;
  for (const T rate : {T(1), T(2.5)}) {
    CAPTURE(rate);
    const auto x = sample(frame++, [&](auto& rng) { return rate == T(1) ? smlm::exponential<T>(rng) : smlm::exponential(rng, rate); });
    const double r = rate;
    check_moments(x, {1 / r, 1 / (r * r), 9 / (r * r * r * r)});
    CHECK(*std::min_element(x.begin(), x.end()) >= T(0));
    CHECK(continuous_gof_p_value(x, [&](double v) { return -std::expm1(-r * v); }, 0, 100 / r) > min_p_value);
  }
  fixed_engine zeros{0}, ones{~std::uint64_t{0}};
  const T largest = smlm::exponential<T>(zeros);
  CHECK(std::isfinite(largest));
  CHECK(static_cast<double>(largest) == doctest::Approx(std::is_same_v<T, float> ? 31 * std::log(2.0) : 63 * std::log(2.0)));
  CHECK(smlm::exponential<T>(ones) >= T(0));
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  CHECK_THROWS_AS(smlm::exponential(rng, T(0)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::exponential(rng, std::numeric_limits<T>::quiet_NaN()), smlm::assertion_error);
}

TEST_CASE_TEMPLATE("poisson", T, float, double) {
  CAPTURE(seed);
  // Means on both sides of the inversion/PTRS crossover (12) and far into PTRS.
  std::uint32_t frame = 40;
  for (const double mean : {0.1, 3.0, 11.9, 12.1, 50.0, 1e4}) {
    CAPTURE(mean);
    const auto x = sample(frame++, [&](auto& rng) { return smlm::poisson(rng, static_cast<T>(mean)); });
    const double mu = static_cast<T>(mean);
    check_moments(x, {mu, mu, mu * (1 + 3 * mu)});
    CHECK(*std::min_element(x.begin(), x.end()) >= 0);
    CHECK(discrete_gof_p_value(x, [&](std::int64_t k) { return poisson_pmf(k, mu); }, 100 + static_cast<std::int64_t>(10 * mu)) >
          min_p_value);
  }
}

TEST_CASE("poisson edge cases and preconditions") {
  smlm::Philox4x32 rng(seed, 50, smlm::rng_purpose::user);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(smlm::poisson(rng, 0.0) == 0);
    REQUIRE(smlm::poisson(rng, 0.0f) == 0);
    REQUIRE(smlm::poisson(rng, 1e-300) == 0);
  }
  // Very large means: mean and spread still right (PTRS with poisson_log_pmf beyond the table).
  double sum = 0, sum2 = 0;
  constexpr int n = 20000;
  const double mean = 1e12;
  for (int i = 0; i < n; ++i) {
    const double d = static_cast<double>(smlm::poisson(rng, mean)) - mean;
    sum += d;
    sum2 += d * d;
  }
  CHECK(std::abs(sum / n) <= 4 * std::sqrt(mean / n));
  CHECK(sum2 / n == doctest::Approx(mean).epsilon(4 * std::sqrt(2.0 / n)));
  CHECK_THROWS_AS(smlm::poisson(rng, -1.0), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::poisson(rng, -0.0f - 1e-30f), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::poisson(rng, std::nan("")), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::poisson(rng, std::numeric_limits<double>::infinity()), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::poisson(rng, 1e17), smlm::assertion_error);
}

TEST_CASE_TEMPLATE("gamma", T, float, double) {
  CAPTURE(seed);
  // Shapes below 1 (boost), at 1 (exponential), small and large; scale 1.5.
  std::uint32_t frame = 60;
  const double scale = 1.5;
  for (const double shape : {0.3, 1.0, 2.5, 100.0}) {
    CAPTURE(shape);
    const auto x = sample(frame++, [&](auto& rng) { return smlm::gamma(rng, static_cast<T>(shape), static_cast<T>(scale)); });
    const double s2 = scale * scale;
    check_moments(x, {shape * scale, shape * s2, 3 * shape * (shape + 2) * s2 * s2});
    CHECK(*std::min_element(x.begin(), x.end()) >= T(0));
    CHECK(continuous_gof_p_value(x, [&](double v) { return gamma_p(shape, v / scale); }, 0,
                                 (shape + 50 * std::sqrt(shape) + 100) * scale) > min_p_value);
  }
  smlm::Philox4x32 rng(seed, 69, smlm::rng_purpose::user);
  for (int i = 0; i < 1000; ++i) {
    const T tiny_shape = smlm::gamma(rng, T(1e-3));
    REQUIRE(tiny_shape >= T(0));
    REQUIRE(std::isfinite(tiny_shape));
    REQUIRE(std::isfinite(smlm::gamma(rng, T(1e6))));
  }
  CHECK_THROWS_AS(smlm::gamma(rng, T(0)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::gamma(rng, T(-1)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::gamma(rng, std::numeric_limits<T>::quiet_NaN()), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::gamma(rng, T(2), T(0)), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::gamma(rng, T(2), std::numeric_limits<T>::infinity()), smlm::assertion_error);
}

TEST_CASE_TEMPLATE("binomial", T, float, double) {
  CAPTURE(seed);
  // Inversion: (10, 0.3), (100, 0.95) via symmetry. BTRD: (1000, 0.02), (1000, 0.7) via
  // symmetry, (50, 0.5), (20, 0.5) at n·p = 10, and (10^5, 0.3), where most trials reach the
  // squeeze (step 3.2) and the final test (3.4).
  struct parameters {
    std::int64_t n;
    double p;
  };
  std::uint32_t frame = 80;
  for (const auto& set : {parameters{10, 0.3}, parameters{100, 0.95}, parameters{1000, 0.02}, parameters{1000, 0.7},
                          parameters{50, 0.5}, parameters{20, 0.5}, parameters{100000, 0.3}}) {
    const std::int64_t n = set.n;
    const double p_in = set.p;
    CAPTURE(n);
    CAPTURE(p_in);
    const double p = static_cast<T>(p_in);
    const auto x = sample(frame++, [&](auto& rng) { return smlm::binomial(rng, n, static_cast<T>(p)); });
    const double npq = static_cast<double>(n) * p * (1 - p);
    check_moments(x, {static_cast<double>(n) * p, npq, npq * (1 + 3 * (static_cast<double>(n) - 2) * p * (1 - p))});
    CHECK(*std::min_element(x.begin(), x.end()) >= 0);
    CHECK(*std::max_element(x.begin(), x.end()) <= n);
    CHECK(discrete_gof_p_value(x, [&](std::int64_t k) { return binomial_pmf(k, n, p); }, n) > min_p_value);
  }
}

TEST_CASE("binomial edge cases and preconditions") {
  smlm::Philox4x32 rng(seed, 90, smlm::rng_purpose::user);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(smlm::binomial(rng, 0, 0.5) == 0);
    REQUIRE(smlm::binomial(rng, 1000, 0.0) == 0);
    REQUIRE(smlm::binomial(rng, 1000, 1.0f) == 1000);
    const auto one = smlm::binomial(rng, 1, 0.5);
    REQUIRE((one == 0 || one == 1));
    // Either side of the inversion/BTRD switch at n·p = 10, and huge n.
    for (const auto& [n, p] : {std::pair{1001, 0.00999}, std::pair{1001, 0.01001}, std::pair{21, 0.4762}}) {
      const auto x = smlm::binomial(rng, n, p);
      REQUIRE(x >= 0);
      REQUIRE(x <= std::int64_t{n});
    }
    const auto big = smlm::binomial(rng, std::int64_t{1} << 40, 0.25);
    REQUIRE(std::abs(static_cast<double>(big) - 0x1.0p38) < 6 * std::sqrt(0x1.0p38 * 0.75));
  }
  CHECK_THROWS_AS(smlm::binomial(rng, -1, 0.5), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::binomial(rng, 10, -0.1), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::binomial(rng, 10, 1.1f), smlm::assertion_error);
  CHECK_THROWS_AS(smlm::binomial(rng, 10, std::nan("")), smlm::assertion_error);
}

TEST_CASE("samplers accept any bit_engine") {
  // A 64-bit SplitMix engine (Steele, Lea & Flood 2014): not Philox, same interface.
  struct splitmix {
    std::uint64_t state;
    std::uint64_t next_u64() noexcept {
      std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      return z ^ (z >> 31);
    }
    std::uint32_t operator()() noexcept { return static_cast<std::uint32_t>(next_u64() >> 32); }
  };
  static_assert(smlm::bit_engine<splitmix>);
  splitmix rng{seed};
  double sum = 0;
  constexpr int n = 100000;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(smlm::poisson(rng, 20.0f)) + smlm::normal<double>(rng);
  CHECK(std::abs(sum / n - 20) <= 4 * std::sqrt(21.0 / n));
  CHECK(smlm::gamma(rng, 2.0) > 0);
  CHECK(smlm::binomial(rng, 100, 0.5) <= 100);
}
