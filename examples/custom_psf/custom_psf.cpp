// A PSF of your own, from definition to localizations: a struct satisfying psf::Model, checked
// with the conformance suite the library's models pass (smlm/testing/psf_conformance.hpp),
// simulated through the library's EMCCD camera, and fitted back with the classic pipeline, which
// uses its Jacobian. No registration anywhere: every component asks only for the concept.
//
//   example_custom_psf [FRAMES]      (default 10)
//
// Prints the suite's summary and the detection metrics against the simulated truth; exits 1 when
// a conformance check fails or the fit misses its floor (Jaccard ≥ 0.8, lateral RMSE ≤ 30 nm at
// 100 nm tolerance: the spots are bright and sparse).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/sim/simulator.hpp>
#include <smlm/testing/psf_conformance.hpp>

// A separable, pixel-integrated logistic PSF: heavier tails than a Gaussian (exponential, not
// Gaussian, decay), with closed forms for the pixel integrals and their derivatives. Along x,
// pixel j receives
//   E(j) = F((j + 1 − x)/s) − F((j − x)/s),   F(u) = 1/(1 + e^−u),
//   ∂E/∂x = (f((j − x)/s) − f((j + 1 − x)/s)) / s,   f(u) = F′(u) = F(u) F(−u),
// and h(i, j) = E_x(j) · E_y(i). The logistic's standard deviation is π s/√3 ≈ 1.81 s. Templated
// on the scalar, as the library's models are: the fitter and the fine Jacobian check use double,
// the simulator float.
template <class T>
struct LogisticPsf {
  using scalar = T;
  using Spot = smlm::psf::Spot<T>;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;  // x_px, y_px, photons, background

  T scale_px = T(0.6);  ///< s; σ ≈ 1.09 px

  // Each axis loses 2 F(−r/s) ≈ 2 e^(−r/s) outside ±r: 4 e^−12 ≈ 2e-5 of the photons outside the
  // square for r = 12 s (the contract allows 1e-3).
  T support_radius_px(const Spot&) const noexcept { return 12 * scale_px; }

  void evaluate(const Spot& s, smlm::psf::Window w, smlm::ImageView<T> mu) const noexcept {
    render(s, w, mu, nullptr, false);
  }
  void evaluate(const Spot& s, smlm::psf::Window w, smlm::ImageView<T> mu,
                smlm::psf::JacobianView<T> jacobian) const noexcept {
    render(s, w, mu, &jacobian, false);
  }
  // photons · h added inside the support window clipped to the frame (no background).
  void add_to(const Spot& s, smlm::ImageView<T> frame) const noexcept {
    const auto w = smlm::psf::clip(smlm::psf::support_window(*this, s), frame.cols(), frame.rows());
    if (!w.empty()) render(s, w, frame.block(w.y0, w.x0, w.height, w.width), nullptr, true);
  }

 private:
  struct Axis {
    T e, de;  // E(j) and ∂E/∂x
  };
  static T logistic(T u) noexcept { return 1 / (1 + std::exp(-u)); }
  // mu = background + photons · h over w (or, accumulate: out += photons · h), and the Jacobian
  // planes x, y, photons, background when asked for. One row factor per row, one column per pixel.
  template <class Out>
  void render(const Spot& s, smlm::psf::Window w, Out&& out, const smlm::psf::JacobianView<T>* jacobian,
              bool accumulate) const noexcept {
    for (std::ptrdiff_t r = 0; r < w.height; ++r) {
      const Axis row = axis(w.y0 + r, s.y_px);
      for (std::ptrdiff_t c = 0; c < w.width; ++c) {
        const Axis col = axis(w.x0 + c, s.x_px);
        const T h = col.e * row.e;
        out(r, c) = (accumulate ? out(r, c) : s.background) + s.photons * h;
        if (jacobian == nullptr) continue;
        jacobian->plane(0)(r, c) = s.photons * col.de * row.e;
        jacobian->plane(1)(r, c) = s.photons * col.e * row.de;
        jacobian->plane(2)(r, c) = h;
        jacobian->plane(3)(r, c) = 1;
      }
    }
  }
  Axis axis(std::ptrdiff_t j, T x) const noexcept {
    const T lo = (static_cast<T>(j) - x) / scale_px, hi = lo + 1 / scale_px;  // pixel edges in units of s
    // Right of the centre F is near 1: take the difference on the left tail, F(−lo) − F(−hi), so
    // it keeps its precision and mirrored pixels compute the same numbers.
    const T e = lo >= 0 ? logistic(-lo) - logistic(-hi) : logistic(hi) - logistic(lo);
    const T f_lo = logistic(lo) * logistic(-lo), f_hi = logistic(hi) * logistic(-hi);
    return {e, (f_lo - f_hi) / scale_px};
  }
};
static_assert(smlm::psf::check_model<LogisticPsf<float>>());

