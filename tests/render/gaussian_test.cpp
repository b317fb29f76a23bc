#include <doctest/doctest.h>

#include <cmath>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/render/gaussian.hpp>

namespace render = smlm::render;

namespace {
void add(smlm::LocalizationTable& t, double x, double y) {
  t.frame.push_back(1);
  t.x_nm.push_back(x);
  t.y_nm.push_back(y);
}
}  // namespace

TEST_CASE("Gaussian rendering conserves mass: one unit per localization inside the field") {
  smlm::Philox4x32 rng(77, 0, smlm::rng_purpose::user);
  smlm::LocalizationTable t;
  for (int i = 0; i < 300; ++i) add(t, smlm::uniform(rng, 200.0, 1800.0), smlm::uniform(rng, 200.0, 1800.0));
  const render::FieldOfView fov{0, 0, 2000, 2000};
  for (double sigma : {0.5, 3.0, 10.0, 40.0}) {
    CAPTURE(sigma);
    render::GaussianRenderOptions o;
    o.sigma_nm = sigma;
    const auto image = render::render_gaussian(t, fov, 10, o);
    CHECK(image.cast<double>().sum() == doctest::Approx(300.0).epsilon(1e-5));
    CHECK(image.minCoeff() >= 0.0f);
  }
  // A localization on the left edge keeps half its mass (window symmetric up to a pixel: ±1e-3).
  smlm::LocalizationTable edge;
  add(edge, 0.0, 1000.0);
  render::GaussianRenderOptions o;
  o.sigma_nm = 30;
  CHECK(render::render_gaussian(edge, fov, 10, o).cast<double>().sum() == doctest::Approx(0.5).epsilon(2e-3));
}

TEST_CASE("a single localization's peak and centroid sit at its position") {
  const render::FieldOfView fov{0, 0, 640, 640};
  for (auto [x, y] : {std::pair{323.0, 211.0}, std::pair{100.5, 555.5}, std::pair{305.0, 305.0}}) {
    CAPTURE(x);
    smlm::LocalizationTable t;
    add(t, x, y);
    render::GaussianRenderOptions o;
    o.sigma_nm = 25;
    const auto image = render::render_gaussian(t, fov, 10, o);
    Eigen::Index r = 0, c = 0;
    image.maxCoeff(&r, &c);
    CHECK(c == static_cast<Eigen::Index>(std::floor(x / 10)));
    CHECK(r == static_cast<Eigen::Index>(std::floor(y / 10)));
    // Centroid in continuous pixel coordinates (pixel centres at i + 0.5) equals x / pixel.
    double sx = 0, sy = 0, m = 0;
    for (Eigen::Index i = 0; i < image.rows(); ++i)
      for (Eigen::Index j = 0; j < image.cols(); ++j) {
        m += image(i, j);
        sx += image(i, j) * (static_cast<double>(j) + 0.5);
        sy += image(i, j) * (static_cast<double>(i) + 0.5);
      }
    CHECK(sx / m == doctest::Approx(x / 10).epsilon(1e-4));
    CHECK(sy / m == doctest::Approx(y / 10).epsilon(1e-4));
    // Variance of the pixel-integrated Gaussian: σ² + 1/12 px² (the pixel's own width).
    double vx = 0;
    for (Eigen::Index j = 0; j < image.cols(); ++j) vx += image.col(j).cast<double>().sum() * std::pow(j + 0.5 - x / 10, 2);
    CHECK(vx / m == doctest::Approx(2.5 * 2.5 + 1.0 / 12).epsilon(0.01));
  }
}

TEST_CASE("per-localization sigma from the uncertainty column, with fallback and floor") {
  const render::FieldOfView fov{0, 0, 1000, 1000};
  smlm::LocalizationTable t;
  add(t, 255, 505);  // centre of pixel (50, 25)
  add(t, 755, 505);
  t.uncertainty_xy_nm = {5.0, -1.0};  // the second falls back to sigma_nm
  render::GaussianRenderOptions o;
  o.sigma_nm = 40;
  o.sigma_from_uncertainty = true;
  const auto image = render::render_gaussian(t, fov, 10, o);
  // Peak of a pixel-integrated unit Gaussian of σ = 0.5 px centred in a pixel: (2Φ(1) − 1)² = 0.466.
  CHECK(image(50, 25) == doctest::Approx(0.4661).epsilon(1e-3));
  CHECK(image(50, 75) < 0.02f);  // σ = 4 px: peak ≈ 1/(2π 16) ≈ 0.0099
  o.min_sigma_nm = 40;
  const auto floored = render::render_gaussian(t, fov, 10, o);
  CHECK(floored(50, 25) == doctest::Approx(floored(50, 75)).epsilon(1e-5));
  smlm::LocalizationTable no_column;
  add(no_column, 1, 1);
  CHECK_THROWS_AS(render::render_gaussian(no_column, fov, 10, o), smlm::assertion_error);
}

TEST_CASE("a huge sigma is evaluated only over the image and keeps its visible mass") {
  const render::FieldOfView fov{0, 0, 100, 100};
  smlm::LocalizationTable t;
  add(t, 50, 50);
  render::GaussianRenderOptions o;
  o.sigma_nm = 1e9;
  const auto image = render::render_gaussian(t, fov, 10, o);
  // Fraction of N(0, s²) within ±50 nm per axis, s = 1e9 nm: (100 / (s √(2π)))².
  const double per_axis = 100.0 / (1e9 * std::sqrt(2 * M_PI));
  CHECK(image.cast<double>().sum() == doctest::Approx(per_axis * per_axis).epsilon(1e-3));
}
