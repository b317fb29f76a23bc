// Samplers over any bit_engine (rng.hpp): uniform, normal, exponential, Poisson, gamma, binomial.
//
// Every sampler is noexcept, or SMLM_NOEXCEPT where its only failure is a violated precondition
// (SMLM_ASSERT); none allocates or throws, and all build with -fno-exceptions -fno-rtti. With
// assertions compiled out a violated precondition still returns (never loops): NaN for the
// continuous samplers that reject (gamma), 0 for the discrete ones.
//
// Scalar type T is float or double (sampler_scalar):
//  - uniform, normal, exponential compute in T. float takes one 32-bit engine output per
//    sample, double two (next_u64).
//  - poisson and binomial take their parameter as T and return std::int64_t. They compute in
//    double whatever T is (the rejection tests compare log-probabilities of size mean·ln mean,
//    which float cannot resolve); T only sets the resolution of their uniforms: 32 bits (one
//    output) for float, 53 bits (two outputs) for double.
//  - gamma computes in double as well, its normal and uniform draws come in T, it returns T.
//
// Engine outputs (32-bit) per sample, float / double:
//   uniform01, uniform, normal, exponential    1 / 2, always
//   poisson, mean < poisson_ptrs_min_mean      1 / 2 (sequential-search inversion)
//   poisson, mean ≥ poisson_ptrs_min_mean      2 / 4 per PTRS trial; trials per sample 1.30 at
//                                              mean 12, 1.20 at 50, 1.15 at 500, 1.13 beyond 10^4
//   binomial, n·min(p, 1−p) < 10               1 / 2 (inversion)
//   binomial, otherwise (BTRD)                 1 or 2 uniforms per trial; 1.4–2.1 uniforms per
//                                              sample (2.1 at n·p·q ≈ 12, 1.4 at n·p·q = 2·10^4)
//   gamma                                      2 / 4 per Marsaglia–Tsang trial (1.05 trials at
//                                              shape 1, → 1 as shape grows), plus one uniform
//                                              when shape < 1
// (trial counts measured over 10^6 samples.)
// Normal sampling is by inversion so that its draw count is one uniform, fixed; the rejection
// samplers (PTRS, BTRD, Marsaglia–Tsang) draw a random number of uniforms, so a stream shared by
// several samplers must be used in the same order for the same result.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <smlm/core/config.hpp>
#include <smlm/core/rng.hpp>

