// blinking.hpp: the Markov chain against its closed forms (on-fraction, on/off times, survival),
// rate conversion, photon-distribution moments, reproducibility, bad parameters. Statistical
// checks allow 4 standard errors (fixed, printed seeds); SEs come from independent fluorophores.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <smlm/sim/blinking.hpp>

namespace sim = smlm::sim;
using sim::fluorophore_state;
using sim::Kinetics;

namespace {
constexpr double z_limit = 4;
#ifdef SMLM_SANITIZED
constexpr int fluorophores = 500;
#else
constexpr int fluorophores = 2000;
#endif

/// states[f][i]: state of fluorophore i in frame f.
std::vector<std::vector<fluorophore_state>> run_chain(const Kinetics& k, std::uint64_t seed, int frames) {
  std::vector<std::vector<fluorophore_state>> out;
  std::vector<fluorophore_state> s(fluorophores);
  for (int f = 0; f < frames; ++f) {
    sim::step_frame(k, seed, static_cast<std::uint32_t>(f), s);
    out.push_back(s);
  }
  return out;
}

struct MeanSe {
  double mean, se;
};
MeanSe mean_se(const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  const double m = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / (n - 1) / n)};
}
}  // namespace

TEST_CASE("Kinetics: closed forms and rate conversion") {
  const Kinetics k{.p_on_off = 0.3, .p_off_on = 0.1, .p_bleach = 0.1};
  CHECK(k.stationary_on_fraction() == doctest::Approx(0.25));
  CHECK(k.mean_on_frames() == doctest::Approx(2.5));
  CHECK(k.mean_off_frames() == doctest::Approx(10));
  CHECK(k.survival_after(0) == doctest::Approx(1));
  // One step from π₀ = (0.75, 0.25): only on-fluorophores bleach, with probability 0.1.
  CHECK(k.survival_after(1) == doctest::Approx(1 - 0.25 * 0.1));
  CHECK(Kinetics{.p_on_off = 0.3, .p_off_on = 0.1}.survival_after(1000) == doctest::Approx(1));
  const Kinetics r = Kinetics::from_rates(20, 2, 5, 0.01);
  CHECK(r.p_off_on == doctest::Approx(1 - std::exp(-0.02)));
  CHECK(r.p_on_off + r.p_bleach == doctest::Approx(1 - std::exp(-0.25)));
  CHECK(r.p_on_off / r.p_bleach == doctest::Approx(4));
  const Kinetics none = Kinetics::from_rates(0, 0, 0, 1);
  CHECK(none.p_on_off == 0);
  CHECK(none.p_bleach == 0);
}

TEST_CASE("Kinetics::validate names the bad probability") {
  CHECK(Kinetics{}.validate().ok());
  CHECK(Kinetics{.p_on_off = 1.5}.validate().message().find("p_on_off = 1.5") != std::string::npos);
  CHECK(!Kinetics{.p_off_on = -0.1}.validate().ok());
  CHECK(Kinetics{.p_on_off = 0.7, .p_bleach = 0.5}.validate().message().find("exceeds 1") != std::string::npos);
  CHECK(!Kinetics{.start_on_fraction = 2}.validate().ok());
  CHECK(!Kinetics{.p_on_off = 0, .p_off_on = 0}.validate().ok());
  CHECK(Kinetics{.p_on_off = 0, .p_off_on = 0, .start_on_fraction = 1}.validate().ok());
}

TEST_CASE("blinking: stationary on-fraction and geometric on/off times") {
  const std::uint64_t seed = 0xB11C;
  MESSAGE("seed " << seed);
  const Kinetics k{.p_on_off = 0.3, .p_off_on = 0.05};
  const int frames = 400;
  const auto states = run_chain(k, seed, frames);
  std::vector<double> on_fraction, on_runs, off_runs;
  // Runs are counted when they start after frame 0 and at least 10 mean lengths before the end,
  // so right-censoring (which would favour short runs) removes at most e^-10 of them.
  const double on_cut = frames - 10 * k.mean_on_frames(), off_cut = frames - 10 * k.mean_off_frames();
  for (int i = 0; i < fluorophores; ++i) {
    int on = 0, start = 0;
    for (int f = 0; f < frames; ++f) {
      const bool is_on = states[static_cast<std::size_t>(f)][static_cast<std::size_t>(i)] == fluorophore_state::on;
      on += is_on;
      const bool ends = f + 1 < frames && (states[static_cast<std::size_t>(f + 1)][static_cast<std::size_t>(i)] ==
                                           fluorophore_state::on) != is_on;
      if (ends) {
        if (start > 0 && start < (is_on ? on_cut : off_cut)) (is_on ? on_runs : off_runs).push_back(f + 1 - start);
        start = f + 1;
      }
    }
    on_fraction.push_back(on / double(frames));
  }
  const auto pi = mean_se(on_fraction);
  const auto ton = mean_se(on_runs);
  const auto toff = mean_se(off_runs);
  CAPTURE(pi.mean);
  CAPTURE(ton.mean);
  CAPTURE(toff.mean);
  CHECK(std::abs(pi.mean - k.stationary_on_fraction()) <= z_limit * pi.se);
  CHECK(std::abs(ton.mean - k.mean_on_frames()) <= z_limit * ton.se);
  CHECK(std::abs(toff.mean - k.mean_off_frames()) <= z_limit * toff.se);
  // Frame 0 is already stationary: its on-fraction is π_on (binomial SE).
  double first = 0;
  for (auto s : states[0]) first += s == fluorophore_state::on;
  const double q = k.stationary_on_fraction();
  CHECK(std::abs(first / fluorophores - q) <= z_limit * std::sqrt(q * (1 - q) / fluorophores));
}

