// pupil.hpp: with no aberration the pupil PSF is the Airy pattern; Parseval; astigmatism (Noll 5
// and 6) elongates the spot along the documented axis and flips it through focus; defocus
// without aberration is symmetric in z and widens the spot; bad optics are rejected by field.
// The model is a psf::Tabulated: its contract checks (with a pupil table among the cases) are in
// conformance_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <smlm/psf/airy.hpp>
#include <smlm/psf/pupil.hpp>

namespace psf = smlm::psf;
using psf::PupilImager;
using psf::PupilOptics;
using psf::Spot;
using psf::Window;
using smlm::Image;

namespace {

struct Moments {
  double xx, yy, xy, total;
};

template <class M>
Moments moments(const M& model, double z_nm) {
  const Spot<double> s{20.5, 20.5, z_nm, 1, 0};
  Image<double> mu(41, 41);
  model.evaluate(s, Window{0, 0, 41, 41}, smlm::make_view(mu));
  Moments m{0, 0, 0, 0};
  for (int i = 0; i < 41; ++i) {
    for (int j = 0; j < 41; ++j) {
      const double dx = j + 0.5 - s.x_px, dy = i + 0.5 - s.y_px, v = mu(i, j);
      m.xx += v * dx * dx;
      m.yy += v * dy * dy;
      m.xy += v * dx * dy;
      m.total += v;
    }
  }
  m.xx /= m.total;
  m.yy /= m.total;
  m.xy /= m.total;
  return m;
}

PupilOptics astigmatic(int noll) {
  PupilOptics o;
  o.aberrations = {{noll, 80}};
  o.planes = 3;
  o.z_first_nm = -400;
  o.z_step_nm = 400;
  o.fft_size = 256;
  return o;
}

}  // namespace

TEST_CASE("without aberrations the pupil PSF is the Airy pattern") {
  // Both are cut differently (Airy at a dark ring, the table at ±10 px, each renormalised), so
  // the shapes are compared after normalising each over the central 13 × 13 pixels. Measured max
  // difference 1.4e-4 of the peak with the automatic FFT (N = 1024, pupil radius 52.7 cells);
  // 3.4e-3 with N = 256 (13.2 cells), the bound the coarse grid must still meet.
  const psf::Airy<double> airy{.rings = 12, .quadrature_order = 6};  // NA 1.4, 680 nm, 100 nm
  for (const int n : {0, 256}) {
    PupilOptics o;
    o.fft_size = n;
    const auto imager = PupilImager::create(o);
    REQUIRE(imager);
    const auto model = psf::Tabulated<double, false>::from_table(imager->table());
    REQUIRE(model);
    INFO("fft size ", imager->fft_size(), ", pupil radius ", imager->pupil_radius_cells(), " cells");
    CHECK(imager->fft_size() == (n == 0 ? 1024 : 256));
    for (const double x : {20.5, 20.3, 20.0}) {
      const Spot<double> s{x, 20.17, 0, 1, 0};
      const Window w{14, 14, 13, 13};
      Image<double> a(13, 13), b(13, 13);
      airy.evaluate(s, w, smlm::make_view(a));
      model->evaluate(s, w, smlm::make_view(b));
      a /= a.sum();
      b /= b.sum();
      CHECK((a - b).abs().maxCoeff() <= (n == 0 ? 4e-4 : 6e-3) * a.maxCoeff());
    }
  }
}

TEST_CASE("Parseval: the image holds N² Σ|P|² at every z, before and after pixel integration") {
  PupilOptics o;
  o.aberrations = {{6, 50}, {11, -30}};
  o.fft_size = 256;
  const auto imager = PupilImager::create(o);
  REQUIRE(imager);
  const double n2 = 256.0 * 256.0;
  for (const double z : {0.0, 350.0, -800.0}) {
    INFO("z ", z);
    const double pupil_energy = imager->pupil(z).abs2().sum();
    const Image<double> intensity = imager->intensity(z);
    CHECK(intensity.sum() == doctest::Approx(n2 * pupil_energy).epsilon(1e-12));
    CHECK(intensity.minCoeff() >= 0);
    const Image<double> integrated = imager->pixel_integrated(z);
    CHECK(integrated.sum() == doctest::Approx(n2 * pupil_energy).epsilon(1e-12));
    // integrating over the pixel blurs: a lower peak, the same total
    CHECK(integrated.maxCoeff() < 0.99 * intensity.maxCoeff());
  }
  // the pupil is the NA disc: its area in cells is π r², rim cells counted by their share
  const double r = imager->pupil_radius_cells();
  CHECK(imager->pupil(0).abs().sum() == doctest::Approx(std::numbers::pi * r * r).epsilon(2e-3));
  CHECK(std::abs(imager->pupil(0).abs().maxCoeff() - 1) < 1e-15);
}

