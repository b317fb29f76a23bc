// multi_emitter.hpp: windows with 1, 2 and 3 emitters closer than the PSF are fitted with the
// number of emitters they hold (likelihood-ratio test for mle, F test for lsq); the Jacobian
// assembly matches finite differences; bad input is flagged.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/loc/multi_emitter.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace loc = smlm::loc;
namespace psf = smlm::psf;
using smlm::Image;

namespace {
struct Xy {
  double x, y;
};

// An 11 × 11 window at (20, 30) with the emitters (2,000 photons each) on background 10, Poisson
// counts from `seed` (or the expectation when seed is 0).
Image<double> window_data(const std::vector<Xy>& emitters, std::uint64_t seed, psf::Window w) {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  Image<double> mu = Image<double>::Constant(w.height, w.width, 10), one(w.height, w.width);
  for (const Xy& e : emitters) {
    model.evaluate({e.x, e.y, 0, 2000, 0}, w, smlm::make_view(one));
    mu += one;
  }
  if (seed == 0) return mu;
  smlm::Philox4x32 rng(seed, 0, smlm::rng_purpose::emitters);
  for (std::ptrdiff_t i = 0; i < mu.size(); ++i) mu.data()[i] = static_cast<double>(smlm::poisson(rng, mu.data()[i]));
  return mu;
}

// Largest distance from a true emitter to its nearest fitted one.
double worst_error(const loc::MultiFitResult<double>& r, const std::vector<Xy>& truth) {
  double worst = 0;
  for (const Xy& t : truth) {
    double best = 1e9;
    for (int k = 0; k < r.count; ++k)
      best = std::min(best, std::hypot(r.spots[static_cast<std::size_t>(k)].x_px - t.x, r.spots[static_cast<std::size_t>(k)].y_px - t.y));
    worst = std::max(worst, best);
  }
  return worst;
}

loc::MultiFitResult<double> fit_window(const Image<double>& data, psf::Window w, loc::estimator method, int max_emitters) {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  loc::FitOptions f;
  f.method = method;
  loc::MultiEmitterOptions m;
  m.max_emitters = max_emitters;
  loc::MultiFitWorkspace<double> ws(w.size());
  return loc::fit_multi(model, smlm::const_view(data), w, loc::poisson_noise<double>(),
                        loc::initial_guess(smlm::const_view(data), w), f, m, ws);
}
}  // namespace

TEST_CASE("one emitter: every seed selects one emitter (p = 1e-6), at the single fit's position") {
  const psf::Window w{20, 30, 11, 11};
  const std::vector<Xy> truth{{25.7, 35.4}};
  for (loc::estimator method : {loc::estimator::mle, loc::estimator::lsq}) {
    int ones = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const auto r = fit_window(window_data(truth, seed, w), w, method, 3);
      REQUIRE(r.status == loc::fit_status::converged);
      ones += r.count == 1;
      CHECK(worst_error(r, truth) < 0.15);  // √CRLB ≈ 0.03 px at 2,000 photons
    }
    CAPTURE(static_cast<int>(method));
    CHECK(ones == 20);
  }
}

TEST_CASE("two emitters 2 px apart (1.5 σ): selected as two, each within 0.3 px") {
  const psf::Window w{20, 30, 11, 11};
  const std::vector<Xy> truth{{24.6, 35.2}, {26.6, 35.5}};
  for (loc::estimator method : {loc::estimator::mle, loc::estimator::lsq}) {
    CAPTURE(static_cast<int>(method));
    int twos = 0, close = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const auto r = fit_window(window_data(truth, seed, w), w, method, 4);
      twos += r.count == 2;
      close += r.count == 2 && worst_error(r, truth) < 0.3;
      CHECK(r.count >= 1);
      if (r.count >= 2) CHECK(r.p[1] < 1e-6);
    }
    CHECK(twos >= 19);
    CHECK(close >= 19);
    // Capped at one emitter: one fit between them.
    const auto single = fit_window(window_data(truth, 1, w), w, method, 1);
    CHECK(single.count == 1);
    CHECK(std::isnan(single.objective[1]));
  }
}

