// Drift correction by redundant cross-correlation (post/drift.hpp): the shift between two segments
// to a fraction of a nanometre, linear and random-walk drift to <= 5 nm RMS at 5,000 localizations
// per segment (the bar), a false correlation peak outvoted and rejected, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/post/drift.hpp>

using namespace smlm;

namespace {

struct Scene {
  LocalizationTable table;
  std::vector<double> true_x, true_y;  ///< true drift of each row
};

/// `fluorophores` fixed random positions in a `field_nm` square blink (on with probability
/// `p_on` per frame); each on-event is a localization at position + drift(f) + N(0, noise_nm²).
template <class Drift>
Scene blinking_scene(std::int32_t frames, int fluorophores, double p_on, double field_nm, double noise_nm, Drift drift,
                     std::uint64_t seed = 3) {
  Philox4x32 rng(seed, 0, rng_purpose::user);
  std::vector<double> fx(static_cast<std::size_t>(fluorophores)), fy(fx.size());
  for (std::size_t i = 0; i < fx.size(); ++i) fx[i] = field_nm * uniform01<double>(rng), fy[i] = field_nm * uniform01<double>(rng);
  Scene s;
  for (std::int32_t f = 1; f <= frames; ++f) {
    Philox4x32 frame_rng(seed, static_cast<std::uint32_t>(f), rng_purpose::user);
    const auto [dx, dy] = drift(f);
    for (std::size_t i = 0; i < fx.size(); ++i) {
      if (uniform01<double>(frame_rng) >= p_on) continue;
      s.table.frame.push_back(f);
      s.table.x_nm.push_back(fx[i] + dx + noise_nm * normal<double>(frame_rng));
      s.table.y_nm.push_back(fy[i] + dy + noise_nm * normal<double>(frame_rng));
      s.true_x.push_back(dx), s.true_y.push_back(dy);
    }
  }
  return s;
}

/// RMS over the rows of (estimated − true drift), its mean removed (only relative drift is
/// measurable).
double residual_rms(const Scene& s, const post::DriftEstimate& d) {
  double mx = 0, my = 0;
  const auto n = double(s.table.size());
  for (std::size_t i = 0; i < s.table.size(); ++i) {
    const auto [ex, ey] = d.at(s.table.frame[i]);
    mx += (ex - s.true_x[i]) / n, my += (ey - s.true_y[i]) / n;
  }
  double sum = 0;
  for (std::size_t i = 0; i < s.table.size(); ++i) {
    const auto [ex, ey] = d.at(s.table.frame[i]);
    sum += std::pow(ex - s.true_x[i] - mx, 2) + std::pow(ey - s.true_y[i] - my, 2);
  }
  return std::sqrt(sum / n);
}

double drift_rms(const Scene& s) {
  double mx = 0, my = 0, sum = 0;
  const auto n = double(s.table.size());
  for (std::size_t i = 0; i < s.table.size(); ++i) mx += s.true_x[i] / n, my += s.true_y[i] / n;
  for (std::size_t i = 0; i < s.table.size(); ++i) sum += std::pow(s.true_x[i] - mx, 2) + std::pow(s.true_y[i] - my, 2);
  return std::sqrt(sum / n);
}

}  // namespace

TEST_CASE("fast_fft_size and the sub-pixel peak") {
  CHECK(fast_fft_size(0) == 1);
  CHECK(fast_fft_size(1) == 1);
  CHECK(fast_fft_size(7) == 8);
  CHECK(fast_fft_size(11) == 12);
  CHECK(fast_fft_size(97) == 100);
  CHECK(fast_fft_size(721) == 729);
  // Exact on a sampled Gaussian, whatever its width.
  for (const double x0 : {-0.45, -0.2, 0.0, 0.13, 0.4})
    for (const double sigma : {0.7, 1.5, 3.0}) {
      auto g = [&](double x) { return 5 * std::exp(-(x - x0) * (x - x0) / (2 * sigma * sigma)); };
      CHECK(post::detail::subpixel_offset(g(-1), g(0), g(1)) == doctest::Approx(x0).epsilon(1e-9));
    }
  CHECK(post::detail::subpixel_offset(1, 1, 1) == 0);  // flat: no peak to refine
}

TEST_CASE("estimate_drift: two segments shifted by a known sub-pixel amount") {
  const double sx = 37.3, sy = -12.9;
  Scene s = blinking_scene(200, 600, 0.05, 4000, 0, [&](std::int32_t f) {
    return f > 100 ? std::pair{sx, sy} : std::pair{0.0, 0.0};
  });
  post::DriftOptions o;
  o.segment_frames = 100;
  const post::DriftEstimate d = post::estimate_drift(s.table, o).value();
  REQUIRE(d.segment_x_nm.size() == 2);
  CHECK(d.pairs == 1);
  CHECK(d.x_nm.front() == 0);  // anchored at the first frame
  CHECK(d.y_nm.front() == 0);
  CHECK(d.segment_x_nm[1] - d.segment_x_nm[0] == doctest::Approx(sx).epsilon(0.01));  // ±0.4 nm
  CHECK(d.segment_y_nm[1] - d.segment_y_nm[0] == doctest::Approx(sy).epsilon(0.03));
  CHECK(d.segment_frame[0] == doctest::Approx(50.5).epsilon(0.01));
  CHECK(d.segment_frame[1] == doctest::Approx(150.5).epsilon(0.01));
}

