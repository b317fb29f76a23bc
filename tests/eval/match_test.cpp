#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <smlm/eval/match.hpp>

#include "eval_test_util.hpp"

namespace eval = smlm::eval;
using eval_test::Row;
using eval_test::table;

namespace {

bool has_pair(const eval::Matching& m, std::size_t truth, std::size_t test) {
  return std::any_of(m.pairs.begin(), m.pairs.end(),
                     [&](const eval::MatchedPair& p) { return p.truth == truth && p.test == test; });
}

eval::MatchOptions options(double tolerance_nm, eval::match_method method = eval::match_method::optimal,
                           eval::match_cost cost = eval::match_cost::distance) {
  eval::MatchOptions o;
  o.tolerance_nm = tolerance_nm;
  o.method = method;
  o.cost = cost;
  return o;
}

/// The definition, by exhaustive search: over all one-to-one pairings of candidate pairs (same
/// frame, d ≤ r), the largest cardinality, and the least total cost among those.
struct BruteBest {
  std::size_t pairs = 0;
  double cost = 0;
};
void brute_recurse(const smlm::LocalizationTable& truth, const smlm::LocalizationTable& test, double r,
                   eval::match_cost cost_kind, std::size_t i, std::vector<char>& used, std::size_t pairs, double cost,
                   BruteBest& best) {
  if (i == truth.size()) {
    if (pairs > best.pairs || (pairs == best.pairs && cost < best.cost)) best = {pairs, cost};
    return;
  }
  brute_recurse(truth, test, r, cost_kind, i + 1, used, pairs, cost, best);
  for (std::size_t j = 0; j < test.size(); ++j) {
    if (used[j] || test.frame[j] != truth.frame[i]) continue;
    const double d = std::hypot(test.x_nm[j] - truth.x_nm[i], test.y_nm[j] - truth.y_nm[i]);
    if (!(d <= r)) continue;
    used[j] = 1;
    brute_recurse(truth, test, r, cost_kind, i + 1, used, pairs + 1,
                  cost + (cost_kind == eval::match_cost::distance ? d : d * d), best);
    used[j] = 0;
  }
}
BruteBest brute_force(const smlm::LocalizationTable& truth, const smlm::LocalizationTable& test, double r,
                      eval::match_cost cost_kind) {
  BruteBest best;
  best.cost = std::numeric_limits<double>::infinity();
  std::vector<char> used(test.size(), 0);
  brute_recurse(truth, test, r, cost_kind, 0, used, 0, 0.0, best);
  if (best.pairs == 0) best.cost = 0;
  return best;
}

/// Every pair is within tolerance, in the same frame, and no row is used twice.
void check_valid(const eval::Matching& m, const smlm::LocalizationTable& truth, const smlm::LocalizationTable& test,
                 double r) {
  std::vector<char> t_used(truth.size(), 0), l_used(test.size(), 0);
  for (const eval::MatchedPair& p : m.pairs) {
    REQUIRE(p.truth < truth.size());
    REQUIRE(p.test < test.size());
    CHECK(truth.frame[p.truth] == test.frame[p.test]);
    CHECK(p.distance_nm <= r);
    CHECK(p.dx_nm == doctest::Approx(test.x_nm[p.test] - truth.x_nm[p.truth]));
    CHECK(!t_used[p.truth]);
    CHECK(!l_used[p.test]);
    t_used[p.truth] = 1;
    l_used[p.test] = 1;
  }
}

}  // namespace

TEST_CASE("optimal matching recovers the pairing greedy misses when a close pair blocks two") {
  // A at 0, B at 70; a at 30 (d(A,a) = 30, d(B,a) = 40), b at −45 (d(A,b) = 45). Tolerance 50.
  const auto truth = table({{1, 0, 0}, {1, 70, 0}});
  const auto test = table({{1, 30, 0}, {1, -45, 0}});
  const auto greedy = eval::match(truth, test, options(50, eval::match_method::greedy));
  CHECK(greedy.tp() == 1);
  CHECK(has_pair(greedy, 0, 0));
  CHECK(greedy.fp() == 1);
  CHECK(greedy.fn() == 1);
  const auto optimal = eval::match(truth, test, options(50));
  REQUIRE(optimal.tp() == 2);
  CHECK(has_pair(optimal, 0, 1));
  CHECK(has_pair(optimal, 1, 0));
  CHECK(optimal.total_cost(eval::match_cost::distance) == doctest::Approx(85.0));
  CHECK(optimal.fp() == 0);
  CHECK(optimal.fn() == 0);
}

TEST_CASE("among pairings of maximum size the optimal matcher takes the least total distance") {
  // A=0, B=20; a=10, b=30: A–a + B–b = 20 beats A–b + B–a = 40.
  const auto truth = table({{1, 0, 0}, {1, 20, 0}});
  const auto test = table({{1, 30, 0}, {1, 10, 0}});
  const auto m = eval::match(truth, test, options(50));
  REQUIRE(m.tp() == 2);
  CHECK(has_pair(m, 0, 1));
  CHECK(has_pair(m, 1, 0));
  CHECK(m.total_cost(eval::match_cost::distance) == doctest::Approx(20.0));
  // The square: A=(0,0), B=(0,10); a=(10,0), b=(10,10): sides (10 + 10) beat diagonals.
  const auto sq_truth = table({{1, 0, 0}, {1, 0, 10}});
  const auto sq_test = table({{1, 10, 10}, {1, 10, 0}});
  const auto sq = eval::match(sq_truth, sq_test, options(50));
  CHECK(has_pair(sq, 0, 1));
  CHECK(has_pair(sq, 1, 0));
}

