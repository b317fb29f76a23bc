// Camera models: one 64 × 64 frame recorded from expected photons (items_per_second = frames/s).
// Target (issue 3): 64 × 64 frames with 50 emitters, integrated Gaussian + EMCCD, 1 thread,
// ≥ 10,000 frames/s in all; the camera's share is reported here. The expected image is a
// background of 10 photons/pixel plus 50 spots of ~2000 photons (a realistic mix of the
// low-count and high-count paths of the Poisson and gamma samplers).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cmath>

#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>

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

}  // namespace

BENCHMARK(BM_ideal_float);
BENCHMARK(BM_emccd_float);
BENCHMARK(BM_emccd_double);
BENCHMARK(BM_scmos_float);
