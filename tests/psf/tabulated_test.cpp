// tabulated.hpp: the spline interpolates the table, a table of the integrated (and astigmatic)
// Gaussian reproduces that model, normalisation, the z range, symmetry to rounding, and the
// factory's errors. The contract checks (sums, Jacobian vs finite differences, windows, clipping)
// are in conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/tabulated.hpp>

namespace psf = smlm::psf;
using psf::PsfTable;
using psf::Spot;
using psf::Tabulated;
using psf::Window;
using smlm::Image;

namespace {

template <class M, class R>
double max_relative_error(const M& model, const R& reference, const Spot<double>& s) {
  const Window w = psf::detail::window_around(s.x_px, s.y_px, model.support_radius_px(s) + 1);
  Image<double> a(w.height, w.width), b(w.height, w.width);
  model.evaluate(s, w, smlm::make_view(a));
  reference.evaluate(s, w, smlm::make_view(b));
  return (a - b).abs().maxCoeff() / b.maxCoeff();
}

PsfTable small_table(std::ptrdiff_t planes, std::ptrdiff_t height, std::ptrdiff_t width) {
  PsfTable t;
  t.planes = planes;
  t.height = height;
  t.width = width;
  t.oversampling = 2;
  t.z_first_nm = -100;
  t.z_step_nm = 50;
  t.values.assign(static_cast<std::size_t>(planes * height * width), 1.0);
  return t;
}

template <class E>
std::string error_of(const E& e) {
  REQUIRE(!e);
  CHECK(e.status().code() == smlm::errc::invalid_argument);
  return e.message();
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a table of the integrated Gaussian reproduces it") {
  // Measured max |h − h_ref| / peak over 200 random sub-pixel positions: 1.3e-5 at oversampling
  // 4 (σ 1.3 px), 1.1e-3 at oversampling 1 (σ 2 px, a bead recorded at the camera pixel),
  // 6.1e-3 at oversampling 1 for σ 1.3 px. The bounds below are ≈ 2× those.
  struct Config {
    double sigma;
    std::ptrdiff_t half;
    int oversampling;
    double bound;
  };
  const Config configs[] = {{1.3, 6, 4, 3e-5}, {1.0, 5, 5, 4e-5}, {2.0, 9, 1, 2.5e-3},
                            {1.3, 6, 2, 7e-4}, {1.3, 6, 1, 1.3e-2}};
  const unsigned seed = 20261201;
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> frac(0, 1);
  for (const Config& c : configs) {
    INFO("sigma ", c.sigma, ", oversampling ", c.oversampling);
    const psf::IntegratedGaussian<double> reference{.sigma_px = c.sigma};
    const auto model =
        Tabulated<double, false>::from_table(psf::tabulate(reference, c.half, c.oversampling));
    REQUIRE(model);
    double worst = 0;
    for (int k = 0; k < 200; ++k) {
      const Spot<double> s{30 + frac(rng), 30 + frac(rng), 0, 1000, 0};
      worst = std::max(worst, max_relative_error(*model, reference, s));
    }
    CHECK(worst <= c.bound);
    CHECK(worst > 0);  // it is an interpolation, not a copy
  }
}

TEST_CASE("a 3D table of the astigmatic Gaussian reproduces it between planes") {
  psf::AstigmaticGaussian<double> reference;
  reference.x_curve.sigma0_px = reference.y_curve.sigma0_px = 1.3;
  const auto model = Tabulated<double>::from_table(psf::tabulate(reference, 10, 4, 17, -400, 50));
  REQUIRE(model);
  CHECK(model->z_first_nm() == -400);
  CHECK(model->z_last_nm() == 400);
  // Measured: ≤ 1.6e-5 of the peak for |z| ≤ 250 nm, 3.6e-4 in the first interval (the natural
  // end condition: zero curvature in z at the first and last plane).
  double interior = 0, ends = 0;
  for (double z = -400; z <= 400; z += 12.5) {
    const double e = max_relative_error(*model, reference, Spot<double>{30.3, 30.6, z, 1, 0});
    (std::abs(z) <= 250 ? interior : ends) = std::max(std::abs(z) <= 250 ? interior : ends, e);
  }
  CHECK(interior <= 3e-5);
  CHECK(ends <= 8e-4);
}

TEST_CASE("the spline passes through every table sample, each plane scaled by one factor") {
  PsfTable t = small_table(4, 9, 11);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(0.1, 2.0);
  for (double& v : t.values) v = value(rng);
  const auto model = Tabulated<double>::from_table(t);
  REQUIRE(model);
  for (std::ptrdiff_t k = 0; k < t.planes; ++k) {
    const double z = t.z_first_nm + double(k) * t.z_step_nm;
    const auto sample = [&](std::ptrdiff_t a, std::ptrdiff_t b) {
      return t.values[static_cast<std::size_t>((k * t.height + a) * t.width + b)];
    };
    const auto at = [&](std::ptrdiff_t a, std::ptrdiff_t b) {
      return model->interpolant(double(b - 5) / 2, double(a - 4) / 2, z);
    };
    const double scale = at(4, 5) / sample(4, 5);
    CHECK(scale > 0);
    for (std::ptrdiff_t a = 0; a < t.height; ++a) {
      for (std::ptrdiff_t b = 0; b < t.width; ++b) {
        INFO("plane ", k, " sample (", a, ", ", b, ")");
        CHECK(at(a, b) == doctest::Approx(scale * sample(a, b)).epsilon(1e-12));
      }
    }
    // between samples it is not the neighbours' mean (a cubic, not a linear interpolant)
    const double mid = model->interpolant(0.25, 0, z);
    CHECK(std::abs(mid - 0.5 * (at(4, 5) + at(4, 6))) > 1e-6);
  }
  // two samples beyond the edge the spline is exactly zero
  CHECK(model->interpolant(2.5 + 1.0, 0, 0) == 0);
  CHECK(model->interpolant(0, -2.0 - 1.0, 0) == 0);
  CHECK(model->interpolant(2.5 + 0.5, 0, 0) != 0);
}

TEST_CASE_TEMPLATE("normalisation: a scaled table gives the same model, photons land in the plane",
                   T, float, double) {
  const psf::IntegratedGaussian<double> g{.sigma_px = 1.2};
  PsfTable t = psf::tabulate(g, 6, 3);
  PsfTable scaled = t;
  for (double& v : scaled.values) v *= 4096.0 * 3.0;
  const auto a = Tabulated<T, false>::from_table(t);
  const auto b = Tabulated<T, false>::from_table(scaled);
  REQUIRE(a);
  REQUIRE(b);
  const Spot<T> s{T(12.37), T(9.81), 0, T(1000), T(2)};
  const Window w{0, 0, 24, 22};
  Image<T> ma(w.height, w.width), mb(w.height, w.width);
  a->evaluate(s, w, smlm::make_view(ma));
  b->evaluate(s, w, smlm::make_view(mb));
  const double eps = std::numeric_limits<T>::epsilon();
  CHECK((ma - mb).abs().maxCoeff() <= 64 * eps * ma.maxCoeff());  // a different rounding of the solve
  CHECK(double((ma - T(2)).sum()) == doctest::Approx(1000).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("z outside the table is NaN and not rendered; a non-finite spot is NaN", T,
                   float, double) {
  PsfTable t = small_table(3, 7, 7);
  const auto model = Tabulated<T>::from_table(t);
  REQUIRE(model);
  Image<T> mu(5, 5);
  for (const double z : {-100.001, 0.001, 1e9, std::numeric_limits<double>::quiet_NaN()}) {
    INFO("z ", z);
    const Spot<T> s{T(10), T(10), T(z), T(100), T(1)};
    CHECK(std::isnan(model->support_radius_px(s)));
    model->evaluate(s, Window{8, 8, 5, 5}, smlm::make_view(mu));
    CHECK(mu.isNaN().all());
    Image<T> frame = Image<T>::Zero(20, 20);
    model->add_to(s, smlm::make_view(frame));
    CHECK((frame == 0).all());
  }
  for (const double z : {-100.0, -37.0, 0.0}) {  // the ends are inside
    const Spot<T> s{T(10), T(10), T(z), T(100), T(1)};
    model->evaluate(s, Window{8, 8, 5, 5}, smlm::make_view(mu));
    CHECK(mu.allFinite());
  }
  const Spot<T> bad{std::numeric_limits<T>::quiet_NaN(), T(10), T(0), T(100), T(1)};
  std::vector<T> jacobian(5 * 25);
  model->evaluate(bad, Window{8, 8, 5, 5}, smlm::make_view(mu),
                  psf::JacobianView<T>(jacobian.data(), 5, 5, 5));
  CHECK(mu.isNaN().all());
  for (const T v : jacobian) CHECK(std::isnan(v));
}

TEST_CASE("a table of a symmetric PSF gives a mirror-symmetric spot to the table's rounding") {
  const auto model = Tabulated<double, false>::from_table(
      psf::tabulate(psf::IntegratedGaussian<double>{.sigma_px = 1.3}, 6, 4));
  REQUIRE(model);
  for (const double offset : {0.5, 0.0}) {
    const Spot<double> s{20 + offset, 20 + offset, 0, 1000, 0};
    const std::ptrdiff_t n = offset == 0.5 ? 17 : 16;
    const Window w{20 - 8, 20 - 8, n, n};
    Image<double> mu(n, n);
    std::vector<double> j(4 * w.size());
    model->evaluate(s, w, smlm::make_view(mu), psf::JacobianView<double>(j.data(), 4, w));
    const Image<double> dx = smlm::make_view(j.data(), n, n);
    const double eps = std::numeric_limits<double>::epsilon();
    CHECK((mu - Image<double>(mu.rowwise().reverse())).abs().maxCoeff() <= 64 * eps * mu.maxCoeff());
    CHECK((mu - Image<double>(mu.transpose())).abs().maxCoeff() <= 64 * eps * mu.maxCoeff());
    CHECK((dx + Image<double>(dx.rowwise().reverse())).abs().maxCoeff() <=
          64 * eps * dx.abs().maxCoeff());
  }
}

TEST_CASE("the derivative is continuous across the spline's knots (C² interpolant)") {
  const auto model = Tabulated<double, false>::from_table(
      psf::tabulate(psf::IntegratedGaussian<double>{.sigma_px = 1.1}, 5, 2));
  REQUIRE(model);
  // With oversampling 2 the knots of pixel j sit at emitter x = j + 0.5 + k/2.
  const Window w{5, 5, 11, 11};
  const auto dx_at = [&](double x) {
    Image<double> mu(11, 11);
    std::vector<double> j(4 * 121);
    model->evaluate(Spot<double>{x, 10.3, 0, 1000, 0}, w, smlm::make_view(mu),
                    psf::JacobianView<double>(j.data(), 4, w));
    return Image<double>(smlm::make_view(j.data(), 11, 11));
  };
  const double knot = 10.5, d = 1e-7;
  const Image<double> below = dx_at(knot - d), above = dx_at(knot + d);
  const double scale = below.abs().maxCoeff();
  // a jump in the first derivative would show as O(1); a C¹ spline moves by O(d · f'') only
  CHECK((below - above).abs().maxCoeff() <= 1e-5 * scale);
}

TEST_CASE("tabulate puts the emitter at the table's centre sample") {
  const psf::IntegratedGaussian<double> g{.sigma_px = 1.0};
  const PsfTable t = psf::tabulate(g, 3, 2);
  CHECK(t.width == 13);
  CHECK(t.height == 13);
  CHECK(t.planes == 1);
  Image<double> mu(1, 1);
  g.evaluate(Spot<double>{0.5, 0.5, 0, 1, 0}, Window{0, 0, 1, 1}, smlm::make_view(mu));
  CHECK(t.values[6 * 13 + 6] == doctest::Approx(mu(0, 0)).epsilon(1e-15));
  // one sample to the right: the pixel centre half a pixel right of the emitter
  g.evaluate(Spot<double>{0.0, 0.5, 0, 1, 0}, Window{0, 0, 1, 1}, smlm::make_view(mu));
  CHECK(t.values[6 * 13 + 7] == doctest::Approx(mu(0, 0)).epsilon(1e-15));
  g.evaluate(Spot<double>{0.5, 2.0, 0, 1, 0}, Window{0, 0, 1, 1}, smlm::make_view(mu));
  CHECK(t.values[3 * 13 + 6] == doctest::Approx(mu(0, 0)).epsilon(1e-15));
}

TEST_CASE("bad tables are rejected with the field and the value") {
  using T3 = Tabulated<double>;
  using T2 = Tabulated<double, false>;
  CHECK(contains(error_of(T3::from_table(PsfTable{})), "is empty"));
  {
    PsfTable t = small_table(3, 5, 5);
    t.values.pop_back();
    const std::string m = error_of(T3::from_table(t));
    CHECK(contains(m, "values has 74 elements"));
    CHECK(contains(m, "= 75"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    t.values[2 * 25 + 3 * 5 + 4] = std::numeric_limits<double>::quiet_NaN();
    const std::string m = error_of(T3::from_table(t));
    CHECK(contains(m, "plane 2, row 3, column 4"));
    CHECK(contains(m, "not finite"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    t.values[1 * 25 + 7] = -0.25;
    const std::string m = error_of(T3::from_table(t));
    CHECK(contains(m, "plane 1, row 1, column 2 is -0.25"));
    CHECK(contains(m, "negative"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    for (int n = 0; n < 25; ++n) t.values[static_cast<std::size_t>(25 + n)] = 0;
    CHECK(contains(error_of(T3::from_table(t)), "plane 1 sums to 0"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    t.oversampling = 0;
    CHECK(contains(error_of(T3::from_table(t)), "oversampling 0"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    t.z_step_nm = 0;
    CHECK(contains(error_of(T3::from_table(t)), "z_step_nm 0"));
    t.z_step_nm = std::numeric_limits<double>::infinity();
    CHECK(contains(error_of(T3::from_table(t)), "z_step_nm inf"));
  }
  {
    PsfTable t = small_table(3, 5, 5);
    t.z_first_nm = std::numeric_limits<double>::quiet_NaN();
    CHECK(contains(error_of(T3::from_table(t)), "z_first_nm nan"));
  }
  CHECK(contains(error_of(T3::from_table(small_table(1, 5, 5))), "planes 1"));
  CHECK(contains(error_of(T2::from_table(small_table(3, 5, 5))), "planes 3"));
  CHECK(T2::from_table(small_table(1, 5, 5)));
  CHECK(T3::from_table(small_table(2, 5, 5)));
}
