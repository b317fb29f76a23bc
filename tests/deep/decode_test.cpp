// decode.hpp: blobs on the output grid become localizations at their centres (nm, 1-based
// frames); the tuned threshold drops the weak spurious peaks and keeps the molecules.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <smlm/deep/decode.hpp>

using namespace smlm;

namespace {
/// A map of Gaussian blobs (sd 1.5 output pixels) of the given heights at output coordinates.
Image<float> blobs(std::ptrdiff_t n, const std::vector<std::array<double, 3>>& spots) {
  Image<float> m = Image<float>::Zero(n, n);
  for (const auto& [x, y, a] : spots)
    for (std::ptrdiff_t i = 0; i < n; ++i)
      for (std::ptrdiff_t j = 0; j < n; ++j) {
        const double dx = j + 0.5 - x, dy = i + 0.5 - y;
        m(i, j) += static_cast<float>(a * std::exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5)));
      }
  return m;
}
}  // namespace

TEST_CASE("decode_frame: blob centres in nanometres, 1-based frame, the output mass as intensity") {
  const int r = 8;
  const double pixel_nm = 100;
  const Image<float> m = blobs(64, {{{20.3, 17.8, 10}}, {{45.1, 40.6, 6}}});
  deep::DecodeOptions o = deep::DecodeOptions::for_upsample(r);
  o.threshold = 1;
  LocalizationTable t;
  deep::DecodeWorkspace ws;
  CHECK(deep::decode_frame(const_view(m), 3, pixel_nm, r, o, ws, t) == 2);
  REQUIRE(t.size() == 2);
  CHECK(t.frame[0] == 3);
  CHECK(t.x_nm[0] == doctest::Approx(20.3 * pixel_nm / r).epsilon(0.01));
  CHECK(t.y_nm[0] == doctest::Approx(17.8 * pixel_nm / r).epsilon(0.01));
  CHECK(t.x_nm[1] == doctest::Approx(45.1 * pixel_nm / r).epsilon(0.01));
  CHECK(t.intensity_photons[0] > t.intensity_photons[1]);
  CHECK(deep::peak_capacity(64, 64) >= ws.peaks.size());
}

TEST_CASE("tune_threshold: keeps the molecules, drops the weak spurious peaks") {
  const int r = 4;
  const double pixel_nm = 100;
  std::vector<Image<float>> maps;
  LocalizationTable truth;
  for (int f = 0; f < 6; ++f) {
    std::vector<std::array<double, 3>> spots;
    for (int k = 0; k < 5; ++k) {
      const double x = 6 + 10 * k + f, y = 8 + 9 * k;
      spots.push_back({x, y, 8.0 + k});  // molecules: heights 8 .. 12
      Emitter<double> e;
      e.x_px = x / r, e.y_px = y / r, e.frame = f + 1;
      truth.push_back(e, pixel_nm);
      spots.push_back({x + 3, y + 30 > 60 ? y - 5 : y + 30, 1.5});  // spurious: height 1.5, far from molecules
    }
    maps.push_back(blobs(64, spots));
  }
  const deep::ThresholdChoice c =
      deep::tune_threshold(maps, truth, pixel_nm, r, deep::DecodeOptions::for_upsample(r), 50.0);
  CHECK(c.metrics.jaccard == doctest::Approx(1.0));
  CHECK(c.threshold >= 1.0);  // at the spurious peaks' level (a peak is kept when above it)
  CHECK(c.threshold < 8);
  CHECK(c.candidates > 1);
}

TEST_CASE("measure_blobs: mass, centroid and variances of a Gaussian blob; neighbours split the pixels between them") {
  const double sd = 1.5, a = 10;
  const Image<float> m = blobs(64, {{{20.3, 17.8, a}}, {{32.3, 17.8, a}}});  // 12 output pixels apart
  deep::DecodeOptions o = deep::DecodeOptions::for_upsample(8);
  o.threshold = 1;
  deep::DecodeWorkspace ws;
  const std::size_t n = deep::find_map_peaks(const_view(m), o, ws);
  REQUIRE(n == 2);
  deep::measure_blobs(const_view(m), std::span<const loc::Peak>(ws.peaks.data(), n), o.count_radius_px, ws);
  for (std::size_t i = 0; i < 2; ++i) {
    const deep::Blob& b = ws.blobs[i];
    // The disc of radius 8 holds all but e^{-8²/(2·1.5²)} of a blob (the neighbour's tail, 12 px
    // away, contributes less than 1e-6 of it).
    CHECK(b.mass == doctest::Approx(2 * std::numbers::pi * sd * sd * a).epsilon(1e-4));
    CHECK(b.y_px == doctest::Approx(17.8).epsilon(1e-4));
    CHECK(b.var_major == doctest::Approx(sd * sd).epsilon(1e-3));
    CHECK(b.var_minor == doctest::Approx(sd * sd).epsilon(1e-3));
  }
  const double x0 = std::min(ws.blobs[0].x_px, ws.blobs[1].x_px), x1 = std::max(ws.blobs[0].x_px, ws.blobs[1].x_px);
  CHECK(x0 == doctest::Approx(20.3).epsilon(1e-4));
  CHECK(x1 == doctest::Approx(32.3).epsilon(1e-4));
  // The ownership map is handed back clean (every pixel -1) for the next call.
  CHECK(std::all_of(ws.owner.begin(), ws.owner.end(), [](std::int32_t k) { return k == -1; }));
}

