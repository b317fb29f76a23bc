// fast_emccd.hpp (its conformance suite runs with Emccd's in conformance_test.cpp): the xsimd path against record_ref on random and
// adversarial frames; the same distribution as Emccd; reproducibility per pixel, per frame and
// on 1 or 2 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/core/parallel.hpp>
#include <utility>
#include <vector>

#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/doctest.hpp>

namespace camera = smlm::camera;
using smlm::testing::z_limit;

TEST_CASE_TEMPLATE("FastEmccd: record (xsimd) equals record_ref", T, float, double) {
  // 37 × 29 pixels (rows not a multiple of any SIMD width) inside a wider frame, expected photons
  // spanning 0, the inversion/PTRS boundary (λ = 12 at p = 13.33), spot peaks and 10^5; 16
  // frames. The two may differ only where xsimd's exp/log round differently from std's in the
  // last ulp (a decision at a boundary), so at most 1 pixel in 10^4.
  const std::uint64_t seed = 0xFA5;
  MESSAGE("seed " << seed);
  const camera::FastEmccd<T> fast;
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::user);
  smlm::Image<T> photons(37, 29);
  const double special[] = {0, 1e-9, 0.5, 13.33, 13.34, 13.3333333, 20, 2000, 1e5};
  for (Eigen::Index i = 0; i < photons.size(); ++i)
    photons.data()[i] = i % 5 == 0 ? static_cast<T>(special[(i / 5) % 9])
                                   : static_cast<T>(std::pow(10.0, smlm::uniform<double>(rng, -1, 3.5)));
  smlm::Image<T> big = smlm::Image<T>::Constant(37, 40, T(-1)), ref(37, 29);
  auto window = smlm::make_view(big.data() + 3, 37, 29, 40);
  long differ = 0, total = 0;
  for (std::uint32_t f = 0; f < 16; ++f) {
    smlm::Philox4x32 a = camera::frame_engine(seed, f), b = camera::frame_engine(seed, f);
    fast.record(smlm::const_view(photons), a, window);
    fast.record_ref(smlm::const_view(photons), b, smlm::make_view(ref));
    CHECK(a.counter() == b.counter());
    for (Eigen::Index y = 0; y < 37; ++y)
      for (Eigen::Index x = 0; x < 29; ++x) differ += window(y, x) != ref(y, x);
    total += ref.size();
  }
  CAPTURE(differ);
  CHECK(differ * 10000 <= total);
  CHECK(big(0, 0) == T(-1));
  CHECK(big(5, 35) == T(-1));
}

TEST_CASE("FastEmccd: the same distribution as Emccd at a low and a high level") {
  // Two samples of 2^17 values each (Emccd's sequential draws, FastEmccd's per-pixel blocks):
  // their empirical CDFs agree at 9 quantiles of the pooled sample within z = 5 of the
  // two-sample binomial SE √(2F(1 − F)/N). At 0.5 photons the output mixes 0, 1, 2, … electrons
  // through the register (inversion + exponential + gamma), at 300 PTRS and gamma dominate.
  for (const double level : {0.5, 300.0}) {
    CAPTURE(level);
    const auto a = smlm::testing::sample(camera::Emccd<float>{}, level, 0xFA6);
    const auto b = smlm::testing::sample(camera::FastEmccd<float>{}, level, 0xFA7);
    std::vector<double> pooled = a;
    pooled.insert(pooled.end(), b.begin(), b.end());
    std::sort(pooled.begin(), pooled.end());
    const double n = static_cast<double>(a.size());
    for (int q = 1; q <= 9; ++q) {
      const double t = pooled[pooled.size() * static_cast<std::size_t>(q) / 10];
      const double fa = static_cast<double>(std::count_if(a.begin(), a.end(), [&](double v) { return v <= t; })) / n;
      const double fb = static_cast<double>(std::count_if(b.begin(), b.end(), [&](double v) { return v <= t; })) / n;
      const double f = 0.5 * (fa + fb);
      CAPTURE(t);
      CHECK(std::abs(fa - fb) <= z_limit * std::sqrt(2 * f * (1 - f) / n) + 1e-12);
    }
  }
}