TEST_CASE("three emitters: selected as three; the objective falls with each emitter") {
  const psf::Window w{20, 30, 13, 13};
  const std::vector<Xy> truth{{24.5, 35.0}, {27.0, 35.5}, {25.5, 38.0}};
  int threes = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto r = fit_window(window_data(truth, seed, w), w, loc::estimator::mle, 5);
    threes += r.count == 3 && worst_error(r, truth) < 0.35;
    if (r.count == 3) {
      CHECK(r.objective[1] < r.objective[0]);
      CHECK(r.objective[2] < r.objective[1]);
      // The deviance of the true model is about χ²(pixels − parameters): 169 − 10.
      CHECK(r.objective[2] < 159 + 6 * std::sqrt(2.0 * 159));
      double photons = 0;
      for (int k = 0; k < 3; ++k) photons += r.spots[static_cast<std::size_t>(k)].photons;
      CHECK(photons == doctest::Approx(6000).epsilon(0.05));
      CHECK(r.spots[0].background == doctest::Approx(10).epsilon(0.1));
    }
  }
  CHECK(threes >= 9);
}

TEST_CASE("noiseless data: the selected model is exact") {
  const psf::Window w{20, 30, 11, 11};
  const std::vector<Xy> truth{{24.6, 35.2}, {26.9, 35.9}};
  const auto r = fit_window(window_data(truth, 0, w), w, loc::estimator::mle, 3);
  REQUIRE(r.count == 2);
  CHECK(worst_error(r, truth) < 1e-4);
  CHECK(r.objective[1] < 1e-6);
}

TEST_CASE("the Jacobian assembly and gradient match finite differences of the objective") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  const psf::Window w{20, 30, 9, 9};
  const Image<double> data = window_data({{23.9, 34.1}, {25.8, 34.6}}, 3, w);
  loc::MultiFitWorkspace<double> ws(w.size());
  for (loc::estimator method : {loc::estimator::mle, loc::estimator::lsq}) {
    CAPTURE(static_cast<int>(method));
    // The workspace's data terms, set as fit_multi sets them (Poisson: weight 1, offset 0).
    for (std::ptrdiff_t i = 0; i < w.size(); ++i) {
      ws.data[static_cast<std::size_t>(i)] = data.data()[i];
      ws.weight[static_cast<std::size_t>(i)] = 1;
      ws.offset[static_cast<std::size_t>(i)] = 0;
    }
    loc::detail::MultiTheta theta{};
    const double values[] = {24.1, 34.3, 1800, 25.5, 34.8, 2300, 12};
    for (int k = 0; k < 7; ++k) theta[static_cast<std::size_t>(k)] = values[k];
    auto objective = [&](const loc::detail::MultiTheta& t) {
      loc::detail::MultiNormal n;
      loc::detail::evaluate_emitters(model, t, 2, w, ws, ws.trial_mu, ws.trial_jac);
      REQUIRE(loc::detail::accumulate_emitters(method, 7, w.size(), ws, ws.trial_mu, ws.trial_jac, n));
      return n.objective;
    };
    loc::detail::MultiNormal at;
    loc::detail::evaluate_emitters(model, theta, 2, w, ws, ws.mu, ws.jac);
    REQUIRE(loc::detail::accumulate_emitters(method, 7, w.size(), ws, ws.mu, ws.jac, at));
    for (int k = 0; k < 7; ++k) {
      CAPTURE(k);
      const double h = (k % 3 == 2) ? 1e-2 : 1e-5;
      auto plus = theta, minus = theta;
      plus[static_cast<std::size_t>(k)] += h;
      minus[static_cast<std::size_t>(k)] -= h;
      // g is the gradient of half the objective (fitter.hpp's convention): mle's objective is
      // already the half-deviance; lsq's is the full sum of squares.
      const double fd = (objective(plus) - objective(minus)) / (2 * h);
      const double g = at.g[static_cast<std::size_t>(k)] * (method == loc::estimator::mle ? 1.0 : 2.0);
      CHECK(g == doctest::Approx(fd).epsilon(1e-5).scale(1e-3));
    }
  }
}

TEST_CASE("bad input: NaN data, invalid options") {
  const psf::Window w{20, 30, 11, 11};
  Image<double> data = window_data({{25.0, 35.0}}, 1, w);
  data(3, 4) = NAN;
  const auto r = fit_window(data, w, loc::estimator::mle, 3);
  CHECK(r.count == 0);
  CHECK(r.status == loc::fit_status::not_finite);
  loc::MultiEmitterOptions m;
  m.max_emitters = loc::max_emitters + 1;
  CHECK_FALSE(m.valid());
  m.max_emitters = 2;
  m.p_value = 0;
  CHECK_FALSE(m.valid());
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.3};
  loc::MultiFitWorkspace<double> small(10);
  CHECK_THROWS(loc::fit_multi(model, smlm::const_view(data), w, loc::poisson_noise<double>(),
                              loc::initial_guess(smlm::const_view(data), w), loc::FitOptions{}, loc::MultiEmitterOptions{}, small));
}