TEST_CASE("ties: one detection equidistant from two molecules is paired once") {
  const auto truth = table({{1, 0, 0}, {1, 100, 0}});
  const auto test = table({{1, 50, 0}});
  for (auto method : {eval::match_method::optimal, eval::match_method::greedy}) {
    const auto m = eval::match(truth, test, options(50, method));  // d = 50 = r: inside (d ≤ r)
    REQUIRE(m.tp() == 1);
    CHECK(m.pairs[0].distance_nm == 50.0);
    CHECK(m.fn() == 1);
    CHECK(m.fp() == 0);
  }
  // Greedy breaks the tie by the lower truth row.
  CHECK(has_pair(eval::match(truth, test, options(50, eval::match_method::greedy)), 0, 0));
  // Just outside the radius: no pair.
  CHECK(eval::match(truth, test, options(std::nextafter(50.0, 0.0))).tp() == 0);
}

TEST_CASE("frames: rows pair only within their frame; frames missing from one table") {
  // Frame 1: one pair. Frame 2: truth only (FN). Frame 3: the same position as a truth row of
  // frame 1 (must not pair with it) and one pair. Frame 4: localizations only (FP).
  const auto truth = table({{1, 100, 100}, {2, 500, 500}, {3, 900, 900}, {3, 2000, 2000}});
  const auto test = table({{1, 110, 100}, {3, 100, 100}, {3, 905, 900}, {4, 500, 500}, {4, 10, 10}});
  for (auto method : {eval::match_method::optimal, eval::match_method::greedy}) {
    const auto m = eval::match(truth, test, options(50, method));
    REQUIRE(m.tp() == 2);
    CHECK(has_pair(m, 0, 0));
    CHECK(has_pair(m, 2, 2));
    CHECK(m.fn() == 2);
    CHECK(m.fp() == 3);
    CHECK(m.pairs[0].dx_nm == doctest::Approx(10.0));
    CHECK(m.pairs[1].dx_nm == doctest::Approx(5.0));
  }
}

TEST_CASE("empty tables, all false positives, all false negatives") {
  const smlm::LocalizationTable empty;
  const auto some = table({{1, 0, 0}, {2, 0, 0}, {2, 10, 0}});
  auto both = eval::match(empty, empty, options(50));
  CHECK(both.tp() == 0);
  CHECK(both.fp() == 0);
  CHECK(both.fn() == 0);
  auto all_fp = eval::match(empty, some, options(50));
  CHECK(all_fp.tp() == 0);
  CHECK(all_fp.fp() == 3);
  CHECK(all_fp.fn() == 0);
  auto all_fn = eval::match(some, empty, options(50));
  CHECK(all_fn.fn() == 3);
  CHECK(all_fn.fp() == 0);
  // Everything far apart: nothing pairs.
  const auto far = table({{1, 1000, 0}, {2, 1000, 1000}});
  auto none = eval::match(some, far, options(50));
  CHECK(none.tp() == 0);
  CHECK(none.fn() == 3);
  CHECK(none.fp() == 2);
}

TEST_CASE("non-finite coordinates never pair; unsorted frames give the same pairs") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto truth = table({{1, nan, 0}, {1, 10, 10}});
  const auto test = table({{1, 0, 0}, {1, 10, nan}, {1, 12, 10}});
  const auto m = eval::match(truth, test, options(50));
  REQUIRE(m.tp() == 1);
  CHECK(has_pair(m, 1, 2));

  const auto sorted_truth = eval_test::uniform_points(7, 1, 300, 3000, 5);
  auto shuffled = sorted_truth;  // rows visit frames round robin: not sorted by frame
  REQUIRE(!std::is_sorted(shuffled.frame.begin(), shuffled.frame.end()));
  const auto test2 = eval_test::jittered(sorted_truth, 8, 20);
  const auto a = eval::match(shuffled, test2, options(60));
  CHECK(a.tp() > 250);
  check_valid(a, shuffled, test2, 60);
}

TEST_CASE("axial tolerance restricts pairs when both tables have z") {
  auto truth = table({{1, 0, 0}, {1, 200, 0}});
  auto test = table({{1, 10, 0}, {1, 210, 0}});
  truth.z_nm = {0, 0};
  test.z_nm = {100, 400};
  auto o = options(50);
  auto m = eval::match(truth, test, o);
  CHECK(m.has_z);
  CHECK(m.tp() == 2);
  o.axial_tolerance_nm = 300;
  m = eval::match(truth, test, o);
  REQUIRE(m.tp() == 1);
  CHECK(m.pairs[0].dz_nm == 100.0);
}

