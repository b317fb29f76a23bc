// structure.hpp: label counts against the Poisson expectation, bounds, filament stiffness and
// width, ring radii, stripe separations, density masks, reproducibility, bad parameters.
// Statistical checks use |estimate − theory| ≤ 4 standard errors (two-sided p ≈ 6e-5 per check),
// with fixed, printed seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <smlm/sim/structure.hpp>

namespace sim = smlm::sim;
using sim::Field;
using sim::Position;

namespace {
constexpr double z_limit = 4;

bool all_inside(const Field& f, const std::vector<Position>& v) {
  return std::all_of(v.begin(), v.end(), [&](const Position& p) { return f.contains(p.x_nm, p.y_nm) && p.z_nm == 0; });
}
}  // namespace

TEST_CASE("uniform: count is Poisson(density·area), quadrants equal, inside the field") {
  const Field field{6400, 3200};  // 20.48 µm²
  const double density = 6;
  const double lambda = density * field.area_um2();
  const std::uint64_t seed = 0x51A1;
  MESSAGE("seed " << seed);
  // 200 realisations: the mean count has SE √(λ/200); the variance must be λ too (Poisson).
  const int runs = 200;
  std::vector<double> counts;
  std::array<double, 4> quadrant{};
  for (int r = 0; r < runs; ++r) {
    std::vector<Position> v;
    REQUIRE(sim::uniform(field, {density}, seed, v, static_cast<std::uint32_t>(r)).ok());
    CHECK(all_inside(field, v));
    counts.push_back(static_cast<double>(v.size()));
    for (const auto& p : v) quadrant[(p.x_nm >= 3200 ? 1 : 0) + (p.y_nm >= 1600 ? 2 : 0)] += 1;
  }
  const double mean = std::accumulate(counts.begin(), counts.end(), 0.0) / runs;
  double var = 0;
  for (double c : counts) var += (c - mean) * (c - mean);
  var /= runs - 1;
  CAPTURE(mean);
  CAPTURE(var);
  CHECK(std::abs(mean - lambda) <= z_limit * std::sqrt(lambda / runs));
  // Variance of a sample variance of Poisson counts ≈ 2λ²/(n − 1) (λ ≫ 1).
  CHECK(std::abs(var - lambda) <= z_limit * lambda * std::sqrt(2.0 / (runs - 1)));
  const double total = quadrant[0] + quadrant[1] + quadrant[2] + quadrant[3];
  for (double q : quadrant) CHECK(std::abs(q - total / 4) <= z_limit * std::sqrt(total * 0.25 * 0.75));
}

TEST_CASE("uniform: reproducible per (seed, instance), zero density gives nothing") {
  std::vector<Position> a, b, c, none;
  REQUIRE(sim::uniform({}, {2}, 7, a).ok());
  REQUIRE(sim::uniform({}, {2}, 7, b).ok());
  REQUIRE(sim::uniform({}, {2}, 7, c, 1).ok());
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK((a[i].x_nm == b[i].x_nm && a[i].y_nm == b[i].y_nm));
  CHECK((a.size() != c.size() || a[0].x_nm != c[0].x_nm));
  REQUIRE(sim::uniform({}, {0}, 7, none).ok());
  CHECK(none.empty());
}

TEST_CASE("structures reject bad parameters with a message naming the field and value") {
  std::vector<Position> v;
  auto s = sim::uniform({}, {-1}, 1, v);
  CHECK(s.code() == smlm::errc::invalid_argument);
  CHECK(s.message().find("density_per_um2 = -1") != std::string::npos);
  CHECK(!sim::uniform({0, 100}, {1}, 1, v).ok());
  CHECK(!sim::uniform({}, {std::nan("")}, 1, v).ok());
  CHECK(sim::uniform({}, {1e12}, 1, v).code() == smlm::errc::out_of_range);
  CHECK(sim::filaments({}, {.persistence_nm = 0}, 1, v).message().find("persistence_nm = 0") != std::string::npos);
  CHECK(!sim::filaments({}, {.step_nm = -1}, 1, v).ok());
  CHECK(!sim::filaments({}, {.labels_per_um = -2}, 1, v).ok());
  CHECK(!sim::rings({}, {.radius_nm = -5}, 1, v).ok());
  CHECK(sim::rings({1000, 1000}, {.radius_nm = 600}, 1, v).message().find("does not fit") != std::string::npos);
  CHECK(sim::stripes({}, {.separations_nm = {100, -3}}, 1, v).message().find("separations_nm[1] = -3") != std::string::npos);
  smlm::Image<float> mask = smlm::Image<float>::Zero(2, 2);
  CHECK(sim::density_mask<float>({}, smlm::const_view(mask), 1, 1, v).message().find("zero everywhere") != std::string::npos);
  mask(1, 0) = -1;
  CHECK(sim::density_mask<float>({}, smlm::const_view(mask), 1, 1, v).message().find("mask(1, 0) = -1") != std::string::npos);
  CHECK(v.empty());
}

