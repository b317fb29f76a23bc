// simulator.hpp: reproducibility over threads and batch sizes, photon conservation, positions,
// drift, background, the degradation hook, the sink's Status, genericity over PSF and camera
// models, bad configurations. Statistical checks allow 4 standard errors (fixed, printed seeds).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/sim/simulator.hpp>

namespace sim = smlm::sim;
namespace psf = smlm::psf;
namespace camera = smlm::camera;
using smlm::Emitter;

namespace {
constexpr double z_limit = 4;

template <class T = float>
sim::SimulationConfig<T> small_config(std::uint64_t seed) {
  sim::SimulationConfig<T> c;
  c.width_px = 40;
  c.height_px = 32;
  c.pixel_nm = 100;
  c.background_photons = 20;
  c.kinetics = {.p_on_off = 0.4, .p_off_on = 0.1, .p_bleach = 0.02};
  c.photons = sim::PhotonDistribution::uniform(1000, 3000);
  c.seed = seed;
  return c;
}

std::vector<sim::Position> uniform_labels(const sim::Field& f, double density, std::uint64_t seed) {
  std::vector<sim::Position> v;
  REQUIRE(sim::uniform(f, {density}, seed, v).ok());
  return v;
}
}  // namespace

TEST_CASE("same seed, same stack and truth on 1 or 2 threads and any batch size") {
  const std::uint64_t seed = 0x5EED;
  MESSAGE("seed " << seed);
  auto config = small_config(seed);
  config.drift = {.x_nm_per_frame = 0.5, .y_nm_per_frame = -0.3, .walk_sd_nm = 2};
  const auto labels = uniform_labels(config.field(), 8, seed);
  using Sim = sim::Simulator<psf::IntegratedGaussian<float>, camera::Emccd<float>>;
  auto make = [&](int threads, std::ptrdiff_t chunk) {
    auto c = config;
    c.threads = threads;
    c.chunk_frames = chunk;
    Sim s({.sigma_px = 1.1f}, camera::Emccd<float>{}, c, labels);
    auto r = sim::simulate(s, 37);
    REQUIRE(r);
    return std::move(r).value();
  };
  const auto one = make(1, 64), two = make(2, 64), two_small = make(2, 5), one_tiny = make(1, 1);
  REQUIRE(one.stack.frames() == 37);
  CHECK(one.truth.size() > 37);
  for (const auto* other : {&two, &two_small, &one_tiny}) {
    CHECK(std::equal(one.stack.data(), one.stack.data() + one.stack.size(), other->stack.data()));
    CHECK(one.truth.x_nm == other->truth.x_nm);
    CHECK(one.truth.intensity_photons == other->truth.intensity_photons);
    CHECK(one.truth.frame == other->truth.frame);
  }
  // A different seed changes everything.
  config.seed = seed + 1;
  const auto other = make(1, 64);
  CHECK(!std::equal(one.stack.data(), one.stack.data() + one.stack.size(), other.stack.data()));
}