namespace smlm {

/// The scalar types the samplers are defined for.
template <class T>
concept sampler_scalar = std::same_as<T, float> || std::same_as<T, double>;

/// Means at and above this use PTRS, below it sequential-search inversion. Both are exact.
/// PTRS (cost falling slowly with μ) and inversion (cost growing ∝ μ) take the same time near
/// μ = 12–14 (BM_poisson_ptrs vs BM_poisson_inversion in benchmarks/bench_core.cpp); 12 also
/// keeps inversion's 64-step table far from its tail (P(K > 63) < 1e-19) and lies above the
/// μ ≥ 10 for which Hörmann states PTRS.
inline constexpr double poisson_ptrs_min_mean = 12.0;
/// Largest Poisson mean accepted: PTRS forms ⌊(2a/u_s + b)·U + μ + 0.43⌋ in double, exact to 2^52.
inline constexpr double poisson_max_mean = 0x1.0p52;
/// Binomial uses BTRD when n·min(p, 1−p) is at least this (Hörmann's condition), else inversion.
inline constexpr double binomial_btrd_min_mean = 10.0;
/// Largest binomial n accepted (n and n−k must be exact in double).
inline constexpr std::int64_t binomial_max_n = std::int64_t{1} << 53;

namespace detail {

/// Uniform on [0, 1) as a double: 32 random bits (one output) for T = float, 53 (two) for double.
template <sampler_scalar T, bit_engine Rng>
inline double uniform01_wide(Rng& rng) noexcept {
  if constexpr (std::same_as<T, float>) {
    return static_cast<double>(rng()) * 0x1.0p-32;
  } else {
    return static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;
  }
}

/// Uniform on (0, 1], resolved to 2^-31 (float, one output) or 2^-63 (double, two) near 0, so
/// −ln u is finite and reaches 21.5 (float) or 43.7 (double). 1 is returned only by rounding.
template <sampler_scalar T, bit_engine Rng>
inline T uniform01_nonzero(Rng& rng) noexcept {
  if constexpr (std::same_as<T, float>) {
    return static_cast<float>(static_cast<std::int32_t>((rng() >> 1) | 1u)) * 0x1.0p-31f;
  } else {
    return static_cast<double>(static_cast<std::int64_t>((rng.next_u64() >> 1) | 1u)) * 0x1.0p-63;
  }
}

/// Φ⁻¹(p) for 0 < p ≤ 1/2 (so the result is ≤ 0). M. J. Wichura, "Algorithm AS 241: the
/// percentage points of the normal distribution", Applied Statistics 37 (1988) 477–484:
/// PPND16 (relative error ~1e-16) for double, PPND7 evaluated in float for float (error
/// ≤ 3.5e-7·(1 + |z|) over all float p, measured against PPND16); coefficients as published.
/// Regions: |p − ½| ≤ 0.425 rational in (p − ½)²; otherwise r = √(−ln p), rational in r − 1.6
/// for r ≤ 5 and in r − 5 beyond.
template <sampler_scalar T>
inline T normal_quantile_lower(T p) noexcept {
  const T q = p - T(0.5);
  if constexpr (std::same_as<T, float>) {
    if (q >= -0.425f) {
      const float r = 0.180625f - q * q;
      return q * (((5.9109374720e+01f * r + 1.5929113202e+02f) * r + 5.0434271938e+01f) * r +
                  3.3871327179e+00f) /
             (((6.7187563600e+01f * r + 7.8757757664e+01f) * r + 1.7895169469e+01f) * r + 1.0f);
    }
    float r = std::sqrt(-std::log(p));
    if (r <= 5.0f) {
      r -= 1.6f;
      return -(((1.7023821103e-01f * r + 1.3067284816e+00f) * r + 2.7568153900e+00f) * r +
               1.4234372777e+00f) /
             ((1.2021132975e-01f * r + 7.3700164250e-01f) * r + 1.0f);
    }
    r -= 5.0f;
    return -(((1.7337203997e-02f * r + 4.2868294337e-01f) * r + 3.0812263860e+00f) * r +
             6.6579051150e+00f) /
           ((1.2258202635e-02f * r + 2.4197894225e-01f) * r + 1.0f);
  } else {
    if (q >= -0.425) {
      const double r = 0.180625 - q * q;
      return q *
             (((((((2.5090809287301226727e+03 * r + 3.3430575583588128105e+04) * r +
                   6.7265770927008700853e+04) * r + 4.5921953931549871457e+04) * r +
                 1.3731693765509461125e+04) * r + 1.9715909503065514427e+03) * r +
               1.3314166789178437745e+02) * r + 3.3871328727963666080e+00) /
             (((((((5.2264952788528545610e+03 * r + 2.8729085735721942674e+04) * r +
                   3.9307895800092710610e+04) * r + 2.1213794301586595867e+04) * r +
                 5.3941960214247511077e+03) * r + 6.8718700749205790830e+02) * r +
               4.2313330701600911252e+01) * r + 1.0);
    }
    double r = std::sqrt(-std::log(p));
    if (r <= 5.0) {
      r -= 1.6;
      return -(((((((7.74545014278341407640e-04 * r + 2.27238449892691845833e-02) * r +
                    2.41780725177450611770e-01) * r + 1.27045825245236838258e+00) * r +
                  3.64784832476320460504e+00) * r + 5.76949722146069140550e+00) * r +
                4.63033784615654529590e+00) * r + 1.42343711074968357734e+00) /
             (((((((1.05075007164441684324e-09 * r + 5.47593808499534494600e-04) * r +
                   1.51986665636164571966e-02) * r + 1.48103976427480074590e-01) * r +
                 6.89767334985100004550e-01) * r + 1.67638483018380384940e+00) * r +
               2.05319162663775882187e+00) * r + 1.0);
    }
    r -= 5.0;
    return -(((((((2.01033439929228813265e-07 * r + 2.71155556874348757815e-05) * r +
                  1.24266094738807843860e-03) * r + 2.65321895265761230930e-02) * r +
                2.96560571828504891230e-01) * r + 1.78482653991729133580e+00) * r +
              5.46378491116411436990e+00) * r + 6.65790464350110377720e+00) /
           (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-07) * r +
                 1.84631831751005468180e-05) * r + 7.86869131145613259100e-04) * r +
               1.48753612908506148525e-02) * r + 1.36929880922735805310e-01) * r +
             5.99832206555887937690e-01) * r + 1.0);
  }
}