TEST_CASE("blinking: survival curve and bleaching half-life") {
  const std::uint64_t seed = 0xB1EA;
  MESSAGE("seed " << seed);
  const Kinetics k{.p_on_off = 0.3, .p_off_on = 0.1, .p_bleach = 0.05};
  const int frames = 200;
  const auto states = run_chain(k, seed, frames);
  std::int64_t half = 0;
  while (k.survival_after(half) > 0.5) ++half;
  CAPTURE(half);
  CHECK(half > 10);
  CHECK(half < 150);
  for (const int t : {5, 20, static_cast<int>(half), 100}) {
    double alive = 0;
    for (auto s : states[static_cast<std::size_t>(t)]) alive += s != fluorophore_state::bleached;
    const double S = k.survival_after(t), est = alive / fluorophores;
    CAPTURE(t);
    CAPTURE(est);
    CAPTURE(S);
    CHECK(std::abs(est - S) <= z_limit * std::sqrt(S * (1 - S) / fluorophores));
  }
  // Bleached is absorbing.
  for (std::size_t f = 1; f < states.size(); ++f)
    for (std::size_t i = 0; i < states[f].size(); ++i)
      if (states[f - 1][i] == fluorophore_state::bleached) REQUIRE(states[f][i] == fluorophore_state::bleached);
}

TEST_CASE("blinking: independent(q) has no memory; frames are reproducible") {
  const std::uint64_t seed = 0x1DE;
  MESSAGE("seed " << seed);
  const auto k = Kinetics::independent(0.2);
  const auto states = run_chain(k, seed, 50);
  // P(on at f+1 | on at f) = q, not more: count on→on pairs.
  double on = 0, on_on = 0;
  for (std::size_t f = 0; f + 1 < states.size(); ++f)
    for (std::size_t i = 0; i < states[f].size(); ++i)
      if (states[f][i] == fluorophore_state::on) {
        on += 1;
        on_on += states[f + 1][i] == fluorophore_state::on;
      }
  CHECK(std::abs(on_on / on - 0.2) <= z_limit * std::sqrt(0.16 / on));
  const auto again = run_chain(k, seed, 50);
  CHECK(again == states);
  CHECK(run_chain(k, seed + 1, 50) != states);
}

TEST_CASE("PhotonDistribution: moments and ranges") {
  const std::uint64_t seed = 0x9407;
  MESSAGE("seed " << seed);
  const int n = 100000;
  using PD = sim::PhotonDistribution;
  for (const PD d : {PD::uniform(2000, 2500), PD::lognormal(1500, 600), PD::exponential(800), PD::constant(1234)}) {
    CAPTURE(static_cast<int>(d.type));
    REQUIRE(d.validate().ok());
    smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::photons);
    std::vector<double> x(n);
    for (auto& v : x) v = d.sample(rng);
    double m = 0;
    for (double v : x) m += v;
    m /= n;
    double m2 = 0, m4 = 0, lo = x[0], hi = x[0];
    for (double v : x) {
      m2 += (v - m) * (v - m);
      m4 += std::pow(v - m, 4);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    m2 /= n - 1;
    m4 /= n;
    CHECK(lo >= 0);
    if (d.type == PD::kind::constant) {
      CHECK(lo == 1234);
      CHECK(hi == 1234);
      continue;
    }
    if (d.type == PD::kind::uniform) {
      CHECK(lo >= 2000);
      CHECK(hi <= 2500);
    }
    CAPTURE(m);
    CAPTURE(m2);
    CHECK(std::abs(m - d.mean()) <= z_limit * std::sqrt(d.variance() / n));
    CHECK(std::abs(m2 - d.variance()) <= z_limit * std::sqrt((m4 - m2 * m2) / n));
  }
  CHECK(PD::uniform(3, 2).validate().message().find("3:2") != std::string::npos);
  CHECK(!PD::constant(-1).validate().ok());
  CHECK(!PD::lognormal(0, 1).validate().ok());
  CHECK(!PD::exponential(std::nan("")).validate().ok());
}