TEST_CASE("ideal camera, no background: each frame holds the photons of its emitters") {
  // Fluorophores at least 6σ from the edges, so the truncated tail (≤ 1.3e-4 of each spot's
  // photons, psf.hpp) is all that is lost; the frame sum is then Poisson(Σ photons · (1 − tail)).
  const std::uint64_t seed = 0xF07;
  MESSAGE("seed " << seed);
  auto config = small_config(seed);
  config.background_photons = 0;
  std::vector<sim::Position> labels;
  REQUIRE(sim::uniform({3200, 2400}, {6}, seed, labels).ok());
  for (auto& p : labels) p.x_nm += 400, p.y_nm += 400;
  sim::Simulator<psf::IntegratedGaussian<float>, camera::Ideal<float>> s({.sigma_px = 1.0f}, {}, config, labels);
  auto r = sim::simulate(s, 30);
  REQUIRE(r);
  std::vector<double> per_frame(30, 0.0);
  for (std::size_t i = 0; i < r->truth.size(); ++i) per_frame[static_cast<std::size_t>(r->truth.frame[i] - 1)] += r->truth.intensity_photons[i];
  for (std::ptrdiff_t f = 0; f < 30; ++f) {
    const double expected = per_frame[static_cast<std::size_t>(f)];
    const double sum = r->stack.frame(f).cast<double>().sum();
    CAPTURE(f);
    CHECK(std::abs(sum - expected) <= z_limit * std::sqrt(expected) + 1.3e-4 * expected + 1e-9);
  }
  // Truth rows: 1-based frames in order, ids are fluorophore indices + 1, photons in range.
  CHECK(r->truth.consistent());
  CHECK(std::is_sorted(r->truth.frame.begin(), r->truth.frame.end()));
  CHECK(r->truth.frame.front() >= 1);
  CHECK(r->truth.frame.back() <= 30);
  for (std::size_t i = 0; i < r->truth.size(); ++i) {
    const auto id = static_cast<std::size_t>(r->truth.id[i] - 1);
    REQUIRE(id < labels.size());
    CHECK(r->truth.x_nm[i] == doctest::Approx(labels[id].x_nm));
    CHECK(r->truth.intensity_photons[i] >= 1000);
    CHECK(r->truth.intensity_photons[i] <= 3000);
  }
  // Emitters per frame: Σ over fluorophores of P(on at f); frame 0 is stationary (π_on = 0.2).
  double frame1 = static_cast<double>(std::count(r->truth.frame.begin(), r->truth.frame.end(), 1));
  const double n = static_cast<double>(labels.size());
  CHECK(std::abs(frame1 - 0.2 * n) <= z_limit * std::sqrt(n * 0.2 * 0.8));
}

TEST_CASE("an always-on emitter is imaged where the truth says, drifting as configured") {
  const std::uint64_t seed = 0xD21F;
  MESSAGE("seed " << seed);
  auto config = small_config<double>(seed);
  config.background_photons = 0;
  config.kinetics = {.p_on_off = 0, .p_off_on = 0, .p_bleach = 0, .start_on_fraction = 1};
  config.photons = sim::PhotonDistribution::constant(20000);
  config.drift = {.x_nm_per_frame = 20, .y_nm_per_frame = -10};
  const std::vector<sim::Position> one{{1234.5, 1876.25, 0}};
  sim::Simulator<psf::IntegratedGaussian<double>, camera::Ideal<double>> s({.sigma_px = 1.2}, {}, config, one);
  std::vector<smlm::Image<double>> frames;
  const int n = 20;
  auto status = s.run(n, [&](std::ptrdiff_t f, smlm::ConstImageView<double> adu, std::span<const Emitter<double>> em) {
    REQUIRE(em.size() == 1);
    CHECK(em[0].frame == f + 1);
    CHECK(em[0].photons == 20000);
    // Truth moves by the drift exactly.
    CHECK(em[0].x_px * 100 == doctest::Approx(1234.5 + 20.0 * static_cast<double>(f)));
    CHECK(em[0].y_px * 100 == doctest::Approx(1876.25 - 10.0 * static_cast<double>(f)));
    // The image centroid estimates it with SE σ_total/√N ≈ 1.24 px / √20000 ≈ 0.009 px
    // (σ_total² = σ² + 1/12 for the pixel-integrated spot; the 4σ window truncation is symmetric).
    double sx = 0, sy = 0, s0 = 0;
    for (Eigen::Index y = 0; y < adu.rows(); ++y)
      for (Eigen::Index x = 0; x < adu.cols(); ++x) {
        s0 += adu(y, x);
        sx += adu(y, x) * (static_cast<double>(x) + 0.5);
        sy += adu(y, x) * (static_cast<double>(y) + 0.5);
      }
    const double se = std::sqrt(1.2 * 1.2 + 1.0 / 12) / std::sqrt(s0);
    CHECK(std::abs(sx / s0 - em[0].x_px) <= z_limit * se);
    CHECK(std::abs(sy / s0 - em[0].y_px) <= z_limit * se);
  });
  CHECK(status.ok());
}

