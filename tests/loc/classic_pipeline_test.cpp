// classic_pipeline.hpp: a simulated frame of isolated emitters through each camera is filtered,
// detected and fitted; every emitter is found once, within a few CRLBs, with its uncertainty.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/loc/classic_pipeline.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
namespace psf = smlm::psf;
using smlm::Image;

namespace {
struct Truth {
  double x, y;
};
// A 5 × 5 grid of emitters 12 px apart (isolated: ±4.6σ), sub-pixel offsets from the RNG.
std::vector<Truth> grid(std::uint64_t seed) {
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::emitters);
  std::vector<Truth> t;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      t.push_back({8.0 + 12 * j + smlm::uniform01<double>(rng), 8.0 + 12 * i + smlm::uniform01<double>(rng)});
  return t;
}

// Photons per emitter: 2,000 by default; `frame` is the camera's frame index (record and fit).
template <class Camera>
void check_frame(const Camera& cam, const loc::NoiseModel<float>& noise, loc::estimator method, bool fit_sigma,
                 double emitter_photons = 2000, std::uint32_t frame = 0) {
  const int n = 68;
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  const auto truth = grid(11);
  Image<float> photons = Image<float>::Constant(n, n, 10), adu(n, n);
  for (const Truth& t : truth)
    model.add_to({float(t.x), float(t.y), 0, float(emitter_photons), 0}, smlm::make_view(photons));
  smlm::camera::record_frame(cam, smlm::const_view(photons), 5, frame, smlm::make_view(adu));
  loc::ClassicOptions o;
  o.fit.method = method;
  o.fit.fit_sigma = fit_sigma;
  o.threshold_factor = 2;
  loc::ClassicWorkspace<float> ws(n, n, o);
  std::vector<loc::FrameLocalization> out(100);
  const psf::IntegratedGaussian<float> start{.sigma_px = fit_sigma ? 1.0f : 1.3f};
  const auto report = loc::localize_frame(start, cam, noise, smlm::const_view(adu), frame, o, ws, std::span(out));
  CHECK(report.kept == truth.size());
  CHECK(report.candidates == truth.size());
  CHECK_FALSE(report.truncated);
  for (std::size_t k = 0; k < report.kept && k < out.size(); ++k) {
    const auto& l = out[k];
    double best = 1e9;
    for (const Truth& t : truth) best = std::min(best, std::hypot(l.x_px - t.x, l.y_px - t.y));
    CHECK(best < 0.3);  // √CRLB is about 0.03 px (Poisson) to 0.05 px (EMCCD): 0.3 px is > 6σ
    CHECK(l.uncertainty_px > 0.015);
    CHECK(l.uncertainty_px < 0.08);
    CHECK(l.photons == doctest::Approx(emitter_photons).epsilon(0.15));
    // 7 × 7 windows hold few background pixels: its sd is about 1.3 photons through the EMCCD;
    // wlsq's data-based weights (Neyman's χ²) bias it low, to about 6.3 here (see fitter.hpp).
    CHECK(l.background == doctest::Approx(10).epsilon(0.45));
    if (fit_sigma) CHECK(l.sigma_px == doctest::Approx(1.3).epsilon(0.15));
  }
  smlm::LocalizationTable table;
  loc::append_localizations(table, std::span<const loc::FrameLocalization>(out.data(), report.kept), 7, 100.0);
  CHECK(table.consistent());
  REQUIRE(table.size() == report.kept);
  CHECK(table.frame[0] == 7);
  CHECK(table.x_nm[0] == doctest::Approx(out[0].x_px * 100));
  CHECK(table.uncertainty_xy_nm[0] == doctest::Approx(out[0].uncertainty_px * 100));
}
}  // namespace

TEST_CASE("classic pipeline: ideal camera, MLE and LSQ") {
  const smlm::camera::Ideal<float> cam;
  SUBCASE("mle") { check_frame(cam, loc::noise_model<float>(cam), loc::estimator::mle, false); }
  SUBCASE("lsq") { check_frame(cam, loc::noise_model<float>(cam), loc::estimator::lsq, false); }
  SUBCASE("wlsq, sigma free") { check_frame(cam, loc::noise_model<float>(cam), loc::estimator::wlsq, true); }
}

