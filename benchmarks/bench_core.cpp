// Core benchmarks: the Philox4x32-10 engine and the samplers of distributions.hpp, each beside
// its peer from the standard library (std::mt19937 with the <random> distributions) in the same
// run. items_per_second counts samples (32-bit outputs for the raw engines).
//
// The std:: peers keep one distribution object per benchmark (their setup amortised), except
// the *_per_call variants, which construct it for every sample the way a per-pixel mean forces;
// smlmkit's samplers have no object and always pay their setup.
//
//   ./bench_core --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>

namespace {

constexpr int batch = 1024;  // samples per benchmark iteration

smlm::Philox4x32 engine() { return smlm::Philox4x32(20240601, 7, smlm::rng_purpose::camera); }
std::mt19937 peer_engine() { return std::mt19937(20240601u); }

double arg(const benchmark::State& state, int i = 0) { return static_cast<double>(state.range(i)) / 1000; }

template <class F>
void run(benchmark::State& state, F&& sample) {
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) benchmark::DoNotOptimize(sample());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// --- raw engines: 32-bit outputs per second ---------------------------------------------------
void BM_philox_u32(benchmark::State& state) {
  auto rng = engine();
  run(state, [&] { return rng(); });
}
BENCHMARK(BM_philox_u32);

void BM_std_mt19937_u32(benchmark::State& state) {
  auto rng = peer_engine();
  run(state, [&] { return rng(); });
}
BENCHMARK(BM_std_mt19937_u32);

// --- uniform ----------------------------------------------------------------------------------
template <class T>
void BM_uniform01(benchmark::State& state) {
  auto rng = engine();
  run(state, [&] { return smlm::uniform01<T>(rng); });
}
BENCHMARK(BM_uniform01<float>);
BENCHMARK(BM_uniform01<double>);

template <class T>
void BM_std_uniform01(benchmark::State& state) {
  auto rng = peer_engine();
  std::uniform_real_distribution<T> dist(0, 1);
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_uniform01<float>);
BENCHMARK(BM_std_uniform01<double>);

// --- normal -----------------------------------------------------------------------------------
template <class T>
void BM_normal(benchmark::State& state) {
  auto rng = engine();
  run(state, [&] { return smlm::normal<T>(rng); });
}
BENCHMARK(BM_normal<float>);
BENCHMARK(BM_normal<double>);

template <class T>
void BM_std_normal(benchmark::State& state) {
  auto rng = peer_engine();
  std::normal_distribution<T> dist(0, 1);
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_normal<float>);
BENCHMARK(BM_std_normal<double>);

template <class T>
void BM_exponential(benchmark::State& state) {
  auto rng = engine();
  run(state, [&] { return smlm::exponential<T>(rng); });
}
BENCHMARK(BM_exponential<float>);
BENCHMARK(BM_exponential<double>);

template <class T>
void BM_std_exponential(benchmark::State& state) {
  auto rng = peer_engine();
  std::exponential_distribution<T> dist(1);
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_exponential<float>);
BENCHMARK(BM_std_exponential<double>);

// --- Poisson (argument: mean × 1000) ------------------------------------------------------------
template <class T>
void BM_poisson(benchmark::State& state) {
  auto rng = engine();
  const T mean = static_cast<T>(arg(state));
  run(state, [&] { return smlm::poisson(rng, mean); });
}
BENCHMARK(BM_poisson<float>)->Arg(2'000)->Arg(20'000)->Arg(500'000);
BENCHMARK(BM_poisson<double>)->Arg(2'000)->Arg(20'000)->Arg(500'000);

void BM_std_poisson(benchmark::State& state) {
  auto rng = peer_engine();
  std::poisson_distribution<int> dist(arg(state));
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_poisson)->Arg(2'000)->Arg(20'000)->Arg(500'000);

void BM_std_poisson_per_call(benchmark::State& state) {
  auto rng = peer_engine();
  const double mean = arg(state);
  run(state, [&] { return std::poisson_distribution<int>(mean)(rng); });
}
BENCHMARK(BM_std_poisson_per_call)->Arg(2'000)->Arg(20'000)->Arg(500'000);

// The two exact methods around the crossover smlm::poisson_ptrs_min_mean.
void BM_poisson_inversion(benchmark::State& state) {
  auto rng = engine();
  const double mean = arg(state);
  run(state, [&] { return smlm::detail::poisson_inversion<float>(rng, mean); });
}
BENCHMARK(BM_poisson_inversion)->DenseRange(6'000, 20'000, 2'000);

void BM_poisson_ptrs(benchmark::State& state) {
  auto rng = engine();
  const double mean = arg(state);
  run(state, [&] { return smlm::detail::poisson_ptrs<float>(rng, mean); });
}
BENCHMARK(BM_poisson_ptrs)->DenseRange(10'000, 20'000, 2'000);

// --- gamma (argument: shape × 1000) -------------------------------------------------------------
template <class T>
void BM_gamma(benchmark::State& state) {
  auto rng = engine();
  const T shape = static_cast<T>(arg(state));
  run(state, [&] { return smlm::gamma(rng, shape, T(1)); });
}
BENCHMARK(BM_gamma<float>)->Arg(500)->Arg(2'500)->Arg(100'000);
BENCHMARK(BM_gamma<double>)->Arg(500)->Arg(2'500)->Arg(100'000);

void BM_std_gamma(benchmark::State& state) {
  auto rng = peer_engine();
  std::gamma_distribution<double> dist(arg(state), 1.0);
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_gamma)->Arg(500)->Arg(2'500)->Arg(100'000);

// --- binomial (arguments: n, p × 1000) ----------------------------------------------------------
template <class T>
void BM_binomial(benchmark::State& state) {
  auto rng = engine();
  const std::int64_t n = state.range(0);
  const T p = static_cast<T>(arg(state, 1));
  run(state, [&] { return smlm::binomial(rng, n, p); });
}
BENCHMARK(BM_binomial<float>)->Args({10, 300})->Args({1000, 20})->Args({1000, 700});
BENCHMARK(BM_binomial<double>)->Args({10, 300})->Args({1000, 20})->Args({1000, 700});

void BM_std_binomial(benchmark::State& state) {
  auto rng = peer_engine();
  std::binomial_distribution<int> dist(static_cast<int>(state.range(0)), arg(state, 1));
  run(state, [&] { return dist(rng); });
}
BENCHMARK(BM_std_binomial)->Args({10, 300})->Args({1000, 20})->Args({1000, 700});

// --- the camera simulator's inner loop --------------------------------------------------------
// One 64×64 frame: Poisson shot noise on a background of 20 photons with Gaussian spots
// (peaks ~500 photons), plus Gaussian read noise of 1.5 photons. items_per_second = frames/s
// on one thread; the simulator wants 10,000 frames/s across its threads.
std::vector<float> expected_frame() {
  std::vector<float> mean(64 * 64);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      float m = 20;
      for (const auto& [cx, cy] : {std::pair{12.3f, 40.1f}, {33.7f, 20.4f}, {50.2f, 52.8f}}) {
        const float r2 = (x + 0.5f - cx) * (x + 0.5f - cx) + (y + 0.5f - cy) * (y + 0.5f - cy);
        m += 500 * std::exp(-r2 / (2 * 1.3f * 1.3f));
      }
      mean[static_cast<std::size_t>(y * 64 + x)] = m;
    }
  }
  return mean;
}

void BM_camera_frame_64x64(benchmark::State& state) {
  const auto mean = expected_frame();
  std::vector<float> out(mean.size());
  std::uint32_t frame = 0;
  for (auto _ : state) {
    smlm::Philox4x32 rng(20240601, frame++, smlm::rng_purpose::camera);
    for (std::size_t i = 0; i < mean.size(); ++i) {
      out[i] = static_cast<float>(smlm::poisson(rng, mean[i])) + 1.5f * smlm::normal<float>(rng);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_camera_frame_64x64);

void BM_std_camera_frame_64x64(benchmark::State& state) {
  const auto mean = expected_frame();
  std::vector<float> out(mean.size());
  auto rng = peer_engine();
  std::normal_distribution<float> read_noise(0, 1.5f);
  for (auto _ : state) {
    for (std::size_t i = 0; i < mean.size(); ++i) {
      out[i] = static_cast<float>(std::poisson_distribution<int>(mean[i])(rng)) + read_noise(rng);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_std_camera_frame_64x64);

}  // namespace