TEST_CASE("background: constant plus map, recorded by the camera") {
  const std::uint64_t seed = 0xB6;
  MESSAGE("seed " << seed);
  auto config = small_config(seed);
  config.background_photons = 10;
  config.background_map = smlm::Image<float>::Zero(config.height_px, config.width_px);
  config.background_map.rightCols(20).setConstant(30);  // right half: 40 photons/pixel
  sim::Simulator<psf::IntegratedGaussian<float>, camera::Ideal<float>> s({}, {}, config, {});
  auto r = sim::simulate(s, 10);
  REQUIRE(r);
  CHECK(r->truth.empty());
  double left = 0, right = 0;
  for (std::ptrdiff_t f = 0; f < 10; ++f) {
    left += r->stack.frame(f).leftCols(20).cast<double>().sum();
    right += r->stack.frame(f).rightCols(20).cast<double>().sum();
  }
  const double n = 10.0 * 32 * 20;
  CHECK(std::abs(left / n - 10) <= z_limit * std::sqrt(10 / n));
  CHECK(std::abs(right / n - 40) <= z_limit * std::sqrt(40 / n));
}

TEST_CASE("degradation hook runs once per frame in order and changes only the frames") {
  const std::uint64_t seed = 0xDE6;
  auto config = small_config(seed);
  config.threads = 2;
  config.chunk_frames = 4;
  const auto labels = uniform_labels(config.field(), 5, seed);
  using Sim = sim::Simulator<psf::IntegratedGaussian<float>, camera::Emccd<float>>;
  Sim s({.sigma_px = 1.0f}, {}, config, labels);
  const auto plain = sim::simulate(s, 11);
  REQUIRE(plain);
  std::vector<std::ptrdiff_t> calls;
  const auto halved = sim::simulate(s, 11, [&](std::ptrdiff_t f, smlm::ImageView<float> adu) {
    calls.push_back(f);
    adu = adu.unaryExpr([](float v) { return std::floor(v * 0.5f); });
  });
  REQUIRE(halved);
  std::vector<std::ptrdiff_t> expected(11);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(calls == expected);
  CHECK(halved->truth.x_nm == plain->truth.x_nm);
  for (std::size_t i = 0; i < plain->stack.size(); ++i)
    REQUIRE(halved->stack.data()[i] == std::floor(plain->stack.data()[i] * 0.5f));
}

TEST_CASE("a sink's error stops the run; bad configurations are rejected") {
  auto config = small_config(3);
  using Sim = sim::Simulator<psf::IntegratedGaussian<float>, camera::Ideal<float>>;
  Sim s({}, {}, config, {});
  int seen = 0;
  auto status = s.run(10, [&](std::ptrdiff_t f, smlm::ConstImageView<float>, std::span<const Emitter<double>>) {
    ++seen;
    return f == 3 ? smlm::make_error(smlm::errc::io_error, "disk full at frame ", f) : smlm::Status{};
  });
  CHECK(seen == 4);
  CHECK(status.message() == "disk full at frame 3");
  auto bad = [&](auto edit) {
    auto c = config;
    edit(c);
    Sim b({}, {}, c, {});
    return sim::simulate(b, 2).status().message();
  };
  CHECK(bad([](auto& c) { c.width_px = 0; }).find("frame size 0x32") != std::string::npos);
  CHECK(bad([](auto& c) { c.pixel_nm = -1; }).find("pixel_nm = -1") != std::string::npos);
  CHECK(bad([](auto& c) { c.background_photons = -2; }).find("background_photons = -2") != std::string::npos);
  CHECK(bad([](auto& c) { c.background_map = smlm::Image<float>::Zero(3, 3); }).find("background_map") != std::string::npos);
  CHECK(bad([](auto& c) { c.kinetics.p_off_on = 2; }).find("p_off_on = 2") != std::string::npos);
  CHECK(bad([](auto& c) { c.photons = sim::PhotonDistribution::uniform(5, 1); }).find("5:1") != std::string::npos);
  CHECK(bad([](auto& c) { c.threads = -1; }).find("threads = -1") != std::string::npos);
  CHECK(bad([](auto& c) { c.drift.walk_sd_nm = -1; }).find("drift") != std::string::npos);
  CHECK(sim::simulate(s, -1).status().message().find("frames = -1") != std::string::npos);
  Sim nan_label({}, {}, config, {{std::nan(""), 0, 0}});
  CHECK(sim::simulate(nan_label, 1).status().message().find("fluorophore 0") != std::string::npos);
}

