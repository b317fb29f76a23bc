// amplitudes.hpp: the joint fit recovers photon counts exactly on noise-free frames, also for
// emitters whose PSFs overlap, and without bias on Poisson frames; degenerate inputs stay finite.
#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/QR>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/loc/amplitudes.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

using namespace smlm;

namespace {
const psf::IntegratedGaussian<double> model{.sigma_px = 1.1};
Image<double> render(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& n, double b) {
  Image<double> f = Image<double>::Constant(24, 24, b);
  for (std::size_t k = 0; k < x.size(); ++k) model.add_to(psf::Spot<double>{x[k], y[k], 0, n[k], 0}, make_view(f));
  return f;
}
}  // namespace

TEST_CASE("estimate_amplitudes: exact on noise-free frames, overlapping emitters included") {
  const std::vector<double> x{5.2, 6.0, 15.5, 22.9, 30.0}, y{5.1, 5.6, 12.3, 20.4, 3.0}, n{2000, 1500, 800, 2500, 900};
  const Image<double> f = render(x, y, n, 20.0);  // the last emitter is outside the 24 × 24 frame
  loc::AmplitudeWorkspace<double> ws;
  std::vector<double> a(x.size());
  double b = 0;
  loc::estimate_amplitudes(model, const_view(f), std::span<const double>(x), std::span<const double>(y), ws, std::span<double>(a), b);
  CHECK(b == doctest::Approx(20.0).epsilon(1e-6));
  // To the light outside the model's support window (its support_tail) and the ridge.
  for (std::size_t k = 0; k < 4; ++k) CHECK(a[k] == doctest::Approx(n[k]).epsilon(1e-4));
  CHECK(a[4] == 0);
  // A window sum would count the neighbour's light: the first two emitters are 0.9 px apart.
  double window = 0;
  for (int i = 2; i <= 8; ++i)
    for (int j = 2; j <= 8; ++j) window += f(i, j) - 20.0;
  CHECK(window > 1.5 * n[0]);
}

TEST_CASE("estimate_amplitudes: unbiased on Poisson frames, two emitters at one position share") {
  const std::vector<double> x{8.3, 14.1}, y{9.7, 12.2}, n{1000, 400};
  const Image<double> mu = render(x, y, n, 15.0);
  Philox4x32 rng(12, 0, rng_purpose::user);
  loc::AmplitudeWorkspace<double> ws;
  std::vector<double> a(2), sum(2, 0.0);
  double b = 0;
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    Image<double> f(24, 24);
    for (std::ptrdiff_t i = 0; i < f.size(); ++i) f.data()[i] = double(poisson(rng, mu.data()[i]));
    loc::estimate_amplitudes(model, const_view(f), std::span<const double>(x), std::span<const double>(y), ws, std::span<double>(a), b);
    sum[0] += a[0], sum[1] += a[1];
  }
  // sd of one estimate ≈ √(N + 4πσ²b) ≈ 41 (1000) and 31 (400) photons: 4 sd of the mean of 400.
  CHECK(std::abs(sum[0] / trials - 1000) < 4 * 41 / std::sqrt(double(trials)));
  CHECK(std::abs(sum[1] / trials - 400) < 4 * 31 / std::sqrt(double(trials)));

  const std::vector<double> same_x{10.0, 10.0}, same_y{10.0, 10.0};
  const Image<double> g = render({10.0}, {10.0}, {1200.0}, 5.0);
  loc::estimate_amplitudes(model, const_view(g), std::span<const double>(same_x), std::span<const double>(same_y), ws,
                           std::span<double>(a), b);
  CHECK(std::isfinite(a[0]));
  CHECK(a[0] + a[1] == doctest::Approx(1200).epsilon(1e-4));
}

TEST_CASE("estimate_amplitudes: hundreds of emitters on a Poisson frame match the dense least-squares solution") {
  // 300 emitters at random positions at least 0.7 px apart on 48 × 48 pixels (≈ 13 per 100
  // pixels: most overlap several neighbours), every 30th outside the frame. The reference solves the
  // same least-squares problem independently: the design matrix of full-frame columns (each
  // emitter rendered by add_to, photons = 1) and a column of ones, by dense column-pivoting QR.
  Philox4x32 rng(31, 0, rng_purpose::user);
  const std::ptrdiff_t size = 48;
  const std::size_t k = 300;
  std::vector<double> x(k), y(k), n(k);
  for (std::size_t e = 0; e < k;) {
    x[e] = uniform01<double>(rng) * (size - 2) + 0.5;
    y[e] = uniform01<double>(rng) * (size - 2) + 0.5;
    if (e % 30 == 0) x[e] += size + 10;  // well outside: no light in the frame
    n[e] = 500 + 2000 * uniform01<double>(rng);
    bool apart = true;
    for (std::size_t o = 0; o < e; ++o) apart = apart && std::hypot(x[e] - x[o], y[e] - y[o]) >= 0.7;
    e += apart;
  }
  Image<double> mu = Image<double>::Constant(size, size, 12.0);
  for (std::size_t e = 0; e < k; ++e) model.add_to(psf::Spot<double>{x[e], y[e], 0, n[e], 0}, make_view(mu));
  Image<double> f(size, size);
  for (std::ptrdiff_t i = 0; i < f.size(); ++i) f.data()[i] = double(poisson(rng, mu.data()[i]));

  loc::AmplitudeWorkspace<double> ws;
  std::vector<double> a(k);
  double b = 0;
  loc::estimate_amplitudes(model, const_view(f), std::span<const double>(x), std::span<const double>(y), ws,
                           std::span<double>(a), b);

  Eigen::MatrixXd design = Eigen::MatrixXd::Zero(size * size, Eigen::Index(k + 1));
  design.col(0).setOnes();
  for (std::size_t e = 0; e < k; ++e) {
    Image<double> column = Image<double>::Zero(size, size);
    model.add_to(psf::Spot<double>{x[e], y[e], 0, 1, 0}, make_view(column));
    design.col(Eigen::Index(e + 1)) = Eigen::Map<const Eigen::VectorXd>(column.data(), size * size);
  }
  const Eigen::VectorXd theta =
      design.colPivHouseholderQr().solve(Eigen::Map<const Eigen::VectorXd>(f.data(), size * size));
  CHECK(b == doctest::Approx(theta(0)).epsilon(1e-6));
  std::size_t outside = 0, compared = 0;
  double worst = 0;
  for (std::size_t e = 0; e < k; ++e) {
    CAPTURE(e);
    const double in_frame = design.col(Eigen::Index(e + 1)).sum();
    if (in_frame == 0) {  // no light in the frame
      CHECK(a[e] == 0);
      ++outside;
      continue;
    }
    // Clipped at 0 as the fit is; relative to the emitter's photon count.
    const double d = std::abs(a[e] - std::max(theta(Eigen::Index(e + 1)), 0.0)) / n[e];
    CHECK(d < 1e-6);
    worst = std::max(worst, d);
    ++compared;
  }
  MESSAGE("largest difference from the dense solution: " << worst << " of the photon count, " << compared
                                                         << " emitters compared, " << outside << " outside");
  CHECK(outside == 10);
  CHECK(compared == 290);
}
