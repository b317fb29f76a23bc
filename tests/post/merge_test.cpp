// Merging (post/merge.hpp): on simulated blinking with known on-times, one row per on-event (gap
// 0) or per event bridged over short off-times (gap g), photon-weighted positions closer to the
// truth than single frames, the propagated uncertainty, every column kept, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/post/merge.hpp>

using namespace smlm;

namespace {

struct Blinking {
  LocalizationTable table;
  std::vector<double> true_x, true_y;  ///< of each row's molecule
  std::size_t events_gap0 = 0;         ///< runs of consecutive on-frames, all molecules
  std::size_t events_gap1 = 0;         ///< runs bridging single off-frames
};

/// Molecules on a 400 nm grid (far apart compared with the merge distance), each blinking with
/// p(off→on) = 0.05 and p(on→off) = 0.4 over `frames`; each on-frame is a localization with
/// noise_nm precision and uniform 500–1500 photons.
Blinking simulate(int molecules_side, std::int32_t frames, double noise_nm, std::uint64_t seed = 9) {
  Blinking b;
  for (int m = 0; m < molecules_side * molecules_side; ++m) {
    const double x = 400.0 * (m % molecules_side) + 200, y = 400.0 * (m / molecules_side) + 200;
    Philox4x32 rng(seed, static_cast<std::uint32_t>(m), rng_purpose::user);
    bool on = false;
    std::int32_t last_on = -10;
    for (std::int32_t f = 1; f <= frames; ++f) {
      on = on ? uniform01<double>(rng) >= 0.4 : uniform01<double>(rng) < 0.05;
      if (!on) continue;
      if (last_on != f - 1) ++b.events_gap0;
      if (last_on < f - 2) ++b.events_gap1;
      last_on = f;
      b.table.frame.push_back(f);
      b.table.x_nm.push_back(x + noise_nm * normal<double>(rng));
      b.table.y_nm.push_back(y + noise_nm * normal<double>(rng));
      b.table.intensity_photons.push_back(500 + 1000 * uniform01<double>(rng));
      b.table.uncertainty_xy_nm.push_back(noise_nm);
      b.table.sigma_nm.push_back(110);
      b.true_x.push_back(x), b.true_y.push_back(y);
    }
  }
  return b;
}

}  // namespace

TEST_CASE("merge: one row per on-event, bridged gaps, positions closer to the truth") {
  const Blinking b = simulate(12, 400, 15);
  REQUIRE(b.events_gap0 > b.events_gap1);
  post::MergeOptions o;
  o.max_distance_nm = 100;  // two rows of one molecule lie > 100 nm apart with odds 2e-5; molecules 400 nm apart
  o.max_gap_frames = 0;
  post::MergeReport report;
  const LocalizationTable merged0 = post::merge_tracks(b.table, o, &report).value();
  CHECK(merged0.size() == b.events_gap0);
  CHECK(report.tracks == b.events_gap0);
  CHECK(report.input_rows == b.table.size());
  o.max_gap_frames = 1;
  const LocalizationTable merged1 = post::merge_tracks(b.table, o).value();
  CHECK(merged1.size() == b.events_gap1);

  // Photons add up; every row's error against its molecule shrinks on average.
  double photons_in = 0, photons_out = 0;
  for (const double p : b.table.intensity_photons) photons_in += p;
  for (const double p : merged1.intensity_photons) photons_out += p;
  CHECK(photons_out == doctest::Approx(photons_in));
  auto rms_to_grid = [](const LocalizationTable& t) {
    double sum = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double gx = 400 * std::floor(t.x_nm[i] / 400) + 200, gy = 400 * std::floor(t.y_nm[i] / 400) + 200;
      sum += (t.x_nm[i] - gx) * (t.x_nm[i] - gx) + (t.y_nm[i] - gy) * (t.y_nm[i] - gy);
    }
    return std::sqrt(sum / double(t.size()));
  };
  const double single = rms_to_grid(b.table), merged = rms_to_grid(merged1);
  MESSAGE("single-frame RMS ", single, " nm, merged ", merged, " nm; ", b.table.size(), " rows -> ", merged1.size());
  CHECK(single == doctest::Approx(15 * std::sqrt(2.0)).epsilon(0.05));
  CHECK(merged < 0.8 * single);
  // Columns are kept: sigma is the weighted mean of 110s, the first frame is each event's.
  CHECK(merged1.sigma_nm.size() == merged1.size());
  for (const double s : merged1.sigma_nm) CHECK(s == doctest::Approx(110));
  CHECK(merged1.z_nm.empty());
  CHECK(merged1.id.front() == 1);
  CHECK(std::is_sorted(merged1.frame.begin(), merged1.frame.end()));
}