TEST_CASE("any psf::Model × camera::Model composes: sampled Gaussian × sCMOS, astigmatic × EMCCD") {
  const std::uint64_t seed = 0x6E;
  auto config = small_config(seed);
  auto labels = uniform_labels(config.field(), 4, seed);
  SUBCASE("Gaussian × Scmos") {
    // sCMOS with uniform maps: mean ADU of a frame is offset + qe·(photons)/gain.
    const smlm::Image<float> offset = smlm::Image<float>::Constant(32, 40, 100);
    const smlm::Image<float> gain = smlm::Image<float>::Constant(32, 40, 0.5f);
    const smlm::Image<float> var = smlm::Image<float>::Constant(32, 40, 4);
    config.kinetics = {.p_on_off = 1, .p_off_on = 0, .start_on_fraction = 0};  // all dark
    sim::Simulator<psf::Gaussian<float>, camera::Scmos<float>> s({}, camera::Scmos<float>(offset, gain, var), config, labels);
    auto r = sim::simulate(s, 4);
    REQUIRE(r);
    CHECK(r->truth.empty());
    const double mean = r->stack.frame(2).cast<double>().mean();
    const double expected = 100 + 0.8 * 20 / 0.5;  // 132 ADU
    CHECK(std::abs(mean - expected) <= z_limit * std::sqrt((0.8 * 20 / 0.25 + 4) / (32.0 * 40)));
    // Maps of another size than the frame are a configuration error, not an assertion.
    const smlm::Image<float> small = smlm::Image<float>::Constant(8, 8, 1);
    sim::Simulator<psf::Gaussian<float>, camera::Scmos<float>> wrong({}, camera::Scmos<float>(small, small, small), config, labels);
    CHECK(sim::simulate(wrong, 1).status().message().find("sensor is 8x8 pixels, the frame 40x32") != std::string::npos);
  }
  SUBCASE("AstigmaticGaussian × Emccd, labels at several z") {
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i].z_nm = static_cast<double>(i % 5) * 100 - 200;
    sim::Simulator<psf::AstigmaticGaussian<float>, camera::Emccd<float>> s({}, {}, config, labels);
    auto r = sim::simulate(s, 5);
    REQUIRE(r);
    CHECK(!r->truth.empty());
    for (std::size_t i = 0; i < r->truth.size(); ++i)
      CHECK(r->truth.z_nm[i] == labels[static_cast<std::size_t>(r->truth.id[i] - 1)].z_nm);
  }
}