TEST_CASE("FastEmccd: a pixel depends only on its own index and photons; 1 or 2 threads agree") {
  const std::uint64_t seed = 0xFA8;
  MESSAGE("seed " << seed);
  const camera::FastEmccd<float> fast;
  smlm::Image<float> photons = smlm::Image<float>::Constant(64, 64, 10.0f);
  photons(30, 30) = 2000;
  smlm::Image<float> a(64, 64), b(64, 64);
  camera::record_frame(fast, smlm::const_view(photons), seed, 5, smlm::make_view(a));
  photons(30, 30) = 5;  // another pixel's photons change: (31, 31) and the rest stay
  photons(10, 20) = 3000;
  camera::record_frame(fast, smlm::const_view(photons), seed, 5, smlm::make_view(b));
  CHECK(a(31, 31) == b(31, 31));
  CHECK(a(30, 30) != b(30, 30));
  CHECK(((a != b).count()) == 2 - (a(10, 20) == b(10, 20) ? 1 : 0));
  // 12 frames recorded on 1 and on 2 threads, frames in different orders: identical stacks.
  const int frames = 12;
  smlm::Stack<float> one(frames, 64, 64), two(frames, 64, 64);
  for (int f = 0; f < frames; ++f)
    camera::record_frame(fast, smlm::const_view(photons), seed, static_cast<std::uint32_t>(f), one.frame(f));
  smlm::parallel_for(frames, 2, [&](std::ptrdiff_t i, int) {
    const auto f = static_cast<std::uint32_t>(frames - 1 - i);
    camera::record_frame(fast, smlm::const_view(photons), seed, f, two.frame(static_cast<std::ptrdiff_t>(f)));
  });
  bool same = true;
  for (int f = 0; f < frames; ++f) same = same && (one.frame(f).array() == two.frame(f).array()).all();
  CHECK(same);
  CHECK((one.frame(0).array() != one.frame(1).array()).any());
}

TEST_CASE("FastEmccd: another engine keys the layout with one 64-bit draw") {
  struct Counter {
    std::uint64_t state = 7;
    std::uint32_t operator()() noexcept { return static_cast<std::uint32_t>(state++); }
    std::uint64_t next_u64() noexcept { return state++; }
  };
  const camera::FastEmccd<double> fast;
  const smlm::Image<double> photons = smlm::Image<double>::Constant(8, 8, 40.0);
  smlm::Image<double> a(8, 8), b(8, 8);
  Counter c1, c2;
  fast.record(smlm::make_view(photons), c1, smlm::make_view(a));
  CHECK(c1.state == 8);
  smlm::Philox4x32 keyed(7, 0, smlm::rng_purpose::camera);
  fast.record(smlm::make_view(photons), keyed, smlm::make_view(b));
  CHECK((a == b).all());
  fast.record(smlm::make_view(photons), c2, smlm::make_view(b));
  CHECK((a == b).all());
}

TEST_CASE("FastEmccd: record equals record_ref where PTRS rejects often, beyond the ln k! table and in gamma's second trial") {
  // A flat background of λ ≈ 18 (every pixel PTRS; ~5% need a third trial, from block k = 2) with
  // spot-like peaks of 300–3000 photons (k ≥ 256: ln p(k) by poisson_log_pmf's formula in lanes)
  // and the register's gamma rejected in ~10% of first trials (second trial from block 2^16):
  // 24 frames of 64 × 61 pixels, at most 1 pixel in 10^4 may differ (an ulp of log/log1p/exp).
  const std::uint64_t seed = 0xFA9;
  MESSAGE("seed " << seed);
  const camera::FastEmccd<float> fast;
  smlm::Image<float> photons = smlm::Image<float>::Constant(64, 61, 20.0f);
  for (Eigen::Index i = 0; i < photons.size(); i += 7) photons.data()[i] = static_cast<float>(300 + (i % 11) * 270);
  smlm::Image<float> out(64, 61), ref(64, 61);
  long differ = 0, total = 0;
  for (std::uint32_t f = 0; f < 24; ++f) {
    smlm::Philox4x32 a = camera::frame_engine(seed, f), b = camera::frame_engine(seed, f);
    fast.record(smlm::const_view(photons), a, smlm::make_view(out));
    fast.record_ref(smlm::const_view(photons), b, smlm::make_view(ref));
    CHECK(a.counter() == b.counter());
    differ += (out != ref).count();
    total += ref.size();
  }
  MESSAGE("differing pixels " << differ << " of " << total);
  CAPTURE(differ);
  CHECK(differ * 10000 <= total);
}