namespace {
/// One filament per instance in a field so large nothing is dropped; labels lie on the chain
/// (label_sd_nm = 0) in arc order.
std::vector<std::vector<Position>> trace(const sim::FilamentParams& p, int chains, std::uint64_t seed) {
  const Field big{1e7, 1e7};
  std::vector<std::vector<Position>> out(static_cast<std::size_t>(chains));
  for (int c = 0; c < chains; ++c) {
    sim::FilamentParams one = p;
    one.count = 1;
    REQUIRE(sim::filaments(big, one, seed, out[static_cast<std::size_t>(c)], static_cast<std::uint32_t>(c)).ok());
  }
  return out;
}
}  // namespace

TEST_CASE("filaments: tangent correlation exp(-s/2Lp), labels per µm, lateral spread") {
  const std::uint64_t seed = 0xF11A;
  MESSAGE("seed " << seed);
  SUBCASE("stiffness and label density") {
    // 200 chains of 4 µm, Lp = 2 µm, 200 labels/µm (mean gap 5 nm < the 10 nm step), no jitter.
    const sim::FilamentParams p{.count = 1, .length_nm = 4000, .persistence_nm = 2000, .step_nm = 10,
                                .labels_per_um = 200, .label_sd_nm = 0};
    const int chains = 200;
    const auto all = trace(p, chains, seed);
    double labels = 0;
    for (const auto& c : all) labels += static_cast<double>(c.size());
    const double expected = chains * p.length_nm * 1e-3 * p.labels_per_um;
    CHECK(std::abs(labels - expected) <= z_limit * std::sqrt(expected));
    // Label spacing: gaps of a Poisson process along the contour are exponential, mean 1/λ = 5 nm
    // and sd 5 nm (chords, ≤ 0.4 % shorter than the arc, see below). The SE of the mean gap is
    // 5/√n; the sd/mean ratio (1 for an exponential) has SE ≈ 1/√n.
    std::vector<double> gaps;
    for (const auto& c : all)
      for (std::size_t i = 1; i < c.size(); ++i) gaps.push_back(std::hypot(c[i].x_nm - c[i - 1].x_nm, c[i].y_nm - c[i - 1].y_nm));
    const double ng = static_cast<double>(gaps.size());
    const double gap_mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / ng;
    double gap_ss = 0;
    for (double g : gaps) gap_ss += (g - gap_mean) * (g - gap_mean);
    const double gap_cv = std::sqrt(gap_ss / (ng - 1)) / gap_mean;
    CAPTURE(gap_mean);
    CAPTURE(gap_cv);
    CHECK(std::abs(gap_mean - 5) <= z_limit * 5 / std::sqrt(ng) + 0.02);
    CHECK(std::abs(gap_cv - 1) <= z_limit / std::sqrt(ng) + 0.004);
    // Tangent at a label: direction to the next label; arc position: cumulative chord length
    // (labels 5 nm apart on a 10 nm-step polyline bending by ≤ 0.3 rad per step: chord and arc
    // differ by < 0.4 %). Per chain, average cos Δθ over start points every 250 nm; the chain
    // averages are independent, so their spread gives the SE.
    for (const double lag : {250.0, 1000.0, 2000.0}) {
      std::vector<double> per_chain;
      for (const auto& c : all) {
        std::vector<double> arc(c.size(), 0.0), theta(c.size(), 0.0);
        for (std::size_t i = 1; i < c.size(); ++i)
          arc[i] = arc[i - 1] + std::hypot(c[i].x_nm - c[i - 1].x_nm, c[i].y_nm - c[i - 1].y_nm);
        for (std::size_t i = 0; i + 1 < c.size(); ++i)
          theta[i] = std::atan2(c[i + 1].y_nm - c[i].y_nm, c[i + 1].x_nm - c[i].x_nm);
        double sum = 0;
        int n = 0;
        std::size_t j = 0;
        for (double s0 = 50; s0 + lag < arc.back() - 50; s0 += 250) {
          const auto i0 = static_cast<std::size_t>(std::lower_bound(arc.begin(), arc.end(), s0) - arc.begin());
          j = std::max(j, i0);
          while (j + 1 < c.size() && arc[j] < arc[i0] + lag) ++j;
          if (j + 1 >= c.size()) break;
          sum += std::cos(theta[j] - theta[i0]);
          ++n;
        }
        if (n > 0) per_chain.push_back(sum / n);
      }
      const double m = std::accumulate(per_chain.begin(), per_chain.end(), 0.0) / static_cast<double>(per_chain.size());
      double v = 0;
      for (double x : per_chain) v += (x - m) * (x - m);
      const double se = std::sqrt(v / static_cast<double>(per_chain.size() - 1) / static_cast<double>(per_chain.size()));
      const double theory = std::exp(-lag / (2 * p.persistence_nm));
      CAPTURE(lag);
      CAPTURE(m);
      CAPTURE(se);
      CHECK(std::abs(m - theory) <= z_limit * se + 0.01);
    }
  }
  SUBCASE("perpendicular label spread") {
    // Straight chains (Lp = 10^12 nm): labels scatter about a line with sd label_sd_nm. Fit the
    // line per chain by principal axes; the residual sd estimates label_sd_nm.
    const sim::FilamentParams p{.count = 1, .length_nm = 5000, .persistence_nm = 1e12, .step_nm = 10,
                                .labels_per_um = 100, .label_sd_nm = 12};
    const auto all = trace(p, 20, seed + 1);
    double ss = 0;
    double n = 0;
    for (const auto& c : all) {
      double mx = 0, my = 0;
      for (const auto& q : c) mx += q.x_nm, my += q.y_nm;
      mx /= static_cast<double>(c.size());
      my /= static_cast<double>(c.size());
      double sxx = 0, syy = 0, sxy = 0;
      for (const auto& q : c) {
        sxx += (q.x_nm - mx) * (q.x_nm - mx);
        syy += (q.y_nm - my) * (q.y_nm - my);
        sxy += (q.x_nm - mx) * (q.y_nm - my);
      }
      // Smallest eigenvalue of the scatter matrix = residual sum of squares about the axis.
      const double tr = sxx + syy, det = sxx * syy - sxy * sxy;
      ss += 0.5 * tr - std::sqrt(0.25 * tr * tr - det);
      n += static_cast<double>(c.size()) - 2;
    }
    const double sd = std::sqrt(ss / n);
    CAPTURE(sd);
    CHECK(std::abs(sd - p.label_sd_nm) <= z_limit * p.label_sd_nm / std::sqrt(2 * n));
  }
  SUBCASE("labels stay in the field") {
    const Field field{3000, 2000};
    std::vector<Position> v;
    REQUIRE(sim::filaments(field, {.count = 20}, seed, v).ok());
    CHECK(!v.empty());
    CHECK(all_inside(field, v));
  }
}