/// δ(n) = ln n! − (n ln n − n + ½ ln 2πn), the error of Stirling's formula, for n ≥ 1.
/// n ≤ 15: tabulated (values as in C. Loader, "Fast and accurate computation of binomial
/// probabilities", 2000, and R's nmath/stirlerr.c); n ≥ 16: the asymptotic series
/// 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷) + 1/(1188n⁹), whose truncation error
/// (< 691/(360360 n¹¹)) is below 1.1e-16 at n = 16 and falls fast.
/// Hörmann's BTRD correction is fc(k) = δ(k + 1).
inline double stirling_error(double n) noexcept {
  static constexpr std::array<double, 16> table = {
      0.0,  // unused: δ(0) is not defined
      0.0810614667953272582196702,   0.0413406959554092940938221,  0.02767792568499833914878929,
      0.02079067210376509311152277,  0.01664469118982119216319487, 0.01387612882307074799874573,
      0.01189670994589177009505572,  0.010411265261972096497478567, 0.009255462182712732917728637,
      0.008330563433362871256469318, 0.007573675487951840794972024, 0.006942840107209529865664152,
      0.006408994188004207068439631, 0.005951370112758847735624416, 0.005554733551962801371038690};
  if (n <= 15) return table[static_cast<std::size_t>(n)];
  const double nn = n * n;
  return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * nn)) / nn) / nn) / nn) / n;
}

/// ln P(K = k) for K ~ Poisson(μ), k ≥ 0 an integer value, written without the cancellation of
/// −μ + k ln μ − ln k! (whose terms are ~μ ln μ):
///   ln p(k) = k·(log1p(x) − x) − ½ ln(2πk) − δ(k),  x = (μ − k)/k,   ln p(0) = −μ;
/// absolute error ~ eps·(|μ − k| + ln k).
inline double poisson_log_pmf(double k, double mean) noexcept {
  if (k == 0) return -mean;
  const double x = (mean - k) / k;
  return k * (std::log1p(x) - x) - 0.5 * std::log(2 * 3.14159265358979323846 * k) - stirling_error(k);
}

/// ln x for x ≥ 1 in constant expressions (std::log is not constexpr): x = m·2^e with
/// m in [1, 2), ln m = 2·atanh((m − 1)/(m + 1)) summed to convergence (within 4 ulp of
/// std::log for 1 ≤ x ≤ 2^20, distributions_test).
constexpr double constexpr_log(double x) noexcept {
  int e = 0;
  while (x >= 2) {
    x /= 2;
    ++e;
  }
  const double s = (x - 1) / (x + 1), s2 = s * s;
  double term = s, sum = 0;
  for (int i = 1; i < 80; i += 2) {
    sum += term / i;
    term *= s2;
  }
  return 2 * sum + e * 0.693147180559945309417232121458176568;
}

/// ln k! for k = 0..255, summed at compile time (absolute error < 1e-12, checked against
/// lgamma in distributions_test). Lets PTRS evaluate ln p(k) = k ln μ − μ − ln k! with one
/// table read where the slow path is frequent (means up to a few hundred); the terms are
/// below 1500, so rounding costs < 1e-12.
inline constexpr std::array<double, 256> log_factorials = [] {
  std::array<double, 256> t{};
  for (std::size_t k = 2; k < t.size(); ++k) t[k] = t[k - 1] + constexpr_log(static_cast<double>(k));
  return t;
}();

/// 1/k for k = 0..64 (entry 0 unused): the inversion loops multiply instead of divide.
inline constexpr std::array<double, 65> reciprocals = [] {
  std::array<double, 65> r{};
  for (int k = 1; k < 65; ++k) r[static_cast<std::size_t>(k)] = 1.0 / k;
  return r;
}();

