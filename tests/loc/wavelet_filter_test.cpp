// wavelet_filter.hpp: the B-spline kernels, the à trous levels on known inputs, and detection.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/loc/wavelet_filter.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
using smlm::Image;

TEST_CASE("B-spline values and the order-3, scale-2 kernel [1, 8, 23, 32, 23, 8, 1]/96") {
  CHECK(loc::bspline(3, 0) == doctest::Approx(2.0 / 3));
  CHECK(loc::bspline(3, 1) == doctest::Approx(1.0 / 6));
  CHECK(loc::bspline(3, 0.5) == doctest::Approx(23.0 / 48));
  CHECK(loc::bspline(3, 2) == doctest::Approx(0).scale(1));
  CHECK(loc::bspline(1, 0.25) == doctest::Approx(0.75));
  loc::WaveletWorkspace<double> ws(4, 4);
  REQUIRE(ws.kernel.size() == 7);
  const double expect[7] = {1, 8, 23, 32, 23, 8, 1};
  for (int i = 0; i < 7; ++i) CHECK(ws.kernel[i] == doctest::Approx(expect[i] / 96));
  loc::WaveletOptions iz;
  iz.izeddin_kernel = true;
  loc::WaveletWorkspace<double> wz(4, 4, iz);
  REQUIRE(wz.kernel.size() == 5);
  CHECK(wz.kernel[2] == doctest::Approx(6.0 / 16));
}

TEST_CASE("à trous levels: constant frames vanish, F1 + F2 + V2 = I, an impulse spreads as k1 then k2") {
  loc::WaveletWorkspace<double> ws(16, 16);
  SUBCASE("constant") {
    const Image<double> img = Image<double>::Constant(16, 16, 7);
    const double s = loc::wavelet_filter(smlm::make_view(img), ws);
    CHECK(s == doctest::Approx(0).scale(1));
    CHECK(ws.f2.abs().maxCoeff() < 1e-12);
    CHECK(ws.v2.minCoeff() == doctest::Approx(7));
  }
  SUBCASE("impulse") {
    Image<double> img = Image<double>::Zero(16, 16);
    img(8, 8) = 1;
    loc::wavelet_filter(smlm::const_view(img), ws);
    // V1 = k1 ⊗ k1 around the impulse.
    CHECK(ws.v1(8, 8) == doctest::Approx(32.0 / 96 * 32.0 / 96));
    CHECK(ws.v1(8, 11) == doctest::Approx(1.0 / 96 * 32.0 / 96));
    CHECK(ws.v1(8, 12) == 0);
    // V2 at the centre: Σ_i k2(i)·k1(−i) per axis, k2 = k1 with holes → taps i = 0, ±2.
    const double axis = (32.0 * 32 + 2 * 23.0 * 8) / (96.0 * 96);  // k2(±2)=k1(±1)=23/96, k1(∓2)=8/96
    CHECK(ws.v2(8, 8) == doctest::Approx(axis * axis));
    const Image<double> sum = ws.f1 + ws.f2 + ws.v2;
    CHECK((sum - img).abs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("detection on F2: spots above k·std(F1) are found, noise-free background gives none") {
  const std::ptrdiff_t n = 32;
  Image<float> img = Image<float>::Constant(n, n, 10);
  smlm::psf::IntegratedGaussian<float> g{.sigma_px = 1.3f};
  g.add_to({8.3f, 9.7f, 0, 500, 0}, smlm::make_view(img));
  g.add_to({22.6f, 20.2f, 0, 300, 0}, smlm::make_view(img));
  loc::WaveletWorkspace<float> ws(n, n);
  const float s = loc::wavelet_filter(smlm::const_view(img), ws);
  CHECK(s > 0);
  std::vector<loc::Peak> peaks(16);
  const auto r = loc::detect_local_maxima(smlm::const_view(ws.f2), 1.0 * s, 3, std::span<loc::Peak>(peaks));
  REQUIRE(r.count == 2);
  CHECK(peaks[0].col == 8);
  CHECK(peaks[0].row == 9);
  CHECK(peaks[1].col == 22);
  CHECK(peaks[1].row == 20);
  // border_px excludes candidates near the edge
  const auto r2 = loc::detect_local_maxima(smlm::const_view(ws.f2), 1.0 * s, 10, std::span<loc::Peak>(peaks));
  CHECK(r2.count == 0);
  // truncation
  std::vector<loc::Peak> one(1);
  const auto r3 = loc::detect_local_maxima(smlm::const_view(ws.f2), 1.0 * s, 3, std::span<loc::Peak>(one));
  CHECK(r3.truncated);
  loc::WaveletWorkspace<float> small(4, 4);
  CHECK_THROWS(loc::wavelet_filter(smlm::const_view(img), small));
}