TEST_CASE("vertical astigmatism (Noll 6) elongates along x below focus and along y above") {
  const auto model = psf::make_pupil_psf<double>(astigmatic(6));
  REQUIRE(model);
  const Moments below = moments(*model, -400), focus = moments(*model, 0), above = moments(*model, 400);
  CHECK(below.xx > 2 * below.yy);
  CHECK(above.yy > 2 * above.xx);
  CHECK(focus.xx == doctest::Approx(focus.yy).epsilon(1e-9));
  CHECK(std::abs(below.xy) < 1e-9);
  // the two sides mirror each other (the aberration-free defocus is even in z)
  CHECK(below.xx == doctest::Approx(above.yy).epsilon(1e-9));
}

TEST_CASE("oblique astigmatism (Noll 5) elongates along the diagonals, flipping through focus") {
  const auto model = psf::make_pupil_psf<double>(astigmatic(5));
  REQUIRE(model);
  const Moments below = moments(*model, -400), above = moments(*model, 400), focus = moments(*model, 0);
  CHECK(below.xy > 0.4 * below.xx);   // along x = y
  CHECK(above.xy < -0.4 * above.xx);  // along x = −y
  CHECK(below.xx == doctest::Approx(below.yy).epsilon(1e-9));
  CHECK(std::abs(focus.xy) < 1e-3 * focus.xx);
}

TEST_CASE("aberration-free defocus is symmetric in z and widens the spot") {
  PupilOptics o;
  o.fft_size = 256;
  const auto imager = PupilImager::create(o);
  REQUIRE(imager);
  const Image<double> in_focus = imager->intensity(0);
  double previous = in_focus.maxCoeff();
  for (const double z : {200.0, 400.0, 800.0}) {
    const Image<double> plus = imager->intensity(z), minus = imager->intensity(-z);
    // the two are mirror images through the centre (complex conjugate fields); the spot is
    // radially symmetric, so they coincide
    CHECK((plus - minus).abs().maxCoeff() <= 1e-9 * plus.maxCoeff());
    CHECK(plus.maxCoeff() < previous);
    previous = plus.maxCoeff();
  }
}

TEST_CASE("bad optics are rejected, naming the field and the value") {
  const auto message = [](PupilOptics o) {
    const auto e = PupilImager::create(o);
    REQUIRE(!e);
    return e.message();
  };
  const auto contains = [](const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
  };
  PupilOptics o;
  o.na = 1.6;
  CHECK(contains(message(o), "na 1.6"));
  o = {};
  o.wavelength_nm = 0;
  CHECK(contains(message(o), "wavelength_nm 0"));
  o = {};
  o.pixel_nm = -5;
  CHECK(contains(message(o), "pixel_nm -5"));
  o = {};
  o.oversampling = 1;
  o.pixel_nm = 160;  // 160 nm > λ/(4 NA) = 121 nm
  CHECK(contains(message(o), "coarser than λ/(4 NA)"));
  o = {};
  o.aberrations = {{4, 10}, {0, 5}};
  CHECK(contains(message(o), "aberrations[1].noll 0"));
  o = {};
  o.aberrations = {{4, std::nan("")}};
  CHECK(contains(message(o), "aberrations[0].rms_nm nan"));
  o = {};
  o.planes = 4;
  CHECK(contains(message(o), "z_step_nm 0"));
  o = {};
  o.fft_size = 64;  // narrower than the 81-sample table
  CHECK(contains(message(o), "fft_size 64"));
  o = {};
  o.taper_px = -1;
  CHECK(contains(message(o), "taper_px -1"));
  // a 2D model of a stack is refused by Tabulated's own check
  PupilOptics stack = astigmatic(6);
  const auto flat = psf::make_pupil_psf<double, false>(stack);
  REQUIRE(!flat);
  CHECK(contains(flat.message(), "planes 3"));
}