TEST_CASE("rings: labels at the ring radius, all inside, count per ring") {
  const std::uint64_t seed = 0x121;
  MESSAGE("seed " << seed);
  SUBCASE("radius") {
    // One ring of 4000 labels per instance: the centroid is within r/√(2n) ≈ 1 nm of the centre.
    const Field big{1e5, 1e5};
    for (std::uint32_t inst = 0; inst < 3; ++inst) {
      std::vector<Position> v;
      REQUIRE(sim::rings(big, {.count = 1, .radius_nm = 90, .labels_per_ring = 4000}, seed, v, inst).ok());
      REQUIRE(v.size() == 4000);
      double cx = 0, cy = 0;
      for (const auto& p : v) cx += p.x_nm, cy += p.y_nm;
      cx /= 4000;
      cy /= 4000;
      double lo = 1e9, hi = 0;
      for (const auto& p : v) {
        const double d = std::hypot(p.x_nm - cx, p.y_nm - cy);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
      }
      CHECK(lo > 90 - 5);
      CHECK(hi < 90 + 5);
    }
  }
  SUBCASE("radius spread and bounds") {
    const Field field{2000, 2000};
    std::vector<Position> v;
    REQUIRE(sim::rings(field, {.count = 50, .radius_nm = 100, .radius_sd_nm = 5, .labels_per_ring = 12,
                               .label_sd_nm = 3},
                       seed, v)
                .ok());
    CHECK(v.size() == 600);
    CHECK(all_inside(field, v));
  }
}