/// Poisson(μ), 0 < μ < poisson_ptrs_min_mean, by inversion: the smallest k with u < F(k), with
/// F accumulated from p(0) = e^−μ by p(k) = p(k−1)·μ/k. One uniform per sample; a redraw happens
/// only when u exceeds the accumulated F(63), which for μ < 16 means u > 1 − 1e-19 (rounding).
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t poisson_inversion(Rng& rng, double mean) noexcept {
  const double p0 = std::exp(-mean);
  for (;;) {
    const double u = uniform01_wide<T>(rng);
    double p = p0, cdf = p0;
    for (std::size_t k = 0; k < 64;) {
      if (u < cdf) return static_cast<std::int64_t>(k);
      ++k;
      p *= mean * reciprocals[k];
      cdf += p;
    }
  }
}

/// The constants of Hörmann's PTRS for mean μ ≥ 10 (see poisson_ptrs): the transformation
/// k = ⌊G(u)⌋, G(u) = (2a/u_s + b)·u + μ + 0.43, u_s = ½ − |u|, whose derivative
/// G'(u) = a/u_s² + b is the reciprocal hat density; the hat scale α (numpy's `invalpha`);
/// the squeeze level v_r.
///
/// Deviation from the paper and numpy: α is 1% larger and v_r 2% smaller. With the published
/// values the hat falls short of the pmf by up to 0.58% (p(k)·G'(u)/α = 1.0058 near |u| = 0.44,
/// e.g. μ = 14.07) and the squeeze reaches 0.61% outside the acceptance region (|u| = 0.43,
/// μ = 28.45, k = 18), which biases single probabilities by up to 3e-5. The adjusted values
/// leave both conditions with a margin ≥ 0.4% for 10 ≤ μ ≤ 3·10^4 (checked at the end points of
/// every k-cell, μ in 0.07% steps; distributions_test repeats the check on a coarser grid), at
/// the price of ~2% more trials that need the logarithmic test.
struct ptrs_constants {
  double b, a, v_r;
  explicit ptrs_constants(double mean) noexcept
      : b(0.931 + 2.53 * std::sqrt(mean)), a(-0.059 + 0.02483 * b), v_r(0.98 * (0.9277 - 3.6224 / (b - 2))) {}
  /// Needed only by trials that reach the logarithmic test.
  double alpha() const noexcept { return 1.01 * (1.1239 + 1.1328 / (b - 3.4)); }
};

/// Poisson(μ), μ ≥ 10, by W. Hörmann's PTRS, "The transformed rejection method for generating
/// Poisson random variables", Insurance: Mathematics and Economics 12 (1993) 39–45, as in
/// numpy's random_poisson_ptrs but for two constants (see ptrs_constants). Exact: accept k
/// when v·α/G'(u) ≤ p(k), the hat α/G' dominating p. The squeeze u_s ≥ 0.07 ∧ v ≤ v_r lies
/// inside the acceptance region and accepts without a logarithm a share of trials that grows
/// with μ (v_r = 0.45 at μ = 12, 0.85 at μ = 500); u_s < 0.013 ∧ v > u_s lies outside it.
/// The final test takes ln k! from log_factorials for k < 256 and poisson_log_pmf beyond,
/// never lgamma (which cancels for large μ, and is not thread-safe in glibc). Further
/// deviations: u = −½ (u_s = 0, k = −∞) and k ≥ 2^62 are rejected before dividing by u_s or
/// converting to an integer.
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t poisson_ptrs(Rng& rng, double mean) noexcept {
  const ptrs_constants h(mean);
  double log_mean = -1;  // ln μ > 2.3 once computed
  for (;;) {
    const double u = uniform01_wide<T>(rng) - 0.5;
    const double v = uniform01_wide<T>(rng);
    const double us = 0.5 - std::abs(u);
    if (us == 0) continue;  // u = −½: k = −∞, rejected (tested here to avoid dividing by 0)
    const double inv_us = 1 / us;
    const double kd = (2 * h.a * inv_us + h.b) * u + mean + 0.43;
    // With u_s ≥ 0.07, |u| ≤ 0.43 and a < 0.0249·b, so kd ≥ μ + 0.43 − 0.74·b > 0 for μ ≥ 10:
    // truncation is the floor.
    if (us >= 0.07 && v <= h.v_r) return static_cast<std::int64_t>(kd);
    if (!(kd >= 0 && kd < 0x1.0p62) || (us < 0.013 && v > us)) continue;
    const auto k = static_cast<std::int64_t>(kd);
    double log_pmf;
    if (k < static_cast<std::int64_t>(log_factorials.size())) {
      if (log_mean < 0) log_mean = std::log(mean);
      log_pmf = static_cast<double>(k) * log_mean - mean - log_factorials[static_cast<std::size_t>(k)];
    } else {
      log_pmf = poisson_log_pmf(static_cast<double>(k), mean);
    }
    if (std::log(v * h.alpha() / (h.a * inv_us * inv_us + h.b)) <= log_pmf) return k;
  }
}