TEST_CASE("classic pipeline: EMCCD and sCMOS through their noise models") {
  SUBCASE("emccd") {
    const smlm::camera::Emccd<float> cam;
    check_frame(cam, loc::noise_model<float>(cam), loc::estimator::mle, false);
  }
  SUBCASE("scmos, per-pixel maps") {
    const int n = 68;
    Image<float> offset(n, n), gain(n, n), var(n, n);
    smlm::Philox4x32 rng(3, 0, smlm::rng_purpose::user);
    for (int i = 0; i < n * n; ++i) {
      offset.data()[i] = 100 + 5 * smlm::uniform01<float>(rng);
      gain.data()[i] = 0.4f + 0.2f * smlm::uniform01<float>(rng);
      var.data()[i] = 2 + 20 * smlm::uniform01<float>(rng);
    }
    const smlm::camera::Scmos<float> cam(offset, gain, var, 0.8f);
    Image<float> ex(n, n), rv(n, n);
    check_frame(cam, loc::noise_model<float>(cam, smlm::make_view(ex), smlm::make_view(rv)), loc::estimator::mle, false);
  }
}

TEST_CASE("classic pipeline: the cellphone CMOS, each frame with its own gain") {
  const smlm::camera::CmosPhone<float> cam;
  SUBCASE("a recorded frame") {
    // 1,000 photons keep the brightest pixel (about 100 photons over 10 of background, 150 ADU)
    // under the knee (220 ADU); frame 60 is a dip frame (m = 0.986, frame 0's is 0.98).
    const std::uint32_t frame = 60;
    check_frame(cam, loc::noise_model<float>(cam, frame), loc::estimator::mle, false, 1000, frame);
  }
  SUBCASE("the frame index selects the gain") {
    // The noiseless mean of frame 7 (m = 1.0007, no dip) fitted as frame 7 returns the photons; as
    // frame 0 (the dip, m = 0.98) it is read through the wrong gain, m(7)/m(0) ≈ 1.02 too bright.
    const int n = 24;
    const std::uint32_t frame = 7;
    const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
    Image<float> photons = Image<float>::Constant(n, n, 10), adu(n, n);
    model.add_to({12.3f, 11.6f, 0, 1000, 0}, smlm::make_view(photons));
    for (std::ptrdiff_t y = 0; y < n; ++y)
      for (std::ptrdiff_t x = 0; x < n; ++x)
        adu(y, x) = static_cast<float>(cam.mean_adu(photons(y, x), smlm::camera::Pixel{y, x}, frame));
    loc::ClassicOptions o;
    loc::ClassicWorkspace<float> ws(n, n, o);
    std::vector<loc::FrameLocalization> out(10);
    const auto right = loc::localize_frame(model, cam, loc::noise_model<float>(cam, frame), smlm::const_view(adu), frame,
                                           o, ws, std::span(out));
    REQUIRE(right.kept == 1);
    CHECK(out[0].photons == doctest::Approx(1000).epsilon(0.002));
    CHECK(out[0].background == doctest::Approx(10).epsilon(0.002));
    CHECK(out[0].x_px == doctest::Approx(12.3).epsilon(1e-3));
    const auto wrong =
        loc::localize_frame(model, cam, loc::noise_model<float>(cam), smlm::const_view(adu), o, ws, std::span(out));
    REQUIRE(wrong.kept == 1);
    CHECK(out[0].photons / 1000 == doctest::Approx(cam.frame_gain(frame) / cam.frame_gain(0)).epsilon(0.002));
  }
}

TEST_CASE("classic pipeline: an empty frame gives nothing, a bad workspace is a precondition") {
  const smlm::camera::Ideal<float> cam;
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  Image<float> flat = Image<float>::Constant(32, 32, 10);
  loc::ClassicOptions o;
  loc::ClassicWorkspace<float> ws(32, 32, o);
  std::vector<loc::FrameLocalization> out(10);
  const auto r = loc::localize_frame(model, cam, loc::noise_model<float>(cam), smlm::const_view(flat), o, ws, std::span(out));
  CHECK(r.candidates == 0);  // F2 of a constant frame is 0, not above 0 · std(F1)
  CHECK(r.kept == 0);
  loc::ClassicWorkspace<float> small(16, 16, o);
  CHECK_THROWS(loc::localize_frame(model, cam, loc::noise_model<float>(cam), smlm::const_view(flat), o, small, std::span(out)));
}

namespace {
// 150 emitters at random in 68 × 68 px (σ = 1.3 px: about 0.55 per σ² · 10), 2,000 photons,
// ideal camera: spots overlap, and one pass fits many overlapping pairs as one spot.
struct DenseScene {
  static constexpr int n = 68;
  psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  smlm::camera::Ideal<float> cam;
  std::vector<Truth> truth;
  Image<float> adu;

  DenseScene() : adu(n, n) {
    smlm::Philox4x32 rng(21, 0, smlm::rng_purpose::emitters);
    for (int k = 0; k < 150; ++k) truth.push_back({4 + 60 * smlm::uniform01<double>(rng), 4 + 60 * smlm::uniform01<double>(rng)});
    Image<float> photons = Image<float>::Constant(n, n, 10);
    for (const Truth& t : truth) model.add_to({float(t.x), float(t.y), 0, 2000.0f, 0}, smlm::make_view(photons));
    smlm::camera::record_frame(cam, smlm::const_view(photons), 5, 0, smlm::make_view(adu));
  }

