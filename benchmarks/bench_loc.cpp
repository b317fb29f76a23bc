// Localization (issue 6), one thread:
//   * Gaussian MLE fits per second on 7 × 7 and 11 × 11 windows (1,000 photons, background 10,
//     σ = 1.3 px, Poisson camera), float and double; counters rmse_px and rmse_over_sqrt_crlb
//     report the accuracy of the very fits timed (target: ≥ 150,000 fits/s on 11 × 11 with RMSE
//     within 5 % of √CRLB);
//   * the whole classic pipeline (to_photons, wavelet filter, detection, fits, CRLB, CSV written
//     to memory) in localizations per second on a sparse 512 × 512 movie (target ≥ 50,000/s);
//   * peak finding on 512 × 512 network-output frames, frames per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <sstream>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/loc/crlb.hpp>
#include <smlm/loc/fitter.hpp>
#include <smlm/loc/peak_finder.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace {

namespace loc = smlm::loc;
namespace psf = smlm::psf;
using smlm::Image;

template <class T>
struct FitSet {
  std::vector<Image<T>> data;
  std::vector<psf::Spot<double>> truth;
  double mean_crlb = 0;  // per-axis variance, averaged
};

template <class T>
FitSet<T> make_fit_set(int side, int n) {
  FitSet<T> set;
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{0, 0, side, side};
  const smlm::camera::Ideal<float> cam;
  loc::FitWorkspace<double> ws(w.size());
  Image<double> mu(side, side);
  Image<float> expected(side, side), adu(side, side);
  const double c = (side - 1) / 2.0;
  for (int i = 0; i < n; ++i) {
    smlm::Philox4x32 rng(99, static_cast<std::uint32_t>(i), smlm::rng_purpose::emitters);
    const psf::Spot<double> s{c + smlm::uniform01<double>(rng), c + smlm::uniform01<double>(rng), 0, 1000, 10};
    model.evaluate(s, w, smlm::make_view(mu));
    expected = mu.cast<float>();
    smlm::camera::record_frame(cam, smlm::const_view(expected), 99, static_cast<std::uint32_t>(i), smlm::make_view(adu));
    set.data.push_back(adu.cast<T>());
    set.truth.push_back(s);
    const auto b = loc::crlb(model, s, w, loc::poisson_noise<double>(), false, ws);
    set.mean_crlb += 0.5 * (b.variance[0] + b.variance[1]) / n;
  }
  return set;
}

