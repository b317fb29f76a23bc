// Rendering 100,000 localizations over a 6.4 × 6.4 µm field at 10 nm (640 × 640 pixels);
// items_per_second = localizations/s.
#include <benchmark/benchmark.h>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/render/gaussian.hpp>
#include <smlm/render/histogram.hpp>

namespace {

const smlm::LocalizationTable& table() {
  static const smlm::LocalizationTable t = [] {
    smlm::LocalizationTable out;
    smlm::Philox4x32 rng(11, 0, smlm::rng_purpose::user);
    for (int i = 0; i < 100000; ++i) {
      out.frame.push_back(1 + i / 250);
      out.x_nm.push_back(smlm::uniform(rng, 0.0, 6400.0));
      out.y_nm.push_back(smlm::uniform(rng, 0.0, 6400.0));
    }
    return out;
  }();
  return t;
}

const smlm::render::FieldOfView fov{0, 0, 6400, 6400};

void BM_histogram(benchmark::State& state) {
  smlm::Image<float> image = smlm::Image<float>::Zero(640, 640);
  for (auto _ : state) {
    smlm::render::add_histogram(table(), fov, 10.0, smlm::make_view(image));
    benchmark::DoNotOptimize(image.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(table().size()));
}

/// Gaussian of sigma (nm) = range(0): the ±4σ window is (8σ/10 + 1)² pixels.
void BM_gaussian(benchmark::State& state) {
  smlm::render::GaussianRenderOptions o;
  o.sigma_nm = static_cast<double>(state.range(0));
  smlm::Image<float> image = smlm::Image<float>::Zero(640, 640);
  for (auto _ : state) {
    smlm::render::add_gaussian(table(), fov, 10.0, o, smlm::make_view(image));
    benchmark::DoNotOptimize(image.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(table().size()));
}

}  // namespace

BENCHMARK(BM_histogram)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gaussian)->Arg(10)->Arg(20)->Arg(50)->Unit(benchmark::kMillisecond);
