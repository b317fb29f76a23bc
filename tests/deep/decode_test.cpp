// decode.hpp: blobs on the output grid become localizations at their centres (nm, 1-based
// frames); the tuned threshold drops the weak spurious peaks and keeps the molecules.
#include <doctest/doctest.h>

#include <cmath>
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
  std::vector<loc::Peak> peaks;
  CHECK(deep::decode_frame(const_view(m), 3, pixel_nm, r, o, peaks, t) == 2);
  REQUIRE(t.size() == 2);
  CHECK(t.frame[0] == 3);
  CHECK(t.x_nm[0] == doctest::Approx(20.3 * pixel_nm / r).epsilon(0.01));
  CHECK(t.y_nm[0] == doctest::Approx(17.8 * pixel_nm / r).epsilon(0.01));
  CHECK(t.x_nm[1] == doctest::Approx(45.1 * pixel_nm / r).epsilon(0.01));
  CHECK(t.intensity_photons[0] > t.intensity_photons[1]);
  CHECK(deep::peak_capacity(64, 64) >= peaks.size());
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
