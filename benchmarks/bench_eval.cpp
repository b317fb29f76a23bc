// Evaluation: matching localizations to ground truth (items_per_second = localizations/s).
// Target (issue 6): 100,000 localizations over 400 frames matched in at most 0.2 s.
// Data: 250 molecules per frame uniform over 6.4 × 6.4 µm (the SMLM challenge's field, 6.1
// molecules/µm²), 400 frames; localizations are the molecules shifted by N(0, 20 nm) per axis with
// 10 % of them missed and replaced by uniform false positives, so 100,000 rows on each side.
#include <benchmark/benchmark.h>

#include <cstdint>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/frc.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/eval/nearest_neighbour.hpp>

namespace {

struct Data {
  smlm::LocalizationTable truth, test;
};

const Data& data() {
  static const Data d = [] {
    Data out;
    constexpr int frames = 400, per_frame = 250;
    constexpr double size_nm = 6400;
    for (int f = 1; f <= frames; ++f) {
      smlm::Philox4x32 rng(2026, static_cast<std::uint32_t>(f), smlm::rng_purpose::user);
      for (int i = 0; i < per_frame; ++i) {
        const double x = smlm::uniform(rng, 0.0, size_nm), y = smlm::uniform(rng, 0.0, size_nm);
        out.truth.frame.push_back(f);
        out.truth.x_nm.push_back(x);
        out.truth.y_nm.push_back(y);
        out.test.frame.push_back(f);
        if (smlm::uniform01<double>(rng) < 0.1) {
          out.test.x_nm.push_back(smlm::uniform(rng, 0.0, size_nm));
          out.test.y_nm.push_back(smlm::uniform(rng, 0.0, size_nm));
        } else {
          out.test.x_nm.push_back(x + smlm::normal(rng, 0.0, 20.0));
          out.test.y_nm.push_back(y + smlm::normal(rng, 0.0, 20.0));
        }
      }
    }
    return out;
  }();
  return d;
}

void BM_match(benchmark::State& state, smlm::eval::match_method method) {
  const Data& d = data();
  smlm::eval::MatchOptions options;
  options.tolerance_nm = static_cast<double>(state.range(0));
  options.method = method;
  smlm::eval::Matcher matcher;
  smlm::eval::Matching out;
  for (auto _ : state) {
    matcher.match(d.truth, d.test, options, out);
    benchmark::DoNotOptimize(out.pairs.data());
  }
  const auto metrics = smlm::eval::detection_metrics(out);
  state.counters["jaccard"] = metrics.jaccard;
  state.counters["rmse_nm"] = metrics.rmse_lateral_nm;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d.test.size()));
}
void BM_match_optimal(benchmark::State& state) { BM_match(state, smlm::eval::match_method::optimal); }
void BM_match_greedy(benchmark::State& state) { BM_match(state, smlm::eval::match_method::greedy); }

void BM_nearest_neighbour(benchmark::State& state) {
  const Data& d = data();
  for (auto _ : state) benchmark::DoNotOptimize(smlm::eval::nearest_neighbour_distances(d.truth, d.test, 250.0).data());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d.truth.size()));
}

/// FRC of two n × n images (two 2D FFTs and the ring sums); items = pixels per image.
void BM_frc(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  smlm::Philox4x32 rng(5, 0, smlm::rng_purpose::user);
  smlm::Image<float> a(n, n), b(n, n);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    a.data()[i] = smlm::uniform01<float>(rng);
    b.data()[i] = smlm::uniform01<float>(rng);
  }
  for (auto _ : state) benchmark::DoNotOptimize(smlm::eval::fourier_ring_correlation(a, b, 10.0).resolution_nm);
  state.SetItemsProcessed(state.iterations() * n * n);
}

}  // namespace

BENCHMARK(BM_frc)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_match_optimal)->Arg(50)->Arg(100)->Arg(250)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_match_greedy)->Arg(50)->Arg(100)->Arg(250)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nearest_neighbour)->Unit(benchmark::kMillisecond);
