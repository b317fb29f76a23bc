// The frame simulator end to end (items_per_second = frames/s): blinking, photons, PSF
// rendering and camera recording of 64 × 64 frames. Target (issue 3): 50 emitters per frame,
// integrated Gaussian (σ = 1.1 px) + EMCCD, 1 thread, ≥ 10,000 frames/s; the 2-thread figure and
// the growth with emitters per frame (10 … 500) are reported beside it.
//
// Setup: uniform labels at the density that puts `emitters` on per frame on average
// (Kinetics::independent(0.1): each label on with probability 0.1 in each frame), photons
// U[2000, 2500], background 20 photons/pixel, default EMCCD parameters: FastEmccd (the per-pixel
// vectorised recording the simulator uses for speed), with the scalar Emccd beside it for the ratio. Each iteration simulates a batch of
// 256 frames through a sink that only touches them, so the figures are the simulator's, not a
// file writer's.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/sim/simulator.hpp>

namespace {

namespace sim = smlm::sim;
constexpr std::ptrdiff_t batch_frames = 256;

template <class Psf, class Camera>
void simulate_frames(benchmark::State& state, const Psf& psf, const Camera& camera, int threads) {
  const double emitters = static_cast<double>(state.range(0));
  sim::SimulationConfig<float> config;
  config.width_px = config.height_px = 64;
  config.pixel_nm = 100;
  config.background_photons = 20;
  config.kinetics = sim::Kinetics::independent(0.1);
  config.photons = sim::PhotonDistribution::uniform(2000, 2500);
  config.threads = threads;
  config.chunk_frames = batch_frames;
  std::vector<sim::Position> labels;
  if (!sim::uniform(config.field(), {emitters / 0.1 / config.field().area_um2()}, 7, labels).ok()) {
    state.SkipWithError("structure");
    return;
  }
  sim::Simulator<Psf, Camera> s(psf, camera, config, labels);
  double checksum = 0, rendered = 0;
  for (auto _ : state) {
    const smlm::Status status = s.run(batch_frames, [&](std::ptrdiff_t, smlm::ConstImageView<float> adu,
                                                        std::span<const smlm::Emitter<double>> e) {
      checksum += adu(32, 32);
      rendered += static_cast<double>(e.size());
    });
    if (!status.ok()) state.SkipWithError(status.message().c_str());
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * batch_frames);
  state.counters["emitters_per_frame"] = rendered / static_cast<double>(state.iterations() * batch_frames);
}

void BM_sim_integrated_fast_emccd_1thread(benchmark::State& state) {
  simulate_frames(state, smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::FastEmccd<float>{}, 1);
}
void BM_sim_integrated_fast_emccd_2threads(benchmark::State& state) {
  simulate_frames(state, smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::FastEmccd<float>{}, 2);
}
// The scalar Emccd (one engine stream per frame, pixel after pixel): the ratio to FastEmccd.
void BM_sim_integrated_emccd_1thread(benchmark::State& state) {
  simulate_frames(state, smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::Emccd<float>{}, 1);
}
void BM_sim_integrated_emccd_2threads(benchmark::State& state) {
  simulate_frames(state, smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::Emccd<float>{}, 2);
}
// The camera's share: the same frames through the ideal (Poisson only) camera.
void BM_sim_integrated_ideal_1thread(benchmark::State& state) {
  simulate_frames(state, smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::Ideal<float>{}, 1);
}

}  // namespace

BENCHMARK(BM_sim_integrated_fast_emccd_1thread)->Arg(10)->Arg(50)->Arg(100)->Arg(200)->Arg(500)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_sim_integrated_fast_emccd_2threads)->Arg(10)->Arg(50)->Arg(100)->Arg(200)->Arg(500)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_sim_integrated_emccd_1thread)->Arg(10)->Arg(50)->Arg(100)->Arg(200)->Arg(500)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_sim_integrated_emccd_2threads)->Arg(10)->Arg(50)->Arg(100)->Arg(200)->Arg(500)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_sim_integrated_ideal_1thread)->Arg(50)->Arg(500)->UseRealTime()->MeasureProcessCPUTime();
