#include <doctest/doctest.h>

#include <smlm/core/status.hpp>

namespace {
smlm::Expected<int> half(int v) {
  if (v % 2 != 0) return smlm::make_error(smlm::errc::invalid_argument, "--value: ", v, " is odd");
  return v / 2;
}
smlm::Status quarter(int v, int& out) {
  auto h = half(v);
  SMLM_TRY(h);
  auto q = half(*h);
  SMLM_TRY(q);
  out = *q;
  return {};
}
}  // namespace

TEST_CASE("Status carries code and message") {
  smlm::Status ok;
  CHECK(ok.ok());
  CHECK(ok.code() == smlm::errc::ok);
  smlm::Status bad = smlm::make_error(smlm::errc::format_error, "a.tif", ": page ", 3, ": bad width ", 0);
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == smlm::errc::format_error);
  CHECK(bad.message() == "a.tif: page 3: bad width 0");
  CHECK_THROWS_AS(bad.throw_if_error(), smlm::error);
  CHECK_NOTHROW(ok.throw_if_error());
  CHECK(smlm::to_string(smlm::errc::unsupported) == "unsupported");
  // An error Status without an error code is a programming error.
  CHECK_THROWS_AS(smlm::Status(smlm::errc::ok, "x"), smlm::assertion_error);
}

TEST_CASE("Expected holds a value or the reason it has none") {
  auto a = half(8);
  REQUIRE(a.has_value());
  CHECK(*a == 4);
  auto b = half(7);
  CHECK_FALSE(b);
  CHECK(b.message() == "--value: 7 is odd");
  CHECK_THROWS_AS((void)b.value(), smlm::assertion_error);
  CHECK_THROWS_WITH_AS(std::move(b).value_or_throw(), "--value: 7 is odd", smlm::error);
  CHECK(std::move(a).value_or_throw() == 4);
}

TEST_CASE("SMLM_TRY propagates the first error") {
  int out = -1;
  CHECK(quarter(12, out).ok());
  CHECK(out == 3);
  out = -1;
  auto s = quarter(6, out);  // 6/2 = 3 is odd
  CHECK(s.message() == "--value: 3 is odd");
  CHECK(out == -1);
}