/// Binomial(n, p), p ≤ ½, n·p < binomial_btrd_min_mean, by inversion: the smallest x with
/// u < F(x), F accumulated from f(0) = (1 − p)^n by f(x) = f(x−1)·((n+1)/x − 1)·p/(1−p). One
/// uniform per sample; x is capped at min(n, 63) with a redraw beyond (P(X > 63) < 1e-19).
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t binomial_inversion(Rng& rng, std::int64_t n, double p) noexcept {
  const double s = p / (1 - p);
  const double a = static_cast<double>(n + 1) * s;
  const double f0 = std::exp(static_cast<double>(n) * std::log1p(-p));
  const std::size_t last = n < 63 ? static_cast<std::size_t>(n) : 63;
  for (;;) {
    const double u = uniform01_wide<T>(rng);
    double f = f0, cdf = f0;
    for (std::size_t x = 0;; ) {
      if (u < cdf) return static_cast<std::int64_t>(x);
      if (x == last) break;
      ++x;
      f *= a * reciprocals[x] - s;
      cdf += f;
    }
  }
}

/// The setup (step 0) of Hörmann's BTRD for Binomial(n, p), p ≤ ½, n·p ≥ 10 (see
/// binomial_btrd): mode m = ⌊(n + 1)p⌋, r = p/(1 − p), the transformation
/// k = ⌊(2a/u_s + b)·u + c⌋, hat scale α, squeeze levels v_r and u_r·v_r.
struct btrd_constants {
  double n, m, r, nr, npq, b, a, c, alpha, v_r, urvr;
  btrd_constants(std::int64_t n_trials, double p) noexcept
      : n(static_cast<double>(n_trials)),
        m(static_cast<double>(static_cast<std::int64_t>((n + 1) * p))),
        r(p / (1 - p)),
        nr((n + 1) * r),
        npq(n * p * (1 - p)),
        b(1.15 + 2.53 * std::sqrt(npq)),
        a(-0.0873 + 0.0248 * b + 0.01 * p),
        c(n * p + 0.5),
        alpha((2.83 + 5.1 / b) * std::sqrt(npq)),
        v_r(0.92 - 4.2 / b),
        urvr(0.86 * v_r) {}
};

/// BTRD step 3.2: ln f(k)/f(m) is bracketed by t ± ρ, t = −km²/(2npq),
/// ρ = (km/npq)·(((km/3 + 0.625)·km + 1/6)/npq + 0.5), km = |k − m| > 15. The upper bound
/// holds everywhere; the lower one fails deep in the lower tail only (k more than 7σ below m
/// for 10 ≤ n·p, n ≤ 10^6), where t − ρ < −43 and the step-3.2 acceptance is wrong with
/// probability < 2e-17 given such a k (measured; distributions_test checks the bracket).
struct btrd_squeeze {
  double t, rho;
  btrd_squeeze(double km, double npq) noexcept
      : t(-km * km / (2 * npq)), rho((km / npq) * (((km / 3 + 0.625) * km + 1.0 / 6) / npq + 0.5)) {}
};

