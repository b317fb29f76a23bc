// PSF kernels: the simulator's per-emitter render (add_to) and the fitter's mu + Jacobian.
// Target (issue 3): 64 × 64 frames with 50 emitters, integrated Gaussian + camera, 1 thread,
// ≥ 10,000 frames/s, i.e. about 2 µs per emitter for everything; the PSF's share is reported
// here as ns per emitter (items_per_second = emitters/s, or frames/s for the frame benchmark).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <vector>

#include <smlm/psf/airy.hpp>
#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/pupil.hpp>
#include <smlm/psf/tabulated.hpp>

namespace {

namespace psf = smlm::psf;

template <class T>
std::vector<psf::Spot<T>> random_spots(std::size_t n, T lo, T hi, bool with_z) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> pos(lo, hi), photons(1000, 2500), z(-400, 400);
  std::vector<psf::Spot<T>> spots(n);
  for (auto& s : spots) {
    s.x_px = T(pos(rng));
    s.y_px = T(pos(rng));
    s.z_nm = with_z ? T(z(rng)) : T(0);
    s.photons = T(photons(rng));
    s.background = T(0);
  }
  return spots;
}

/// One emitter rendered into a 64 × 64 float frame (support ±4σ: an 11–12 px square at σ = 1.3).
template <class Model>
void add_to_64x64(benchmark::State& state, const Model& model) {
  using T = typename Model::scalar;
  const auto spots = random_spots<T>(1024, T(2), T(62), Model::has_z);
  smlm::Image<T> frame = smlm::Image<T>::Zero(64, 64);
  auto view = smlm::make_view(frame);
  std::size_t k = 0;
  for (auto _ : state) {
    model.add_to(spots[k++ & 1023], view);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(frame.data());
  state.SetItemsProcessed(state.iterations());
}

void BM_integrated_gaussian_add_to_float(benchmark::State& state) {
  add_to_64x64(state, psf::IntegratedGaussian<float>{.sigma_px = 1.3f});
}
void BM_gaussian_add_to_float(benchmark::State& state) {
  add_to_64x64(state, psf::Gaussian<float>{.sigma_px = 1.3f});
}
void BM_astigmatic_gaussian_add_to_float(benchmark::State& state) {
  psf::AstigmaticGaussian<float> model;
  model.x_curve.sigma0_px = model.y_curve.sigma0_px = 1.3f;
  add_to_64x64(state, model);
}
void BM_integrated_gaussian_add_to_double(benchmark::State& state) {
  add_to_64x64(state, psf::IntegratedGaussian<double>{.sigma_px = 1.3});
}

/// A whole 64 × 64 frame: uniform background plus 50 emitters (the benchmark, camera
/// excluded). items_per_second = frames/s.
void BM_integrated_gaussian_frame_50_emitters(benchmark::State& state) {
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  const auto spots = random_spots<float>(50 * 64, 0.0f, 64.0f, false);
  smlm::Image<float> frame(64, 64);
  auto view = smlm::make_view(frame);
  std::size_t f = 0;
  for (auto _ : state) {
    frame.setConstant(10.0f);
    const std::size_t first = 50 * (f++ & 63);
    for (std::size_t k = 0; k < 50; ++k) model.add_to(spots[first + k], view);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(frame.data());
  state.SetItemsProcessed(state.iterations());
}

/// mu and the four Jacobian planes over a fit window (what one LM iteration needs), double.
void BM_integrated_gaussian_jacobian_double(benchmark::State& state) {
  const auto size = static_cast<std::ptrdiff_t>(state.range(0));
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{0, 0, size, size};
  auto spots = random_spots<double>(1024, double(size) / 2 - 0.5, double(size) / 2 + 0.5, false);
  for (auto& s : spots) s.background = 10;
  smlm::Image<double> mu(size, size);
  std::vector<double> jacobian(static_cast<std::size_t>(4 * w.size()));
  std::size_t k = 0;
  for (auto _ : state) {
    model.evaluate(spots[k++ & 1023], w, smlm::make_view(mu),
                   psf::JacobianView<double>(jacobian.data(), 4, w));
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(mu.data());
  benchmark::DoNotOptimize(jacobian.data());
  state.SetItemsProcessed(state.iterations());
}

// ---- Tabulated, Airy and pupil-function models ------------------------------------------------

/// mu and all Jacobian planes over a size × size window around the spot (double), for any model.
template <class Model>
void jacobian_window(benchmark::State& state, const Model& model) {
  using T = typename Model::scalar;
  const auto size = static_cast<std::ptrdiff_t>(state.range(0));
  const psf::Window w{0, 0, size, size};
  auto spots = random_spots<T>(1024, T(size) / 2 - T(0.5), T(size) / 2 + T(0.5), Model::has_z);
  for (auto& s : spots) s.background = 10;
  smlm::Image<T> mu(size, size);
  std::vector<T> jacobian(static_cast<std::size_t>(Model::num_params * w.size()));
  std::size_t k = 0;
  for (auto _ : state) {
    model.evaluate(spots[k++ & 1023], w, smlm::make_view(mu),
                   psf::JacobianView<T>(jacobian.data(), Model::num_params, w));
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(mu.data());
  benchmark::DoNotOptimize(jacobian.data());
  state.SetItemsProcessed(state.iterations());
}

/// A 2D table of the σ = 1.3 px integrated Gaussian at oversampling 4 (±6 px: 49 × 49 samples).
template <class T>
psf::Tabulated<T, false> gaussian_table() {
  return psf::Tabulated<T, false>::from_table(
             psf::tabulate(psf::IntegratedGaussian<double>{.sigma_px = 1.3}, 6, 4))
      .value();
}
/// A 3D table of the astigmatic Gaussian (σ0 = 1.3 px), ±10 px at oversampling 4, 17 planes
/// over ±400 nm.
template <class T>
psf::Tabulated<T> astigmatic_table() {
  psf::AstigmaticGaussian<double> model;
  model.x_curve.sigma0_px = model.y_curve.sigma0_px = 1.3;
  return psf::Tabulated<T>::from_table(psf::tabulate(model, 10, 4, 17, -400, 50)).value();
}
/// The pupil-function PSF with 80 nm RMS vertical astigmatism, NA 1.4, 680 nm, 100 nm pixels,
/// ±10 px at oversampling 4, 17 planes over ±400 nm (FFT 256).
psf::PupilOptics astigmatic_pupil() {
  psf::PupilOptics o;
  o.aberrations = {{6, 80}};
  o.planes = 17;
  o.z_first_nm = -400;
  o.z_step_nm = 50;
  o.fft_size = 256;
  return o;
}
template <class T>
psf::Tabulated<T> pupil_model() {
  return psf::make_pupil_psf<T>(astigmatic_pupil()).value();
}

void BM_tabulated_2d_add_to_float(benchmark::State& state) {
  add_to_64x64(state, gaussian_table<float>());
}
void BM_tabulated_3d_add_to_float(benchmark::State& state) {
  add_to_64x64(state, astigmatic_table<float>());
}
void BM_airy_add_to_float(benchmark::State& state) { add_to_64x64(state, psf::Airy<float>{}); }
void BM_pupil_add_to_float(benchmark::State& state) { add_to_64x64(state, pupil_model<float>()); }
/// The Airy model tabulated once (±13 px, its whole support, at oversampling 4): the fast path
/// airy.hpp recommends for simulation.
void BM_airy_tabulated_add_to_float(benchmark::State& state) {
  add_to_64x64(state, psf::Tabulated<float, false>::from_table(
                          psf::tabulate(psf::Airy<double>{}, 13, 4))
                          .value());
}

void BM_tabulated_2d_jacobian_double(benchmark::State& state) {
  jacobian_window(state, gaussian_table<double>());
}
void BM_tabulated_3d_jacobian_double(benchmark::State& state) {
  jacobian_window(state, astigmatic_table<double>());
}
void BM_airy_jacobian_double(benchmark::State& state) {
  jacobian_window(state, psf::Airy<double>{});
}
void BM_pupil_jacobian_double(benchmark::State& state) {
  jacobian_window(state, pupil_model<double>());
}

/// Building the pupil model: 17 planes × 3 FFTs of 256² plus the spline coefficients.
void BM_pupil_build_17_planes(benchmark::State& state) {
  const psf::PupilOptics o = astigmatic_pupil();
  for (auto _ : state) {
    auto model = psf::make_pupil_psf<float>(o);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_integrated_gaussian_add_to_float);
BENCHMARK(BM_gaussian_add_to_float);
BENCHMARK(BM_astigmatic_gaussian_add_to_float);
BENCHMARK(BM_integrated_gaussian_add_to_double);
BENCHMARK(BM_integrated_gaussian_frame_50_emitters);
BENCHMARK(BM_integrated_gaussian_jacobian_double)->Arg(7)->Arg(11);
BENCHMARK(BM_tabulated_2d_add_to_float);
BENCHMARK(BM_tabulated_3d_add_to_float);
BENCHMARK(BM_airy_add_to_float);
BENCHMARK(BM_pupil_add_to_float);
BENCHMARK(BM_airy_tabulated_add_to_float);
BENCHMARK(BM_tabulated_2d_jacobian_double)->Arg(11);
BENCHMARK(BM_tabulated_3d_jacobian_double)->Arg(11);
BENCHMARK(BM_airy_jacobian_double)->Arg(11);
BENCHMARK(BM_pupil_jacobian_double)->Arg(11);
BENCHMARK(BM_pupil_build_17_planes)->Unit(benchmark::kMillisecond);
