// The simulator builds and runs with -fno-exceptions -fno-rtti and without SIMD: a structure,
// blinking and an EMCCD recording of a few frames, with loose sanity bounds (the statistics are
// tested in tests/sim).
#include <smlm/smlm.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

int main() {
  namespace sim = smlm::sim;
  std::vector<sim::Position> labels;
  if (!sim::filaments({3200, 3200}, {.count = 3}, 5, labels).ok() || labels.empty()) return 1;
  sim::SimulationConfig<float> config;
  config.width_px = config.height_px = 32;
  config.background_photons = 10;
  sim::Simulator<smlm::psf::IntegratedGaussian<float>, smlm::camera::Emccd<float>> s({}, {}, config, labels);
  double total = 0;
  std::size_t emitters = 0;
  const smlm::Status status = s.run(4, [&](std::ptrdiff_t, smlm::ConstImageView<float> adu,
                                           std::span<const smlm::Emitter<double>> e) {
    total += adu.cast<double>().sum();
    emitters += e.size();
  });
  if (!status.ok()) return 2;
  // Baseline 100 ADU per pixel dominates: 4 frames × 1024 pixels × ≥ 100.
  return total > 4 * 1024 * 100.0 && emitters > 0 ? 0 : 3;
}