TEST_CASE("merge: weighted mean and propagated uncertainty, exactly") {
  LocalizationTable t;
  // One molecule on in frames 3, 4, 6 (gap 1) with 100, 300, 600 photons; another far away.
  for (const auto& [f, x, p, s] : {std::tuple{3, 10.0, 100.0, 30.0}, std::tuple{4, 20.0, 300.0, 20.0},
                                   std::tuple{6, 40.0, 600.0, 10.0}, std::tuple{4, 5000.0, 50.0, 40.0}}) {
    t.frame.push_back(f), t.x_nm.push_back(x), t.y_nm.push_back(-x), t.intensity_photons.push_back(p);
    t.uncertainty_xy_nm.push_back(s);
  }
  post::MergeOptions o;
  o.max_distance_nm = 50, o.max_gap_frames = 1;
  const LocalizationTable m = post::merge_tracks(t, o).value();
  REQUIRE(m.size() == 2);
  CHECK(m.frame[0] == 3);
  CHECK(m.x_nm[0] == doctest::Approx((100 * 10.0 + 300 * 20.0 + 600 * 40.0) / 1000));
  CHECK(m.y_nm[0] == doctest::Approx(-m.x_nm[0]));
  CHECK(m.intensity_photons[0] == 1000);
  CHECK(m.uncertainty_xy_nm[0] == doctest::Approx(std::sqrt(0.01 * 900 + 0.09 * 400 + 0.36 * 100)));
  CHECK(m.x_nm[1] == 5000);
  CHECK(m.uncertainty_xy_nm[1] == 40);
  // Gap 0: frame 6 starts a new event.
  o.max_gap_frames = 0;
  CHECK(post::merge_tracks(t, o).value().size() == 3);
  // Two molecules in one frame never merge with each other, and each track takes one per frame.
  LocalizationTable pair;
  for (const double x : {0.0, 30.0, 0.0, 30.0}) pair.frame.push_back(pair.size() < 2 ? 1 : 2), pair.x_nm.push_back(x), pair.y_nm.push_back(0);
  const std::vector<std::size_t> tracks = post::link_tracks(pair, o).value();
  CHECK(tracks == std::vector<std::size_t>{0, 1, 0, 1});
}

TEST_CASE("merge: bad input is an error naming the value") {
  LocalizationTable t;
  t.frame = {1, 2}, t.x_nm = {0, 1}, t.y_nm = {0, 1};
  post::MergeOptions o;
  o.max_distance_nm = 0;
  CHECK(post::merge_tracks(t, o).status().message().find("max_distance_nm 0") != std::string::npos);
  o.max_distance_nm = 50, o.max_gap_frames = -2;
  CHECK(post::merge_tracks(t, o).status().message().find("max_gap_frames -2") != std::string::npos);
  o.max_gap_frames = 0;
  t.y_nm[1] = INFINITY;
  CHECK(post::merge_tracks(t, o).status().message().find("row 2") != std::string::npos);
  LocalizationTable empty;
  CHECK(post::merge_tracks(empty, o).value().size() == 0);
}
