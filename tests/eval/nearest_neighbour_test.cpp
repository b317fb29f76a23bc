#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <smlm/eval/nearest_neighbour.hpp>

#include "eval_test_util.hpp"

namespace eval = smlm::eval;
using eval_test::table;

TEST_CASE("nearest-neighbour distances per row, same frame only, +inf beyond the radius") {
  const auto from = table({{1, 0, 0}, {1, 100, 0}, {2, 0, 0}, {3, 0, 0}});
  const auto to = table({{1, 30, 40}, {1, 100, 7}, {2, 400, 0}, {1, 0, 0.5}});
  const auto d = eval::nearest_neighbour_distances(from, to, 250);
  REQUIRE(d.size() == 4);
  CHECK(d[0] == doctest::Approx(0.5));
  CHECK(d[1] == doctest::Approx(7.0));
  CHECK(std::isinf(d[2]));  // 400 nm away: beyond 250
  CHECK(std::isinf(d[3]));  // frame 3 has no detections
  const auto wide = eval::nearest_neighbour_distances(from, to, 500);
  CHECK(wide[2] == doctest::Approx(400.0));
}

TEST_CASE("nearest-neighbour distances agree with a brute-force scan") {
  const auto a = eval_test::uniform_points(5, 1, 500, 3000, 3);
  const auto b = eval_test::uniform_points(5, 2, 400, 3000, 3);
  const auto d = eval::nearest_neighbour_distances(a, b, 300);
  for (std::size_t i = 0; i < a.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < b.size(); ++j)
      if (a.frame[i] == b.frame[j]) best = std::min(best, std::hypot(a.x_nm[i] - b.x_nm[j], a.y_nm[i] - b.y_nm[j]));
    if (best > 300) best = std::numeric_limits<double>::infinity();
    if (std::isinf(best))
      CHECK(std::isinf(d[i]));
    else
      CHECK(d[i] == doctest::Approx(best).epsilon(1e-12));
  }
}

TEST_CASE("distance histogram bins") {
  const double inf = std::numeric_limits<double>::infinity();
  const auto h = eval::distance_histogram({0.0, 4.99, 5.0, 12.0, 29.9, 30.0, inf}, 5.0, 6);
  REQUIRE(h.counts.size() == 6);
  CHECK(h.counts[0] == 2);
  CHECK(h.counts[1] == 1);
  CHECK(h.counts[2] == 1);
  CHECK(h.counts[5] == 1);
  CHECK(h.beyond == 2);
  CHECK(h.bin_start_nm(3) == 15.0);
  CHECK_THROWS_AS(eval::distance_histogram({1.0}, 0.0, 3), smlm::assertion_error);
}