/// BTRD steps 3.3–3.4: ln f(k)/f(m) for the Binomial(n, p) pmf f, r = p/(1 − p), through
/// Stirling's formula with fc(j) = δ(j + 1):
///   (m + ½)·ln((m + 1)/(r·(n − m + 1))) + (n + 1)·ln((n − m + 1)/(n − k + 1))
///   + (k + ½)·ln((n − k + 1)·r/(k + 1)) + fc(m) + fc(n − m) − fc(k) − fc(n − k),
/// with ln((n−m+1)/(n−k+1)) taken as log1p((k − m)/(n − k + 1)). Absolute rounding error
/// ~eps·m, i.e. 1e-7 at n·p = 1e9.
inline double binomial_log_pmf_ratio(double k, double m, double n, double r) noexcept {
  const double nm = n - m + 1, nk = n - k + 1;
  const double h = (m + 0.5) * std::log((m + 1) / (r * nm)) + stirling_error(m + 1) + stirling_error(n - m + 1);
  return h + (n + 1) * std::log1p((k - m) / nk) + (k + 0.5) * std::log(nk * r / (k + 1)) - stirling_error(k + 1) -
         stirling_error(n - k + 1);
}

/// Binomial(n, p), p ≤ ½, n·p ≥ 10, by W. Hörmann's BTRD, "The generation of binomial random
/// variates", J. Statist. Comput. Simul. 46 (1993) 101–110, steps 0–3.4 as published (marked
/// below). Exact: transformed rejection with f(k)/f(m) evaluated by its recursion when
/// |k − m| ≤ 15 and through Stirling's formula otherwise, fc from stirling_error (more terms
/// than the paper's fc series). Deviations: u = −½ (u_s = 0) and k outside [0, n] are rejected
/// before dividing by u_s or converting to an integer; step 3.1 multiplies out the recursion
/// (one division instead of up to 15).
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t binomial_btrd(Rng& rng, std::int64_t n_trials, double p) noexcept {
  const btrd_constants h(n_trials, p);  // step 0
  for (;;) {
    // Step 1: immediate acceptance. |u| ≤ 0.43 here, so (as in poisson_ptrs) the value is in
    // (0, n] for n·p ≥ 10, p ≤ ½, and truncation is the floor.
    double v = uniform01_wide<T>(rng);
    if (v <= h.urvr) {
      const double u = v / h.v_r - 0.43;
      return static_cast<std::int64_t>((2 * h.a / (0.5 - std::abs(u)) + h.b) * u + h.c);
    }
    // Step 2: generate (u, v).
    double u;
    if (v >= h.v_r) {
      u = uniform01_wide<T>(rng) - 0.5;
    } else {
      u = v / h.v_r - 0.93;
      u = (u > 0 ? 0.5 : u < 0 ? -0.5 : 0.0) - u;
      v = uniform01_wide<T>(rng) * h.v_r;
    }
    // Step 3.0: transformed rejection.
    const double us = 0.5 - std::abs(u);
    if (us == 0) continue;  // u = −½: k = −∞, rejected (tested here to avoid dividing by 0)
    const double inv_us = 1 / us;
    const double kd = (2 * h.a * inv_us + h.b) * u + h.c;
    if (!(kd >= 0 && kd < h.n + 1)) continue;
    const double k = static_cast<double>(static_cast<std::int64_t>(kd));
    v *= h.alpha / (h.a * inv_us * inv_us + h.b);
    const double km = std::abs(k - h.m);
    if (km <= 15) {
      // Step 3.1: f(k)/f(m) by the recursion f(i)/f(i−1) = nr/i − r = (nr − r·i)/i, multiplied
      // out as Π(nr − r·i) / Π i over i in (min(k, m), max(k, m)]. At most 15 factors, each
      // < 2^54, so neither product overflows.
      double num = 1, den = 1;
      for (double i = std::min(k, h.m) + 1; i <= std::max(k, h.m); ++i) {
        num *= h.nr - h.r * i;
        den *= i;
      }
      if (h.m < k ? v * den <= num : v * num <= den) return static_cast<std::int64_t>(k);
      continue;
    }
    // Step 3.2: squeeze acceptance or rejection.
    v = std::log(v);
    const btrd_squeeze squeeze(km, h.npq);
    if (v < squeeze.t - squeeze.rho) return static_cast<std::int64_t>(k);
    if (v > squeeze.t + squeeze.rho) continue;
    // Steps 3.3–3.4: final acceptance test.
    if (v <= binomial_log_pmf_ratio(k, h.m, h.n, h.r)) return static_cast<std::int64_t>(k);
  }
}

}  // namespace detail