TEST_CASE("bad options are programming errors") {
  const auto t = table({{1, 0, 0}});
  CHECK_THROWS_AS(eval::match(t, t, options(0)), smlm::assertion_error);
  CHECK_THROWS_AS(eval::match(t, t, options(-5)), smlm::assertion_error);
  CHECK_THROWS_AS(eval::match(t, t, options(std::numeric_limits<double>::infinity())), smlm::assertion_error);
  auto broken = t;
  broken.y_nm.push_back(1);
  CHECK_THROWS_AS(eval::match(broken, t, options(50)), smlm::assertion_error);
}

TEST_CASE("optimal equals an exhaustive search on small random frames") {
  const std::uint64_t seed = 20261201;
  std::printf("optimal vs brute force: seed %llu\n", static_cast<unsigned long long>(seed));
  for (auto cost : {eval::match_cost::distance, eval::match_cost::squared_distance}) {
    for (std::uint32_t trial = 0; trial < 150; ++trial) {
      CAPTURE(trial);
      smlm::Philox4x32 rng(seed, trial, smlm::rng_purpose::user);
      const int n_truth = static_cast<int>(smlm::uniform(rng, 0.0, 7.99));
      const int n_test = static_cast<int>(smlm::uniform(rng, 0.0, 7.99));
      // Dense: a 200 nm square with r = 80 nm gives many overlapping candidates; two frames.
      auto truth = eval_test::uniform_points(seed, 1000 + trial, n_truth, 200, 2);
      auto test = eval_test::uniform_points(seed, 5000 + trial, n_test, 200, 2);
      if (trial % 2 == 1) {  // on a 40 nm lattice: many exactly equal distances (ties)
        for (auto* t : {&truth, &test}) {
          for (auto& x : t->x_nm) x = 40.0 * std::round(x / 40.0);
          for (auto& y : t->y_nm) y = 40.0 * std::round(y / 40.0);
        }
      }
      const auto m = eval::match(truth, test, options(80, eval::match_method::optimal, cost));
      check_valid(m, truth, test, 80);
      const BruteBest best = brute_force(truth, test, 80, cost);
      CHECK(m.tp() == best.pairs);
      CHECK(m.total_cost(cost) == doctest::Approx(best.cost).epsilon(1e-9));
    }
  }
}

TEST_CASE("optimal beats or equals greedy on random data; both agree on well-separated data") {
  const std::uint64_t seed = 4242;
  std::printf("optimal vs greedy: seed %llu\n", static_cast<unsigned long long>(seed));
  int strictly_better = 0;
  for (std::uint32_t trial = 0; trial < 20; ++trial) {
    CAPTURE(trial);
    const auto truth = eval_test::uniform_points(seed, trial, 400, 2000, 4);
    const auto test = eval_test::uniform_points(seed, 100 + trial, 400, 2000, 4);
    const auto opt = eval::match(truth, test, options(100));
    const auto gre = eval::match(truth, test, options(100, eval::match_method::greedy));
    check_valid(opt, truth, test, 100);
    check_valid(gre, truth, test, 100);
    CHECK(opt.tp() >= gre.tp());
    if (opt.tp() == gre.tp())
      CHECK(opt.total_cost(eval::match_cost::distance) <= gre.total_cost(eval::match_cost::distance) + 1e-9);
    strictly_better += opt.tp() > gre.tp();
  }
  CHECK(strictly_better > 0);  // at this density greedy does lose pairs

  // Well separated: molecules on a 1 µm grid, detections within 30 nm, tolerance 100 nm.
  smlm::LocalizationTable truth;
  for (int f = 1; f <= 3; ++f)
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 10; ++j) eval_test::add(truth, f, 1000.0 * i, 1000.0 * j);
  const auto test = eval_test::jittered(truth, 11, 10);  // |shift| > 50 nm has probability ~1e-6
  const auto opt = eval::match(truth, test, options(100));
  const auto gre = eval::match(truth, test, options(100, eval::match_method::greedy));
  REQUIRE(opt.tp() == truth.size());
  REQUIRE(gre.tp() == truth.size());
  for (std::size_t k = 0; k < opt.pairs.size(); ++k) {
    CHECK(opt.pairs[k].truth == gre.pairs[k].truth);
    CHECK(opt.pairs[k].test == gre.pairs[k].test);
    CHECK(opt.pairs[k].truth == opt.pairs[k].test);
  }
}

TEST_CASE("a reused Matcher gives the same result as a fresh one") {
  eval::Matcher matcher;
  eval::Matching out;
  for (std::uint32_t trial = 0; trial < 5; ++trial) {
    const auto truth = eval_test::uniform_points(9, trial, 100 + 50 * trial, 1500, 3);
    const auto test = eval_test::jittered(truth, trial, 30);
    matcher.match(truth, test, options(100), out);
    const auto fresh = eval::match(truth, test, options(100));
    REQUIRE(out.tp() == fresh.tp());
    for (std::size_t k = 0; k < out.pairs.size(); ++k) CHECK(out.pairs[k].test == fresh.pairs[k].test);
  }
}