TEST_CASE("stripes: line pairs at the requested separations") {
  const std::uint64_t seed = 0x5791;
  MESSAGE("seed " << seed);
  const Field field{5000, 4000};
  const sim::StripeParams p{.separations_nm = {40, 80, 160, 320}, .labels_per_um = 100, .label_sd_nm = 5};
  std::vector<Position> v;
  REQUIRE(sim::stripes(field, p, seed, v).ok());
  CHECK(all_inside(field, v));
  // Assign each label to the nearest of the 8 lines; per line, the mean x has SE 5/√n nm.
  std::vector<double> lines;
  for (std::size_t k = 0; k < 4; ++k) {
    const auto [l, r] = sim::stripe_pair_x_nm(field.width_nm, k, 4, p.separations_nm[k]);
    lines.push_back(l);
    lines.push_back(r);
  }
  std::vector<double> sum(8, 0), n(8, 0);
  for (const auto& q : v) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < 8; ++i)
      if (std::abs(q.x_nm - lines[i]) < std::abs(q.x_nm - lines[best])) best = i;
    sum[best] += q.x_nm;
    n[best] += 1;
  }
  const double per_line = p.labels_per_um * field.height_nm * 1e-3;  // 400
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    // 40 nm pairs with sd 5 nm: misassignment needs a 4 sd excursion (3e-5 per label).
    CHECK(std::abs(n[2 * k] - per_line) <= z_limit * std::sqrt(per_line));
    const double sep = sum[2 * k + 1] / n[2 * k + 1] - sum[2 * k] / n[2 * k];
    CHECK(std::abs(sep - p.separations_nm[k]) <= z_limit * 5 * std::sqrt(1 / n[2 * k] + 1 / n[2 * k + 1]));
  }
  // Pair centres at (k + ½)·W/K.
  CHECK(lines[0] + lines[1] == doctest::Approx(1250));
  CHECK(lines[6] + lines[7] == doctest::Approx(2 * 4375));
}

TEST_CASE("density_mask: counts follow the mask weights, none where it is zero") {
  const std::uint64_t seed = 0x3A5C;
  MESSAGE("seed " << seed);
  smlm::Image<float> mask(2, 2);
  mask << 0, 1, 2, 1;  // row 0: (0, 1); row 1: (2, 1)
  const Field field{4000, 2000};
  std::vector<Position> v;
  REQUIRE(sim::density_mask<float>(field, smlm::const_view(mask), 50, seed, v).ok());
  CHECK(all_inside(field, v));
  const double total = static_cast<double>(v.size());
  CHECK(std::abs(total - 400) <= z_limit * std::sqrt(400.0));
  std::array<double, 4> counts{};
  for (const auto& p : v) counts[(p.x_nm >= 2000 ? 1 : 0) + (p.y_nm >= 1000 ? 2 : 0)] += 1;
  CHECK(counts[0] == 0);
  const std::array<double, 4> share{0, 0.25, 0.5, 0.25};
  for (int i = 1; i < 4; ++i) CHECK(std::abs(counts[i] - total * share[i]) <= z_limit * std::sqrt(total * share[i] * (1 - share[i])));
}
