// normalization.hpp: the per-frame map does not see a camera's offset and gain, quantiles are
// numpy's linear interpolation, the fitted mean and sd are those of the data.
#include <doctest/doctest.h>

#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/normalization.hpp>

using namespace smlm::nn;

TEST_CASE("frame_levels: median and quantile by linear interpolation (numpy's default)") {
  const std::vector<float> x{5, 1, 4, 2, 3};  // sorted 1 2 3 4 5
  std::vector<float> s(x.size());
  const FrameLevels l = frame_levels(x.data(), 5, 0.9, s.data());
  CHECK(l.median == doctest::Approx(3));
  CHECK(l.scale == doctest::Approx(4.6 - 3));  // position 0.9·4 = 3.6 → 4 + 0.6·(5 − 4)
  const std::vector<float> flat(16, 7.0f);
  std::vector<float> s2(16);
  const FrameLevels f = frame_levels(flat.data(), 16, 0.995, s2.data());
  CHECK(f.median == 7);
  CHECK(f.scale > 0);  // a flat frame keeps a finite, positive scale
}

TEST_CASE("normalize_frame: the same values for a recording with any offset and gain") {
  smlm::Philox4x32 rng(3, 0, smlm::rng_purpose::user);
  std::vector<float> photons(32 * 32);
  for (auto& v : photons) v = static_cast<float>(smlm::poisson(rng, 20.0));
  for (int i = 0; i < 12; ++i) photons[static_cast<std::size_t>(i * 83)] += 300;  // a few bright pixels
  std::vector<float> adu(photons.size());
  for (std::size_t i = 0; i < adu.size(); ++i) adu[i] = 2.06f * photons[i] + 103.0f;
  const InputNormalization norm{0.995, 0.3, 1.7};
  std::vector<float> a(photons.size()), b(photons.size()), s(photons.size());
  normalize_frame(photons.data(), 32 * 32, norm, a.data(), s.data());
  normalize_frame(adu.data(), 32 * 32, norm, b.data(), s.data());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  CHECK(worst < 1e-4);
  // In place (y aliasing x) gives the same values.
  std::vector<float> c = photons;
  normalize_frame(c.data(), 32 * 32, norm, c.data(), s.data());
  CHECK(c == a);
}

TEST_CASE("NormalizationFit: mean and sd of u over the frames added, then inputs of mean 0 and sd 1") {
  NormalizationFit fit(0.99);
  smlm::Philox4x32 rng(4, 0, smlm::rng_purpose::user);
  std::vector<std::vector<float>> frames(20, std::vector<float>(256));
  std::vector<float> s(256);
  for (auto& f : frames) {
    for (auto& v : f) v = static_cast<float>(smlm::normal(rng, 50.0, 5.0));
    fit.add(f.data(), 256, s.data());
  }
  const InputNormalization n = fit.result();
  CHECK(n.valid());
  double sum = 0, sq = 0;
  std::vector<float> y(256);
  for (auto& f : frames) {
    normalize_frame(f.data(), 256, n, y.data(), s.data());
    for (float v : y) sum += v, sq += double(v) * v;
  }
  const double count = 20 * 256, mean = sum / count;
  CHECK(mean == doctest::Approx(0).epsilon(1e-9).scale(1));
  CHECK(std::abs(mean) < 1e-4);
  CHECK(std::sqrt(sq / count - mean * mean) == doctest::Approx(1).epsilon(1e-3));
  CHECK(!InputNormalization{0.4, 0, 1}.valid());
  CHECK(!InputNormalization{0.99, 0, 0}.valid());
}