/// Uniform on [lo, hi] (hi itself only through rounding of lo + (hi − lo)·u, u < 1).
/// Precondition: lo ≤ hi, hi − lo finite.
template <sampler_scalar T, bit_engine Rng>
inline T uniform(Rng& rng, T lo, T hi) SMLM_NOEXCEPT {
  SMLM_ASSERT(lo <= hi && hi - lo <= std::numeric_limits<T>::max(), "uniform: need finite lo <= hi");
  return lo + (hi - lo) * uniform01<T>(rng);
}

/// Φ⁻¹(p), the standard normal quantile, for 0 < p < 1 (AS 241; see normal_quantile_lower).
template <sampler_scalar T>
inline T normal_quantile(T p) SMLM_NOEXCEPT {
  SMLM_ASSERT(p > 0 && p < 1, "normal_quantile: p must be in (0, 1)");
  return p <= T(0.5) ? detail::normal_quantile_lower(p) : -detail::normal_quantile_lower(T(1) - p);
}

/// Standard normal N(0, 1) by inversion of one uniform: the top bit is the sign, the rest
/// place p at the midpoint of one of 2^30 (float) / 2^62 (double) equal cells of (0, ½), and the
/// magnitude is −Φ⁻¹(p) (AS 241). Exactly one engine output (float) or next_u64 (double) per
/// sample; symmetric, so the mean is exactly 0. Tails end at |z| = 6.23 (float; two-sided
/// P = 4.7e-10) and 9.08 (double; P = 1.1e-19).
/// Why not Box–Muller or Marsaglia's polar method: Box–Muller turns two uniforms into a pair of
/// normals, so a stateless sampler wastes half its draws or must carry the spare between calls
/// (the sampler then has state and a call's draws depend on its history); the polar method
/// rejects 21% of pairs, so its draw count is random. Inversion has neither cost and measures
/// faster than libstdc++'s polar std::normal_distribution (benchmarks/bench_core.cpp).
template <sampler_scalar T, bit_engine Rng>
inline T normal(Rng& rng) noexcept {
  if constexpr (std::same_as<T, float>) {
    const std::uint32_t bits = rng();
    const float p = static_cast<float>(static_cast<std::int32_t>((bits & 0x7FFFFFFFu) | 1u)) * 0x1.0p-32f;
    const float z = detail::normal_quantile_lower(p);
    return (bits >> 31) != 0 ? -z : z;
  } else {
    const std::uint64_t bits = rng.next_u64();
    const double p =
        static_cast<double>(static_cast<std::int64_t>((bits & 0x7FFFFFFFFFFFFFFFu) | 1u)) * 0x1.0p-64;
    const double z = detail::normal_quantile_lower(p);
    return (bits >> 63) != 0 ? -z : z;
  }
}

/// N(mean, sd²) = mean + sd·normal(rng). Precondition: sd ≥ 0, both finite.
template <sampler_scalar T, bit_engine Rng>
inline T normal(Rng& rng, T mean, T sd) SMLM_NOEXCEPT {
  SMLM_ASSERT(sd >= 0 && sd <= std::numeric_limits<T>::max(), "normal: sd must be finite and >= 0");
  SMLM_ASSERT(std::abs(mean) <= std::numeric_limits<T>::max(), "normal: mean must be finite");
  return mean + sd * normal<T>(rng);
}

/// Exponential with rate 1 (mean 1): −ln u, u on (0, 1]; one output (float) / two (double).
/// The largest value is 21.5 (float) / 43.7 (double).
template <sampler_scalar T, bit_engine Rng>
inline T exponential(Rng& rng) noexcept {
  return -std::log(detail::uniform01_nonzero<T>(rng));
}

/// Exponential with the given rate (mean 1/rate), e.g. an off-time in frames for a switching
/// rate in 1/frames. Precondition: rate > 0, finite.
template <sampler_scalar T, bit_engine Rng>
inline T exponential(Rng& rng, T rate) SMLM_NOEXCEPT {
  SMLM_ASSERT(rate > 0 && rate <= std::numeric_limits<T>::max(), "exponential: rate must be positive and finite");
  return exponential<T>(rng) / rate;
}