TEST_CASE("estimate_drift: linear and random-walk drift to <= 5 nm RMS at 5,000 localizations per segment") {
  // 1,200 fluorophores in 5 µm, 2.1 % on per frame: 25 localizations per frame, 5,000 per
  // 200-frame segment, 10 segments; 10 nm localization precision.
  const std::int32_t frames = 2000;
  SUBCASE("linear: 0.15, -0.08 nm per frame (300 nm, 160 nm in all)") {
    Scene s = blinking_scene(frames, 1200, 0.021, 5000, 10, [](std::int32_t f) { return std::pair{0.15 * f, -0.08 * f}; });
    post::DriftOptions o;
    o.segment_frames = 200;
    const post::DriftEstimate d = post::estimate_drift(s.table, o).value();
    CHECK(d.segment_x_nm.size() == 10);
    CHECK(d.pairs == 45);
    CHECK(drift_rms(s) > 80);
    CHECK(residual_rms(s, d) <= 5);
    MESSAGE("linear drift: RMS ", drift_rms(s), " nm, residual ", residual_rms(s, d), " nm, pair residual ",
            d.residual_rms_nm, " nm, rejected ", d.rejected);
  }
  SUBCASE("random walk, 0.3 nm per frame per axis, on top of 0.05 nm per frame") {
    double wx = 0, wy = 0;
    std::vector<std::pair<double, double>> path(frames + 1);
    Philox4x32 rng(11, 0, rng_purpose::drift);
    for (std::int32_t f = 1; f <= frames; ++f) {
      wx += 0.3 * normal<double>(rng), wy += 0.3 * normal<double>(rng);
      path[static_cast<std::size_t>(f)] = {0.05 * f + wx, wy};
    }
    Scene s = blinking_scene(frames, 1200, 0.021, 5000, 10, [&](std::int32_t f) { return path[static_cast<std::size_t>(f)]; });
    const post::DriftEstimate d = post::estimate_drift(s.table).value();  // automatic: 10 segments
    CHECK(d.segment_frames == 200);
    CHECK(drift_rms(s) > 20);
    CHECK(residual_rms(s, d) <= 5);
    MESSAGE("random walk: RMS ", drift_rms(s), " nm, residual ", residual_rms(s, d), " nm");
    // correct_drift subtracts it: the corrected rows sit within the residual of their molecules.
    LocalizationTable corrected = s.table;
    post::correct_drift(corrected, d);
    for (std::size_t i = 0; i < corrected.size(); i += 997) {
      const auto [ex, ey] = d.at(corrected.frame[i]);
      CHECK(corrected.x_nm[i] == doctest::Approx(s.table.x_nm[i] - ex));
      CHECK(corrected.y_nm[i] == doctest::Approx(s.table.y_nm[i] - ey));
    }
  }
}

TEST_CASE("estimate_drift: a false correlation peak between two segments is outvoted and rejected") {
  Scene s = blinking_scene(1000, 800, 0.04, 4000, 8, [](std::int32_t f) { return std::pair{0.2 * f, 0.1 * f}; });
  const Scene clean = s;
  // A bright spot (e.g. a fiducial bead moved by hand) in segments 2 and 5 at places 600 nm apart:
  // the correlation of those two segments peaks at that offset instead of the drift.
  for (const auto& [frame, x, y] : {std::tuple{250, 1000.0, 1000.0}, std::tuple{550, 1600.0, 1300.0}})
    for (int k = 0; k < 300; ++k) {
      s.table.frame.push_back(frame), s.table.x_nm.push_back(x), s.table.y_nm.push_back(y);
      s.true_x.push_back(0), s.true_y.push_back(0);  // not counted below
    }
  post::DriftOptions o;
  o.segment_frames = 100;
  const post::DriftEstimate d = post::estimate_drift(s.table, o).value();
  CHECK(d.pairs == 45);
  CHECK(d.rejected >= 1);
  CHECK(d.residual_rms_nm < o.outlier_nm);
  CHECK(residual_rms(clean, d) <= 5);
  o.outlier_nm = 1e6;  // nothing rejected: the bad pair pulls the solution
  const post::DriftEstimate unrejected = post::estimate_drift(s.table, o).value();
  CHECK(unrejected.rejected == 0);
  CHECK(residual_rms(clean, unrejected) > residual_rms(clean, d));
}

TEST_CASE("estimate_drift: bad input is an error naming the value") {
  LocalizationTable empty;
  CHECK(post::estimate_drift(empty).status().code() == errc::invalid_argument);
  Scene s = blinking_scene(10, 50, 0.5, 1000, 5, [](std::int32_t) { return std::pair{0.0, 0.0}; });
  post::DriftOptions o;
  o.segment_frames = 10;  // one segment
  const auto one = post::estimate_drift(s.table, o);
  REQUIRE_FALSE(one);
  CHECK(one.status().message().find("at least two") != std::string::npos);
  o.segment_frames = 5;
  o.pixel_nm = 0;
  CHECK(post::estimate_drift(s.table, o).status().message().find("pixel_nm 0") != std::string::npos);
  o.pixel_nm = 20;
  o.segment_frames = -1;
  CHECK(post::estimate_drift(s.table, o).status().message().find("segment_frames -1") != std::string::npos);
  o.segment_frames = 5;
  s.table.x_nm[3] = std::nan("");
  CHECK(post::estimate_drift(s.table, o).status().message().find("row 4") != std::string::npos);
}