template <class T>
void BM_MleFit(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const int n = 4096;
  const FitSet<T> set = make_fit_set<T>(side, n);
  const psf::IntegratedGaussian<T> model{.sigma_px = T(1.3)};
  const psf::Window w{0, 0, side, side};
  loc::FitWorkspace<T> ws(w.size());
  loc::FitOptions options;  // mle, σ fixed
  options.tolerance = state.range(1) * 1e-6;
  double se = 0;
  std::int64_t fits = 0, ok = 0, iterations = 0;
  int i = 0;
  for (auto _ : state) {
    const auto view = smlm::const_view(set.data[static_cast<std::size_t>(i)]);
    const auto r = loc::fit(model, view, w, loc::poisson_noise<T>(), loc::initial_guess(view, w), options, ws);
    benchmark::DoNotOptimize(r);
    if (r.status == loc::fit_status::converged) {
      const double ex = r.spot.x_px - set.truth[static_cast<std::size_t>(i)].x_px;
      const double ey = r.spot.y_px - set.truth[static_cast<std::size_t>(i)].y_px;
      se += 0.5 * (ex * ex + ey * ey);
      ++ok;
    }
    iterations += r.iterations;
    ++fits;
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(fits);
  state.counters["rmse_px"] = std::sqrt(se / static_cast<double>(ok));
  state.counters["rmse_over_sqrt_crlb"] = std::sqrt(se / static_cast<double>(ok)) / std::sqrt(set.mean_crlb);
  state.counters["converged"] = static_cast<double>(ok) / static_cast<double>(fits);
  state.counters["iterations"] = static_cast<double>(iterations) / static_cast<double>(fits);
}
// Second argument: FitOptions::tolerance in units of 1e-6 (100 = the default 1e-4).
BENCHMARK(BM_MleFit<float>)->Args({7, 100})->Args({11, 100});
BENCHMARK(BM_MleFit<double>)->Args({7, 100})->Args({11, 100})->Args({11, 10});

/// A sparse 512 × 512 movie: 8 frames of 300 emitters each (1.1 per µm² at 100 nm pixels),
/// 1,000–3,000 photons, σ = 1.3 px, background 10, EMCCD camera.
struct Movie {
  std::vector<Image<float>> frames;
  smlm::camera::Emccd<float> camera;
};
Movie make_movie() {
  Movie m;
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  for (std::uint32_t f = 0; f < 8; ++f) {
    smlm::Philox4x32 rng(7, f, smlm::rng_purpose::emitters);
    Image<float> photons = Image<float>::Constant(512, 512, 10), adu(512, 512);
    for (int k = 0; k < 300; ++k) {
      const float x = 4 + 504 * smlm::uniform01<float>(rng), y = 4 + 504 * smlm::uniform01<float>(rng);
      const float n = 1000 + 2000 * smlm::uniform01<float>(rng);
      model.add_to({x, y, 0, n, 0}, smlm::make_view(photons));
    }
    smlm::camera::record_frame(m.camera, smlm::const_view(photons), 7, f, smlm::make_view(adu));
    m.frames.push_back(adu);
  }
  return m;
}

void BM_ClassicPipeline(benchmark::State& state) {
  const Movie movie = make_movie();
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  const auto noise = loc::noise_model<float>(movie.camera);
  loc::ClassicOptions options;
  options.fit_radius_px = static_cast<int>(state.range(0));
  loc::ClassicWorkspace<float> ws(512, 512, options);
  std::vector<loc::FrameLocalization> fits(ws.peaks.size());
  std::int64_t localizations = 0;
  for (auto _ : state) {
    smlm::LocalizationTable table;
    for (std::size_t f = 0; f < movie.frames.size(); ++f) {
      const auto r = loc::localize_frame(model, movie.camera, noise, smlm::const_view(movie.frames[f]), options, ws,
                                         std::span(fits));
      loc::append_localizations(table, std::span<const loc::FrameLocalization>(fits.data(), r.kept),
                                static_cast<std::int32_t>(f + 1), 100.0);
    }
    std::ostringstream csv;
    const auto status = smlm::io::write_localizations_csv(csv, table, {}, "memory");
    benchmark::DoNotOptimize(status.ok());
    benchmark::DoNotOptimize(csv.str().size());
    localizations += static_cast<std::int64_t>(table.size());
    state.counters["per_frame"] = static_cast<double>(table.size()) / static_cast<double>(movie.frames.size());
  }
  state.SetItemsProcessed(localizations);
}
BENCHMARK(BM_ClassicPipeline)->Arg(3)->Unit(benchmark::kMillisecond);

/// 512 × 512 network output: 400 compact blobs (σ = 1.5 output px) on a faint floor.
void BM_PeakFinder(benchmark::State& state) {
  Image<float> out = Image<float>::Constant(512, 512, 0.001f);
  const psf::IntegratedGaussian<float> blob{.sigma_px = 1.5f};
  smlm::Philox4x32 rng(3, 0, smlm::rng_purpose::user);
  for (int k = 0; k < 400; ++k)
    blob.add_to({6 + 500 * smlm::uniform01<float>(rng), 6 + 500 * smlm::uniform01<float>(rng), 0, 1, 0}, smlm::make_view(out));
  loc::PeakFinderOptions o;
  o.relative_threshold = 0.1;
  o.min_distance_px = 2;
  o.refine = state.range(0) ? loc::refinement::quadratic : loc::refinement::centroid;
  std::vector<loc::Peak> peaks(65536);
  std::size_t found = 0;
  for (auto _ : state) {
    const auto r = loc::find_peaks(smlm::const_view(out), o, std::span(peaks));
    found = r.count;
    benchmark::DoNotOptimize(peaks.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["peaks"] = static_cast<double>(found);
}
BENCHMARK(BM_PeakFinder)->Arg(0)->Arg(1);

}  // namespace