/// Poisson(mean) counts; mean 0 gives 0. Exact for every mean: sequential-search inversion
/// below poisson_ptrs_min_mean, Hörmann's PTRS from there on (see detail::poisson_inversion and
/// detail::poisson_ptrs). Precondition: 0 ≤ mean ≤ poisson_max_mean (NaN is a violation).
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t poisson(Rng& rng, T mean) SMLM_NOEXCEPT {
  SMLM_ASSERT(mean >= 0 && mean <= poisson_max_mean, "poisson: mean must be in [0, 2^52]");
  const double mu = mean;
  if (!(mu > 0 && mu <= poisson_max_mean)) return 0;
  return mu < poisson_ptrs_min_mean ? detail::poisson_inversion<T>(rng, mu)
                                    : detail::poisson_ptrs<T>(rng, mu);
}

/// Gamma(shape, scale): density x^(shape−1) e^(−x/scale) / (Γ(shape) scale^shape), mean
/// shape·scale. G. Marsaglia & W. W. Tsang, "A simple method for generating gamma variables",
/// ACM TOMS 26 (2000) 363–372: with d = shape − ⅓, c = 1/√(9d), draw x ~ N(0,1), v = (1 + cx)³
/// (redraw x while v ≤ 0), u ~ U[0,1); accept d·v if u < 1 − 0.0331x⁴ (a squeeze: it implies
/// the next test for every d ≥ ⅔, checked numerically to rounding) or
/// ln u < x²/2 + d(1 − v + ln v). For shape < 1 their boost: Gamma(shape + 1)·U^(1/shape),
/// U on (0, 1] drawn after the accepted trial. The test runs in double (d·(1 − v + ln v)
/// cancels); for float the result may underflow to 0 when shape ≪ 1.
/// Precondition: shape > 0 and scale > 0, both finite.
template <sampler_scalar T, bit_engine Rng>
inline T gamma(Rng& rng, T shape, T scale = T(1)) SMLM_NOEXCEPT {
  SMLM_ASSERT(shape > 0 && shape <= std::numeric_limits<T>::max(), "gamma: shape must be positive and finite");
  SMLM_ASSERT(scale > 0 && scale <= std::numeric_limits<T>::max(), "gamma: scale must be positive and finite");
  if (!(shape > 0 && shape <= std::numeric_limits<T>::max())) return std::numeric_limits<T>::quiet_NaN();
  const double alpha = shape;
  const bool boost = alpha < 1;
  const double d = (boost ? alpha + 1 : alpha) - 1.0 / 3;
  const double c = 1 / std::sqrt(9 * d);
  double v;
  for (;;) {
    double x;
    do {
      x = normal<T>(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = uniform01<T>(rng);
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) break;
    if (std::log(u) < 0.5 * x2 + d * (1 - v + std::log(v))) break;
  }
  double g = d * v;
  if (boost) g *= std::pow(static_cast<double>(detail::uniform01_nonzero<T>(rng)), 1 / alpha);
  return static_cast<T>(g * static_cast<double>(scale));
}

/// Binomial(n, p): successes in n independent trials of probability p. p > ½ is sampled as
/// n − Binomial(n, 1 − p) (1 − p is exact there); n = 0, p = 0 give 0 and p = 1 gives n
/// without drawing. Exact: inversion when n·min(p, 1−p) < binomial_btrd_min_mean, Hörmann's
/// BTRD otherwise (see detail::binomial_inversion and detail::binomial_btrd).
/// Precondition: 0 ≤ n ≤ binomial_max_n, 0 ≤ p ≤ 1 (NaN is a violation).
template <sampler_scalar T, bit_engine Rng>
inline std::int64_t binomial(Rng& rng, std::int64_t n, T p) SMLM_NOEXCEPT {
  SMLM_ASSERT(n >= 0 && n <= binomial_max_n, "binomial: n must be in [0, 2^53]");
  SMLM_ASSERT(p >= 0 && p <= 1, "binomial: p must be in [0, 1]");
  const double pd = p;
  if (!(n > 0 && n <= binomial_max_n && pd >= 0 && pd <= 1)) return 0;
  const bool flip = pd > 0.5;
  const double ps = flip ? 1 - pd : pd;
  std::int64_t x = 0;
  if (ps > 0) {
    x = static_cast<double>(n) * ps < binomial_btrd_min_mean ? detail::binomial_inversion<T>(rng, n, ps)
                                                             : detail::binomial_btrd<T>(rng, n, ps);
  }
  return flip ? n - x : x;
}

}  // namespace smlm
