// peak_finder.hpp: known answers for single peaks at sub-pixel offsets, plateaus and ties,
// borders, thresholds, suppression, empty frames and the nm conversion.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

#include <smlm/loc/peak_finder.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
using smlm::Image;

namespace {
std::vector<loc::Peak> find(const Image<float>& img, const loc::PeakFinderOptions& o, std::size_t cap = 64) {
  std::vector<loc::Peak> peaks(cap);
  const auto r = loc::find_peaks(smlm::const_view(img), o, std::span<loc::Peak>(peaks));
  peaks.resize(r.count);
  return peaks;
}
Image<float> blob(std::ptrdiff_t h, std::ptrdiff_t w, double x, double y, double sigma, double photons) {
  Image<float> img = Image<float>::Zero(h, w);
  smlm::psf::IntegratedGaussian<float> g{.sigma_px = static_cast<float>(sigma)};
  g.add_to({static_cast<float>(x), static_cast<float>(y), 0, static_cast<float>(photons), 0}, smlm::make_view(img));
  return img;
}
}  // namespace

TEST_CASE("a single symmetric peak at sub-pixel offsets: centroid and quadratic recover it") {
  // A Gaussian blob at (x, y). The centroid of a wide enough square of a sampled-symmetric blob
  // is exact up to the truncated tails (floor subtraction removes ~nothing here); the quadratic fit of a Gaussian is biased toward the
  // pixel centre, less than 0.1 px for sigma 1.5 px.
  for (const auto& [x, y] : std::array<std::array<double, 2>, 4>{{{10.5, 12.5}, {10.8, 12.3}, {11.2, 11.75}, {10.99, 12.01}}}) {
    const Image<float> img = blob(24, 24, x, y, 1.5, 1000);
    loc::PeakFinderOptions o;
    o.threshold = 1;
    o.refine = loc::refinement::centroid;
    o.refine_radius_px = 5;
    auto c = find(img, o);
    REQUIRE(c.size() == 1);
    // The square is centred on the peak pixel, not the emitter: with the emitter 0.49 px off
    // centre the tails cut at ±5.5 px (3.7 sigma) are unequal, a bias of 2.1e-3 px.
    CHECK(std::abs(c[0].x_px - x) < 3e-3);
    CHECK(std::abs(c[0].y_px - y) < 3e-3);
    CHECK(c[0].col == static_cast<int>(std::floor(x)));
    CHECK(c[0].row == static_cast<int>(std::floor(y)));
    o.refine = loc::refinement::quadratic;
    auto q = find(img, o);
    REQUIRE(q.size() == 1);
    CHECK(std::abs(q[0].x_px - x) < 0.1);
    CHECK(std::abs(q[0].y_px - y) < 0.1);
    o.refine = loc::refinement::none;
    auto n = find(img, o);
    CHECK(n[0].x_px == doctest::Approx(n[0].col + 0.5));
  }
}

TEST_CASE("quadratic refinement is exact on a quadratic surface") {
  Image<float> img(7, 7);
  const double x0 = 3.7, y0 = 2.35;  // maximum inside pixel (2, 3); centre (3.5, 2.5)
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 7; ++c) {
      const double dx = c + 0.5 - x0, dy = r + 0.5 - y0;
      img(r, c) = static_cast<float>(100 - 3 * dx * dx - 2 * dy * dy + 0.5 * dx * dy);
    }
  // The maximum of 100 − 3dx² − 2dy² + ½dxdy is at dx = dy = 0.
  loc::PeakFinderOptions o;
  o.refine = loc::refinement::quadratic;
  o.threshold = 50;
  auto q = find(img, o);
  REQUIRE(q.size() == 1);
  CHECK(q[0].row == 2);
  CHECK(q[0].col == 3);
  CHECK(q[0].x_px == doctest::Approx(x0).epsilon(1e-5));
  CHECK(q[0].y_px == doctest::Approx(y0).epsilon(1e-5));
}

TEST_CASE("plateaus and ties give one candidate, the first pixel in row-major order") {
  loc::PeakFinderOptions o;
  o.refine = loc::refinement::none;
  SUBCASE("two equal neighbours") {
    Image<float> img = Image<float>::Zero(5, 5);
    img(2, 1) = img(2, 2) = 7;
    auto p = find(img, o);
    REQUIRE(p.size() == 1);
    CHECK(p[0].row == 2);
    CHECK(p[0].col == 1);
  }
  SUBCASE("a 2 x 2 plateau") {
    Image<float> img = Image<float>::Zero(6, 6);
    img.block(2, 3, 2, 2).setConstant(4);
    auto p = find(img, o);
    REQUIRE(p.size() == 1);
    CHECK(p[0].row == 2);
    CHECK(p[0].col == 3);
  }
  SUBCASE("a constant frame above the threshold has one candidate") {
    Image<float> img = Image<float>::Constant(4, 4, 2);
    o.threshold = 1;
    CHECK(find(img, o).size() == 1);
  }
  SUBCASE("centroid of a 1 x 2 plateau lies between its pixels") {
    Image<float> img = Image<float>::Zero(5, 5);
    img(2, 1) = img(2, 2) = 7;
    o.refine = loc::refinement::centroid;
    auto p = find(img, o);
    REQUIRE(p.size() == 1);
    CHECK(p[0].x_px == doctest::Approx(2.0));
    CHECK(p[0].y_px == doctest::Approx(2.5));
  }
}