TEST_CASE("decode_frame: a blob of two molecules closer than its width becomes two localizations on its axis") {
  const int r = 8;
  const double pixel_nm = 100, sd = 1.5, a = 10, half = 1.2, angle = 0.5236;  // ±1.2 px at 30°
  const double cx = 30.4, cy = 27.9, ux = std::cos(angle), uy = std::sin(angle);
  const Image<float> m = blobs(64, {{{cx + half * ux, cy + half * uy, a}}, {{cx - half * ux, cy - half * uy, a}},
                                    {{12.5, 48.5, a}}});  // and one single molecule
  deep::DecodeOptions o = deep::DecodeOptions::for_upsample(r);
  o.threshold = 1;
  deep::DecodeWorkspace ws;
  LocalizationTable plain;
  REQUIRE(deep::decode_frame(const_view(m), 1, pixel_nm, r, o, ws, plain) == 2);  // the pair is one maximum
  const double single = 2 * std::numbers::pi * sd * sd * a;
  o.split_factor = 1.5;
  o.single_mass = single;
  o.single_var_px2 = sd * sd;
  LocalizationTable t;
  REQUIRE(deep::decode_frame(const_view(m), 1, pixel_nm, r, o, ws, t) == 3);
  // The pair: at the centre ± half along the axis (the mixture's variance along it is sd² + half²).
  std::vector<std::size_t> pair;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.y_nm[i] < 40 * pixel_nm / r) pair.push_back(i);
  REQUIRE(pair.size() == 2);
  const double scale = pixel_nm / r;
  const double dx = (t.x_nm[pair[1]] - t.x_nm[pair[0]]) / scale, dy = (t.y_nm[pair[1]] - t.y_nm[pair[0]]) / scale;
  CHECK(std::hypot(dx, dy) == doctest::Approx(2 * half).epsilon(0.02));
  CHECK(std::abs(dx * uy - dy * ux) < 0.02 * std::hypot(dx, dy));  // parallel to the axis
  CHECK(0.5 * (t.x_nm[pair[0]] + t.x_nm[pair[1]]) / scale == doctest::Approx(cx).epsilon(1e-3));
  CHECK(0.5 * (t.y_nm[pair[0]] + t.y_nm[pair[1]]) / scale == doctest::Approx(cy).epsilon(1e-3));
  CHECK(t.intensity_photons[pair[0]] == doctest::Approx(single).epsilon(1e-3));  // half the blob's mass each
  // The single molecule stays one, at its centre.
  const std::size_t lone = 3 - pair[0] - pair[1];
  CHECK(t.x_nm[lone] / scale == doctest::Approx(12.5).epsilon(0.01));
  // A blob no wider than one molecule that still holds more than split_mass is two at one place.
  const Image<float> bright = blobs(32, {{{16.0, 16.0, 2 * a}}});
  LocalizationTable b;
  REQUIRE(deep::decode_frame(const_view(bright), 1, pixel_nm, r, o, ws, b) == 2);
  CHECK(b.x_nm[0] == doctest::Approx(b.x_nm[1]));
}