// Conformance cases: narrow and wide, off-centre and at a pixel corner, with and without
// background. The same list in float and double (check_psf compares them pairwise).
template <class T>
std::vector<smlm::testing::PsfCase<LogisticPsf<T>>> cases() {
  return {{"s 0.6 px", LogisticPsf<T>{}, {.x_px = T(20.3), .y_px = T(18.7), .photons = T(2000), .background = T(10)}},
          {"s 0.25 px (narrow)", LogisticPsf<T>{.scale_px = T(0.25)}, {.x_px = T(9.91), .y_px = T(12.07), .photons = T(800)}},
          {"s 2 px (wide), at a pixel corner", LogisticPsf<T>{.scale_px = T(2)},
           {.x_px = T(40), .y_px = T(41), .photons = T(5000), .background = T(3)},
           0.0, true, true}};
}

int main(int argc, char** argv) {
  int frames = 10;
  if (argc > 1) {
    const char* end = argv[1] + std::strlen(argv[1]);
    if (std::from_chars(argv[1], end, frames).ptr != end || frames <= 0) {
      std::fprintf(stderr, "custom_psf: FRAMES \"%s\" is not a positive whole number\n", argv[1]);
      return 1;
    }
  }

  // 1. The model against the contract: every check of the suite, float and double.
  const smlm::testing::Report conformance = smlm::testing::check_psf(cases<float>(), cases<double>());
  std::printf("conformance: %s", conformance.summary().c_str());
  if (!conformance.passed()) return 1;

  // 2. A movie: 32 × 32 pixels of 100 nm, sparse blinking labels, 2,000–3,000 photons when on.
  const LogisticPsf<float> psf;
  const smlm::camera::Emccd<float> camera;
  const smlm::sim::SimulationConfig<float> config{.width_px = 32,
                                                  .height_px = 32,
                                                  .pixel_nm = 100,
                                                  .background_photons = 10,
                                                  .background_map = {},
                                                  .kinetics = {.p_on_off = 0.5, .p_off_on = 0.05},
                                                  .photons = smlm::sim::PhotonDistribution::uniform(2000, 3000),
                                                  .drift = {},
                                                  .seed = 11};
  std::vector<smlm::sim::Position> labels;
  if (auto s = smlm::sim::uniform(config.field(), {.density_per_um2 = 4}, config.seed, labels); !s.ok()) {
    std::fprintf(stderr, "custom_psf: %s\n", s.message().c_str());
    return 1;
  }
  smlm::sim::Simulator simulator(psf, camera, config, labels);
  auto movie = smlm::sim::simulate(simulator, frames);
  if (!movie) {
    std::fprintf(stderr, "custom_psf: %s\n", movie.message().c_str());
    return 1;
  }
  movie->truth.z_nm.clear();  // a 2D movie

  // 3. Localize with the same model: wavelet detection, then the generic MLE fitter over
  //    <LogisticPsf, EMCCD noise>, frame by frame.
  const smlm::loc::NoiseModel<float> noise = smlm::loc::noise_model<float>(camera);
  const smlm::loc::ClassicOptions options;
  smlm::loc::ClassicWorkspace<float> workspace(config.height_px, config.width_px, options);
  std::vector<smlm::loc::FrameLocalization> fits(workspace.peaks.size());
  smlm::LocalizationTable locs;
  for (std::ptrdiff_t f = 0; f < movie->stack.frames(); ++f) {
    const smlm::loc::FrameReport report = smlm::loc::localize_frame(
        psf, camera, noise, std::as_const(movie->stack).frame(f), static_cast<std::uint32_t>(f), options, workspace,
        std::span(fits));
    smlm::loc::append_localizations(locs, std::span(fits.data(), report.kept), static_cast<std::int32_t>(f + 1),
                                    config.pixel_nm);
  }

  // 4. Against the truth, at 100 nm.
  const smlm::eval::DetectionMetrics m =
      smlm::eval::detection_metrics(smlm::eval::match(movie->truth, locs, {.tolerance_nm = 100}));
  std::printf("frames=%d emitters=%zu localizations=%zu jaccard=%.3f rmse_nm=%.1f\n", frames, movie->truth.size(),
              locs.size(), m.jaccard, m.rmse_lateral_nm);
  return m.jaccard >= 0.8 && m.rmse_lateral_nm <= 30 ? 0 : 1;
}