TEST_CASE("borders: maxima on edges and corners count, refinement stays inside") {
  Image<float> img = Image<float>::Zero(6, 8);
  img(0, 0) = 5;
  img(5, 7) = 6;
  img(0, 4) = 3;
  img(0, 5) = 1;
  loc::PeakFinderOptions o;
  o.refine = loc::refinement::quadratic;  // falls back to centroid on the border
  auto p = find(img, o);
  REQUIRE(p.size() == 3);
  CHECK(p[0].row == 5);
  CHECK(p[0].col == 7);
  CHECK(p[0].x_px == doctest::Approx(7.5));
  CHECK(p[1].row == 0);
  CHECK(p[1].col == 0);
  CHECK(p[2].col == 4);
  CHECK(p[2].x_px == doctest::Approx((3 * 4.5 + 1 * 5.5) / 4.0));  // floor 0 in its square
  CHECK(p[2].mass == doctest::Approx(4.0));
}

TEST_CASE("thresholds: absolute, relative to the frame maximum, the larger wins") {
  Image<float> img = Image<float>::Zero(10, 10);
  img(2, 2) = 10;
  img(7, 7) = 4;
  img(2, 7) = 6;
  loc::PeakFinderOptions o;
  o.refine = loc::refinement::none;
  CHECK(find(img, o).size() == 3);
  o.threshold = 4;  // strictly above
  CHECK(find(img, o).size() == 2);
  o.threshold = 0;
  o.relative_threshold = 0.5;
  CHECK(find(img, o).size() == 2);
  o.relative_threshold = 0.7;
  CHECK(find(img, o).size() == 1);
  o.threshold = 20;
  CHECK(find(img, o).empty());
}

TEST_CASE("minimum-distance suppression keeps the brighter peak") {
  Image<float> img = Image<float>::Zero(12, 12);
  img(5, 3) = 8;
  img(5, 6) = 9;  // 3 px from the first
  img(10, 10) = 2;
  loc::PeakFinderOptions o;
  o.refine = loc::refinement::none;
  CHECK(find(img, o).size() == 3);
  o.min_distance_px = 3;  // distance 3 is not closer than 3
  CHECK(find(img, o).size() == 3);
  o.min_distance_px = 3.5;
  auto p = find(img, o);
  REQUIRE(p.size() == 2);
  CHECK(p[0].col == 6);
  CHECK(p[1].row == 10);
  o.neighbourhood_radius_px = 3;  // a 7 x 7 neighbourhood alone suppresses the dimmer one
  o.min_distance_px = 0;
  CHECK(find(img, o).size() == 2);
}

TEST_CASE("empty, all-zero and non-finite frames") {
  loc::PeakFinderOptions o;
  Image<float> empty(0, 0);
  CHECK(find(empty, o).empty());
  Image<float> zero = Image<float>::Zero(8, 8);
  CHECK(find(zero, o).empty());  // 0 is not above threshold 0
  Image<float> nan = Image<float>::Zero(8, 8);
  nan(3, 3) = NAN;
  nan(5, 5) = 2;
  o.relative_threshold = 0.5;
  auto p = find(nan, o);
  REQUIRE(p.size() == 1);
  CHECK(p[0].row == 5);
}

TEST_CASE("truncation is reported, and the span is never overrun") {
  Image<float> img = Image<float>::Zero(9, 9);
  for (int r = 0; r < 9; r += 2)
    for (int c = 0; c < 9; c += 2) img(r, c) = 1.0f + static_cast<float>(r * 9 + c);
  loc::PeakFinderOptions o;
  std::vector<loc::Peak> peaks(4);
  const auto r = loc::find_peaks(smlm::const_view(img), o, std::span<loc::Peak>(peaks));
  CHECK(r.truncated);
  CHECK(r.count == 4);
  std::vector<loc::Peak> all(25);
  const auto r2 = loc::find_peaks(smlm::const_view(img), o, std::span<loc::Peak>(all));
  CHECK_FALSE(r2.truncated);
  CHECK(r2.count == 25);
  CHECK(all[0].value == doctest::Approx(81.0));
}

TEST_CASE("append_peaks converts with the up-sampling factor and camera pixel size") {
  // Output pixel 17 (centre 17.5) at 4x up-sampling of 100 nm pixels: camera 4.375 px = 437.5 nm.
  std::vector<loc::Peak> peaks(1);
  peaks[0].x_px = 17.5;
  peaks[0].y_px = 2.25;
  peaks[0].mass = 3.5;
  smlm::LocalizationTable t;
  loc::append_peaks(t, peaks, 3, 100.0, 4);
  loc::append_peaks(t, peaks, 4, 100.0, 4);
  REQUIRE(t.size() == 2);
  CHECK(t.consistent());
  CHECK(t.x_nm[0] == doctest::Approx(437.5));
  CHECK(t.y_nm[0] == doctest::Approx(56.25));
  CHECK(t.intensity_photons[0] == 3.5);
  CHECK(t.frame[1] == 4);
  CHECK(t.id[1] == 2);
  loc::PeakFinderOptions bad;
  bad.relative_threshold = 2;
  Image<float> img = Image<float>::Zero(3, 3);
  std::vector<loc::Peak> out(1);
  CHECK_THROWS(loc::find_peaks(smlm::const_view(img), bad, std::span<loc::Peak>(out)));
}
