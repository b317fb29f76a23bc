// Filtering by expression (post/filter.hpp): values and precedence against hand-computed results,
// the rows kept with every column, and malformed expressions and missing columns as errors that
// say where and what.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <smlm/post/filter.hpp>

using namespace smlm;

namespace {

LocalizationTable sample() {
  LocalizationTable t;
  t.frame = {1, 2, 3, 4, 5};
  t.x_nm = {100, 200, 300, 400, 500};
  t.y_nm = {-10, -20, -30, -40, -50};
  t.intensity_photons = {300, 800, 1200, 450, 2000};
  t.uncertainty_xy_nm = {25, 12, 8, 19, 5};
  t.sigma_nm = {130, 110, 95, 150, 120};
  return t;
}

double value(const std::string& text, std::size_t row = 0) {
  const post::Filter f = post::Filter::parse(text).value();
  return f.evaluate(sample(), row);
}

std::vector<std::int32_t> frames_where(const std::string& text) {
  return post::filter(sample(), post::Filter::parse(text).value()).value().frame;
}

std::string parse_error(const std::string& text) {
  const auto f = post::Filter::parse(text);
  REQUIRE_FALSE(f);
  return f.status().message();
}

}  // namespace

TEST_CASE("filter expressions: arithmetic, precedence, comparisons, logic, functions") {
  CHECK(value("1 + 2 * 3") == 7);
  CHECK(value("(1 + 2) * 3") == 9);
  CHECK(value("10 - 4 - 3") == 3);  // left associative
  CHECK(value("12 / 3 / 2") == 2);
  CHECK(value("-2 * -3") == 6);
  CHECK(value("--2") == 2);
  CHECK(value("2.5e2") == 250);
  CHECK(value(".5 + 1") == 1.5);
  CHECK(value("x + y", 1) == 180);
  CHECK(value("photons / intensity", 2) == 1);  // an alias
  CHECK(value("uncertainty == uncertainty_xy", 3) == 1);
  CHECK(value("abs(y)", 4) == 50);
  CHECK(value("sqrt(intensity - 400)", 1) == 20);
  CHECK(value("log(1)") == 0);
  CHECK(value("1 < 2") == 1);
  CHECK(value("2 <= 2") == 1);
  CHECK(value("2 > 2") == 0);
  CHECK(value("2 >= 3") == 0);
  CHECK(value("3 == 3") == 1);
  CHECK(value("3 != 3") == 0);
  CHECK(value("1 + 1 == 2") == 1);  // arithmetic binds tighter than comparison
  CHECK(value("1 or 0 and 0") == 1);  // and binds tighter than or
  CHECK(value("(1 or 0) and 0") == 0);
  CHECK(value("not 0 and 1") == 1);
  CHECK(value("!(1 > 2) && 2 > 1 || 0") == 1);
  CHECK(value("not not 3") == 1);
  CHECK(std::isnan(value("sqrt(-1)")));
  CHECK(value("sqrt(-1) or 0") == 0);  // NaN is false
}

TEST_CASE("filter keeps the rows where the expression holds, with every column") {
  CHECK(frames_where("uncertainty_xy < 20 and intensity > 500") == std::vector<std::int32_t>{2, 3, 5});
  CHECK(frames_where("frame >= 2 and frame <= 4") == std::vector<std::int32_t>{2, 3, 4});
  CHECK(frames_where("sigma > 140 or x < 150") == std::vector<std::int32_t>{1, 4});
  CHECK(frames_where("not (x > 0)").empty());
  CHECK(frames_where("1") == std::vector<std::int32_t>{1, 2, 3, 4, 5});
  const LocalizationTable kept =
      post::filter(sample(), post::Filter::parse("intensity > 1000").value()).value();
  CHECK(kept.x_nm == std::vector<double>{300, 500});
  CHECK(kept.y_nm == std::vector<double>{-30, -50});
  CHECK(kept.uncertainty_xy_nm == std::vector<double>{8, 5});
  CHECK(kept.sigma_nm == std::vector<double>{95, 120});
  CHECK(kept.z_nm.empty());
  CHECK(kept.consistent());
}

TEST_CASE("filter: a malformed expression names the place and what was expected") {
  CHECK(parse_error("intensity >").find("at character 12: expected a number, a column") != std::string::npos);
  CHECK(parse_error("intensity > 500 and").find("at character 20") != std::string::npos);
  CHECK(parse_error("(x > 1").find("expected ')'") != std::string::npos);
  CHECK(parse_error("x > 1)").find("at character 6: expected an operator or the end") != std::string::npos);
  CHECK(parse_error("photon > 3").find("expected a column (id, frame") != std::string::npos);
  CHECK(parse_error("photon > 3").find("found 'photon > 3'") != std::string::npos);
  CHECK(parse_error("10 < x < 20").find("a < x and x < b") != std::string::npos);
  CHECK(parse_error("sqrt x").find("'(' after the function name") != std::string::npos);
  CHECK(parse_error("x > 1 andx > 2").find("at character 7") != std::string::npos);
  CHECK(parse_error("").find("found the end") != std::string::npos);
  CHECK(parse_error("x = 3").find("at character 3") != std::string::npos);
  CHECK(parse_error("system(\"rm\")").find("expected a column") != std::string::npos);
  // A column the table lacks.
  const auto f = post::Filter::parse("z > 0").value();
  const auto r = post::filter(sample(), f);
  REQUIRE_FALSE(r);
  CHECK(r.status().message().find("no column z") != std::string::npos);
}
