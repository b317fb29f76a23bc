// Camera models: one 64 × 64 frame recorded from expected photons (items_per_second = frames/s).
// Target (issue 3): 64 × 64 frames with 50 emitters, integrated Gaussian + EMCCD, 1 thread,
// ≥ 10,000 frames/s in all; the camera's share is reported here. The expected image is a
// background of 10 photons/pixel plus 50 spots of ~2000 photons (a realistic mix of the
// low-count and high-count paths of the Poisson and gamma samplers).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cmath>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/core/parallel.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <vector>

namespace {

namespace camera = smlm::camera;

template <class T>
smlm::Image<T> expected_frame() {
  smlm::Image<T> mu = smlm::Image<T>::Constant(64, 64, T(10));
  smlm::Philox4x32 rng(12345, 0, smlm::rng_purpose::user);
  for (int e = 0; e < 50; ++e) {
    const auto cx = static_cast<Eigen::Index>(smlm::uniform<T>(rng, T(3), T(60)));
    const auto cy = static_cast<Eigen::Index>(smlm::uniform<T>(rng, T(3), T(60)));
    for (Eigen::Index dy = -2; dy <= 2; ++dy)
      for (Eigen::Index dx = -2; dx <= 2; ++dx)
        mu(cy + dy, cx + dx) += T(2000) * std::exp(-T(0.5) * T(dx * dx + dy * dy) / T(1.69)) / T(10.6);
  }
  return mu;
}

template <class Camera>
void record_64x64(benchmark::State& state, const Camera& cam) {
  using T = typename Camera::scalar;
  const smlm::Image<T> mu = expected_frame<T>();
  smlm::Image<T> adu(64, 64);
  std::uint32_t frame = 0;
  for (auto _ : state) {
    camera::record_frame(cam, smlm::make_view(mu), 1, frame++, smlm::make_view(adu));
    benchmark::DoNotOptimize(adu.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ideal_float(benchmark::State& state) { record_64x64(state, camera::Ideal<float>{}); }
void BM_emccd_float(benchmark::State& state) { record_64x64(state, camera::Emccd<float>{}); }
void BM_emccd_double(benchmark::State& state) { record_64x64(state, camera::Emccd<double>{}); }
void BM_scmos_float(benchmark::State& state) {
  const smlm::Image<float> offset = smlm::Image<float>::Constant(64, 64, 100.f);
  const smlm::Image<float> gain = smlm::Image<float>::Constant(64, 64, 0.46f);
  const smlm::Image<float> variance = smlm::Image<float>::Constant(64, 64, 4.f);
  record_64x64(state, camera::Scmos<float>(offset, gain, variance));
}

void BM_fast_emccd_float(benchmark::State& state) { record_64x64(state, camera::FastEmccd<float>{}); }
void BM_fast_emccd_double(benchmark::State& state) { record_64x64(state, camera::FastEmccd<double>{}); }
void BM_fast_emccd_ref_float(benchmark::State& state) {
  const camera::FastEmccd<float> cam;
  const smlm::Image<float> mu = expected_frame<float>();
  smlm::Image<float> adu(64, 64);
  std::uint32_t frame = 0;
  for (auto _ : state) {
    smlm::Philox4x32 rng = camera::frame_engine(1, frame++);
    cam.record_ref(smlm::make_view(mu), rng, smlm::make_view(adu));
    benchmark::DoNotOptimize(adu.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_cmos_phone_float(benchmark::State& state) { record_64x64(state, camera::CmosPhone<float>{}); }

/// The whole benchmark: background 10 photons + 50 integrated-Gaussian emitters
/// (σ = 1.3 px, 1000–2500 photons) rendered and recorded, frames/s; range(0) = threads (frames
/// are split between them, each with its own buffers).
template <class Camera>
void simulate_64x64_50(benchmark::State& state) {
  namespace psf = smlm::psf;
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  const Camera cam{};
  const int threads = static_cast<int>(state.range(0));
  smlm::Philox4x32 rng(777, 0, smlm::rng_purpose::user);
  std::vector<psf::Spot<float>> spots(50 * 64);
  for (auto& sp : spots) {
    sp.x_px = smlm::uniform<float>(rng, 0, 64);
    sp.y_px = smlm::uniform<float>(rng, 0, 64);
    sp.photons = smlm::uniform<float>(rng, 1000, 2500);
  }
  constexpr int batch = 64;  // frames per iteration
  std::vector<smlm::Image<float>> mu(static_cast<std::size_t>(threads), smlm::Image<float>(64, 64)),
      adu(static_cast<std::size_t>(threads), smlm::Image<float>(64, 64));
  std::uint32_t base = 0;
  for (auto _ : state) {
    smlm::parallel_for(batch, threads, [&](std::ptrdiff_t i, int worker) {
      auto& m = mu[static_cast<std::size_t>(worker)];
      auto& a = adu[static_cast<std::size_t>(worker)];
      m.setConstant(10.0f);
      auto view = smlm::make_view(m);
      const std::size_t first = 50 * static_cast<std::size_t>(i);
      for (std::size_t k = 0; k < 50; ++k) model.add_to(spots[first + k], view);
      camera::record_frame(cam, smlm::const_view(m), 1, base + static_cast<std::uint32_t>(i), smlm::make_view(a));
      benchmark::DoNotOptimize(a.data());
    });
    base += batch;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
void BM_simulate_emccd(benchmark::State& state) { simulate_64x64_50<camera::Emccd<float>>(state); }
void BM_simulate_fast_emccd(benchmark::State& state) { simulate_64x64_50<camera::FastEmccd<float>>(state); }

}  // namespace

BENCHMARK(BM_fast_emccd_float);
BENCHMARK(BM_fast_emccd_double);
BENCHMARK(BM_fast_emccd_ref_float);
BENCHMARK(BM_cmos_phone_float);
BENCHMARK(BM_simulate_emccd)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_simulate_fast_emccd)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_ideal_float);
BENCHMARK(BM_emccd_float);
BENCHMARK(BM_emccd_double);
BENCHMARK(BM_scmos_float);