TEST_CASE("random-walk drift: displacement variance grows as t·sd²; run() restarts from frame 0") {
  // 400 always-on labels share the stage drift, so every frame's offset is read off label 0's
  // truth. Over independent seeds the offset after t frames is N(t·v, t·sd²) per axis.
  const std::uint64_t seed = 0xD1F7;
  MESSAGE("seed " << seed);
  auto config = small_config<double>(seed);
  config.kinetics = {.p_on_off = 0, .p_off_on = 0, .start_on_fraction = 1};
  config.photons = sim::PhotonDistribution::constant(100);
  config.drift = {.x_nm_per_frame = 3, .y_nm_per_frame = 0, .walk_sd_nm = 4};
  const std::vector<sim::Position> one{{2000, 1600, 0}};
  const int frames = 26, seeds = 300;
  std::vector<double> dx_last, dy_last;
  for (int k = 0; k < seeds; ++k) {
    config.seed = seed + static_cast<std::uint64_t>(k);
    sim::Simulator<psf::Gaussian<double>, camera::Ideal<double>> s({}, {}, config, one);
    std::vector<double> x, y;
    REQUIRE(s.run(frames, [&](std::ptrdiff_t, smlm::ConstImageView<double>, std::span<const Emitter<double>> e) {
      x.push_back(e[0].x_px * 100);
      y.push_back(e[0].y_px * 100);
    }).ok());
    CHECK(x[0] == doctest::Approx(2000));  // w(0) = 0
    dx_last.push_back(x.back() - 2000);
    dy_last.push_back(y.back() - 1600);
    if (k == 0) {
      std::vector<double> again;
      REQUIRE(s.run(frames, [&](std::ptrdiff_t, smlm::ConstImageView<double>, std::span<const Emitter<double>> e) {
        again.push_back(e[0].x_px * 100);
      }).ok());
      CHECK(again == x);
    }
  }
  const double t = frames - 1, var = t * 16;
  auto moments = [](const std::vector<double>& v) {
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0;
    for (double a : v) ss += (a - m) * (a - m);
    return std::pair{m, ss / static_cast<double>(v.size() - 1)};
  };
  const auto [mx, vx] = moments(dx_last);
  const auto [my, vy] = moments(dy_last);
  CAPTURE(mx);
  CAPTURE(vx);
  CHECK(std::abs(mx - 3 * t) <= z_limit * std::sqrt(var / seeds));
  CHECK(std::abs(my) <= z_limit * std::sqrt(var / seeds));
  CHECK(std::abs(vx - var) <= z_limit * var * std::sqrt(2.0 / (seeds - 1)));
  CHECK(std::abs(vy - var) <= z_limit * var * std::sqrt(2.0 / (seeds - 1)));
}

TEST_CASE("labels on, beyond and far outside the frame edges: clipped, identical on 1 and 2 threads") {
  // The PSF windows of these emitters are partly or wholly outside the 40×32 frame; nothing may
  // be written outside the buffers (ASan builds check), and the light that lands inside must be
  // the same whatever the thread count.
  auto config = small_config(0xED6E);
  config.kinetics = {.p_on_off = 0, .p_off_on = 0, .start_on_fraction = 1};
  config.photons = sim::PhotonDistribution::constant(5000);
  config.background_photons = 0;
  const std::vector<sim::Position> edge{{0, 0, 0},      {3999.999, 3199.999, 0}, {-150, 1600, 0}, {4100, -100, 0},
                                        {-1e7, 1e7, 0}, {2000, 3300, 0},         {1e12, 0, 0}};
  using Sim = sim::Simulator<psf::IntegratedGaussian<float>, camera::Ideal<float>>;
  auto run = [&](int threads) {
    auto c = config;
    c.threads = threads;
    c.chunk_frames = 3;
    Sim s({.sigma_px = 1.5f}, {}, c, edge);
    auto r = sim::simulate(s, 7);
    REQUIRE(r);
    return std::move(r).value();
  };
  const auto one = run(1), two = run(2);
  CHECK(std::equal(one.stack.data(), one.stack.data() + one.stack.size(), two.stack.data()));
  CHECK(one.truth.size() == 7 * edge.size());
  // Light inside the frame: per emitter Π over axes of P(0 ≤ X < side) for X ~ N(centre, σ²)
  // (the integrated Gaussian is exact; its 4σ window loses ≤ 1.3e-4); the frame sum is Poisson.
  auto inside = [](double c, double side) {
    return 0.5 * (std::erfc(-(side - c) / (1.5 * std::sqrt(2.0))) - std::erfc(c / (1.5 * std::sqrt(2.0))));
  };
  double expected = 0;
  for (const auto& p : edge) expected += 5000 * inside(p.x_nm / 100, 40) * inside(p.y_nm / 100, 32);
  CHECK(expected == doctest::Approx(4873).epsilon(0.01));  // ¼ + ¼ of a spot at the corners, etc.
  for (std::ptrdiff_t f = 0; f < 7; ++f) {
    const double sum = one.stack.frame(f).cast<double>().sum();
    CHECK(std::abs(sum - expected) <= z_limit * std::sqrt(expected) + 1.3e-4 * 5000 * 7);
  }
}