  // Molecules found within 0.5 px (≈ 0.4 σ), each by at most one fit (greedy by distance).
  void score(const loc::ClassicOptions& o, std::size_t& found, std::size_t& fits, loc::FrameReport* report_out = nullptr) const {
    loc::ClassicWorkspace<float> ws(n, n, o);
    std::vector<loc::FrameLocalization> out(ws.kept.size());
    const auto report = loc::localize_frame(model, cam, loc::noise_model<float>(cam), smlm::const_view(adu), o, ws, std::span(out));
    if (report_out) *report_out = report;
    fits = report.kept;
    std::vector<bool> taken(truth.size(), false);
    found = 0;
    for (std::size_t k = 0; k < report.kept; ++k) {
      std::size_t best = truth.size();
      double best_d = 0.5;
      for (std::size_t t = 0; t < truth.size(); ++t) {
        const double d = std::hypot(out[k].x_px - truth[t].x, out[k].y_px - truth[t].y);
        if (!taken[t] && d < best_d) best_d = d, best = t;
      }
      if (best < truth.size()) taken[best] = true, ++found;
    }
  }
};
}  // namespace

TEST_CASE("classic pipeline, passes > 1: a dense frame gives more molecules found, as precise, than one pass") {
  const DenseScene scene;
  loc::ClassicOptions one, three;
  three.passes = 3;
  std::size_t found1 = 0, fits1 = 0, found3 = 0, fits3 = 0;
  scene.score(one, found1, fits1);
  scene.score(three, found3, fits3);
  MESSAGE("one pass: ", found1, " of 150 found by ", fits1, " fits; three passes: ", found3, " by ", fits3);
  CHECK(double(found3) >= 1.25 * double(found1));
  CHECK(double(found3) / double(fits3) >= double(found1) / double(fits1) - 0.05);

  // passes = 1 is the single pass, whatever the multi-pass settings.
  loc::ClassicOptions b;
  b.refine_rounds = 0;
  b.min_photons_factor = 0.9;
  b.min_separation_px = 3;
  std::size_t found_b = 0, fits_b = 0;
  scene.score(b, found_b, fits_b);
  CHECK(found_b == found1);
  CHECK(fits_b == fits1);
}

TEST_CASE("classic pipeline, multi-emitter fitting: a dense frame gives more molecules found, as precise, than one pass") {
  const DenseScene scene;
  loc::ClassicOptions one, multi, both;
  multi.multi.max_emitters = 4;
  both.multi.max_emitters = 4;
  both.passes = 3;
  std::size_t found1 = 0, fits1 = 0, found_m = 0, fits_m = 0, found_b = 0, fits_b = 0;
  loc::FrameReport report;
  scene.score(one, found1, fits1);
  scene.score(multi, found_m, fits_m, &report);
  scene.score(both, found_b, fits_b);
  MESSAGE("one pass: ", found1, " of 150 by ", fits1, " fits; multi-emitter: ", found_m, " by ", fits_m, " (",
          report.multi_windows, " windows with several); with 3 passes: ", found_b, " by ", fits_b);
  CHECK(report.multi_windows > 0);
  CHECK(double(found_m) >= 1.25 * double(found1));
  CHECK(double(found_m) / double(fits_m) >= double(found1) / double(fits1) - 0.05);
  CHECK(found_b >= found_m);
  CHECK(double(found_b) / double(fits_b) >= double(found1) / double(fits1) - 0.05);
  // No two kept fits closer than min_separation_px (duplicates from neighbouring windows merged).
  loc::ClassicWorkspace<float> ws(DenseScene::n, DenseScene::n, multi);
  std::vector<loc::FrameLocalization> out(ws.kept.size());
  const auto r = loc::localize_frame(scene.model, scene.cam, loc::noise_model<float>(scene.cam), smlm::const_view(scene.adu), multi,
                                     ws, std::span(out));
  double closest = 1e9;
  for (std::size_t a = 0; a < r.kept; ++a)
    for (std::size_t b = a + 1; b < r.kept; ++b)
      closest = std::min(closest, std::hypot(out[a].x_px - out[b].x_px, out[a].y_px - out[b].y_px));
  CHECK(closest >= multi.min_separation_px);

  // max_emitters = 1 is the plain pipeline.
  loc::ClassicOptions off;
  off.multi.max_emitters = 1;
  off.multi.p_value = 0.4;
  std::size_t found_o = 0, fits_o = 0;
  scene.score(off, found_o, fits_o);
  CHECK(found_o == found1);
  CHECK(fits_o == fits1);
}