TEST_CASE("tune_threshold: counting by mass is chosen where close pairs merge, and only there") {
  const int r = 8;
  const double pixel_nm = 100;
  std::vector<Image<float>> maps, singles_only;
  LocalizationTable truth, singles_truth;
  for (int f = 0; f < 4; ++f) {
    std::vector<std::array<double, 3>> spots, singles;
    const auto add = [&](LocalizationTable& t, double x, double y) {
      Emitter<double> e;
      e.x_px = x / r, e.y_px = y / r, e.frame = f + 1;
      t.push_back(e, pixel_nm);
    };
    for (int k = 0; k < 4; ++k) {
      const double x = 10 + 14 * k, y = 12 + 2 * f;
      // Molecule pairs 2 output pixels (25 nm) apart, horizontally: one maximum each.
      for (const double side : {-1.0, 1.0}) spots.push_back({x + side, y, 10.0}), add(truth, x + side, y);
    }
    for (int k = 0; k < 6; ++k) {
      // Single molecules, more of them than pairs: the median blob is a single molecule's.
      const double x = 8.5 + 10 * k, y = 34.5 + 12 * (k % 2) + f;  // on pixel centres: no centroid bias
      spots.push_back({x, y, 10.0}), add(truth, x, y);
      singles.push_back({x, y, 10.0}), add(singles_truth, x, y);
    }
    maps.push_back(blobs(64, spots));
    singles_only.push_back(blobs(64, singles));
  }
  const deep::DecodeOptions o = deep::DecodeOptions::for_upsample(r);
  const std::vector<double> factors = {1.5, 3.0};
  const deep::ThresholdChoice plain = deep::tune_threshold(maps, truth, pixel_nm, r, o, 50.0);
  CHECK(plain.split_factor == 0);
  CHECK(plain.metrics.jaccard == doctest::Approx(10.0 / 14.0));  // each pair found once
  const deep::ThresholdChoice split = deep::tune_threshold(maps, truth, pixel_nm, r, o, 50.0, {0.0}, 48, factors);
  CHECK(split.split_factor == 1.5);
  CHECK(split.single.mass == doctest::Approx(2 * std::numbers::pi * 1.5 * 1.5 * 10).epsilon(1e-3));
  CHECK(split.metrics.jaccard == doctest::Approx(1.0));
  CHECK(split.metrics.rmse_lateral_nm < 0.1 * pixel_nm / r);
  CHECK(split.apply(o).split_factor == 1.5);
  CHECK(split.apply(o).single_mass == split.single.mass);
  // Without pairs, splitting gains nothing and is left off (ties keep no splitting).
  const deep::ThresholdChoice none =
      deep::tune_threshold(singles_only, singles_truth, pixel_nm, r, o, 50.0, {0.0}, 48, factors);
  CHECK(none.split_factor == 0);
  CHECK(none.apply(o).single_mass == 0);
  CHECK(none.metrics.jaccard == doctest::Approx(1.0));
}

TEST_CASE("MovieDecoder: the single-molecule unit is the movie's own median blob, the model's below min_blobs") {
  const int r = 8;
  const double pixel_nm = 100, a = 16;  // brighter than the unit the options carry
  const double single = 2 * std::numbers::pi * 1.5 * 1.5 * a;
  deep::DecodeOptions o = deep::DecodeOptions::for_upsample(r);
  o.threshold = 1;
  o.split_factor = 1.4;
  o.single_mass = single * 10 / a;  // as if measured on dimmer validation data: singles look like 1.6
  o.single_var_px2 = 1.5 * 1.5;
  // 10 frames of 9 single molecules and one pair 2 output pixels apart.
  std::vector<Image<float>> maps;
  for (int f = 0; f < 10; ++f) {
    std::vector<std::array<double, 3>> spots;
    for (int k = 0; k < 9; ++k) spots.push_back({8.5 + 20 * (k % 3), 8.5 + 20 * (k / 3) + 0.3 * f, a});
    spots.push_back({59.0, 60.0, a}), spots.push_back({61.0, 60.0, a});
    maps.push_back(blobs(72, spots));
  }
  // decode_frame with the options' unit splits every molecule.
  deep::DecodeWorkspace ws;
  LocalizationTable per_frame;
  CHECK(deep::decode_frame(const_view(maps[0]), 1, pixel_nm, r, o, ws, per_frame) == 20);
  // The movie's median is a single molecule's blob: only the pair is split.
  deep::MovieDecoder movie(o, pixel_nm, r);
  for (int f = 9; f >= 0; --f) CHECK(movie.add(const_view(maps[static_cast<std::size_t>(f)]), f + 1) == 10);
  const deep::SingleMolecule unit = movie.unit();
  CHECK(unit.blobs == 100);
  CHECK(unit.mass == doctest::Approx(single).epsilon(1e-3));
  CHECK(unit.var_px2 == doctest::Approx(1.5 * 1.5).epsilon(1e-2));
  LocalizationTable t;
  CHECK(movie.finish(t) == 10);
  REQUIRE(t.size() == 110);
  CHECK(std::is_sorted(t.frame.begin(), t.frame.end()));  // frame order, whatever order they came in
  CHECK(t.frame.front() == 1);
  std::size_t near_pair = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (std::abs(t.y_nm[i] / (pixel_nm / r) - 60.0) < 0.1) {
      ++near_pair;
      CHECK(std::abs(t.x_nm[i] / (pixel_nm / r) - 60.0) == doctest::Approx(1.0).epsilon(0.05));
    }
  CHECK(near_pair == 20);
  // One frame (10 blobs, below min_blobs): the options' unit, which splits everything.
  deep::MovieDecoder short_movie(o, pixel_nm, r);
  short_movie.add(const_view(maps[0]), 1);
  CHECK(short_movie.unit().mass == o.single_mass);
  LocalizationTable s;
  CHECK(short_movie.finish(s) == 10);
  // Without counting by mass it is decode_frame on every frame.
  o.split_factor = 0;
  deep::MovieDecoder plain(o, pixel_nm, r);
  plain.add(const_view(maps[0]), 1);
  LocalizationTable p, q;
  CHECK(plain.finish(p) == 0);
  deep::decode_frame(const_view(maps[0]), 1, pixel_nm, r, o, ws, q);
  CHECK(p.x_nm == q.x_nm);
  CHECK(p.size() == 10);
}
