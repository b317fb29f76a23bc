// What every check in smlm::testing returns: a list of named checks, each with pass/fail, the
// value it measured and the tolerance it was held to. The checks themselves know no test
// framework; smlm/testing/doctest.hpp turns a report into doctest CHECKs, and any other program
// can print report.summary() and exit non-zero when !report.passed().
//
// A comparison passes when measured ≤ tolerance; a NaN measurement fails (it is never ≤ anything),
// so a model that returns NaN cannot pass by accident.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace smlm::testing {

/// One check: `name` says what was checked and on what (case, parameter), `measured` the value
/// found, `tolerance` the bound it must stay within (measured ≤ tolerance passes).
struct Check {
  std::string name;
  bool passed = false;
  double measured = 0;
  double tolerance = 0;
};

struct Report {
  std::vector<Check> checks;

  bool passed() const noexcept {
    return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.passed; });
  }
  std::size_t failures() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(checks.begin(), checks.end(), [](const Check& c) { return !c.passed; }));
  }
  /// The checks whose name starts with `prefix`.
  std::size_t count(std::string_view prefix) const noexcept {
    return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(), [&](const Check& c) {
      return std::string_view(c.name).substr(0, prefix.size()) == prefix;
    }));
  }

  /// Records `measured ≤ tolerance` (false for a NaN measurement or tolerance).
  bool expect_le(std::string name, double measured, double tolerance) {
    const bool ok = measured <= tolerance;
    checks.push_back({std::move(name), ok, measured, tolerance});
    return ok;
  }
  /// Records `measured ≥ bound`; the bound is stored as the tolerance.
  bool expect_ge(std::string name, double measured, double bound) {
    const bool ok = measured >= bound;
    checks.push_back({std::move(name), ok, measured, bound});
    return ok;
  }
  /// Records a condition without a measured quantity (measured 1/0, tolerance 1).
  bool expect(std::string name, bool condition) {
    checks.push_back({std::move(name), condition, condition ? 1.0 : 0.0, 1.0});
    return condition;
  }
  /// Appends `other`'s checks, each name prefixed with `prefix`.
  void append(const Report& other, std::string_view prefix = {}) {
    for (const Check& c : other.checks) {
      checks.push_back(c);
      checks.back().name.insert(0, prefix);
    }
  }

  /// One line per failed check ("FAIL name: measured m, tolerance t"), or "all N checks passed".
  std::string summary() const {
    std::string out;
    for (const Check& c : checks)
      if (!c.passed) out += "FAIL " + describe(c) + "\n";
    if (out.empty()) out = "all " + std::to_string(checks.size()) + " checks passed\n";
    return out;
  }

  static std::string describe(const Check& c) {
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, ": measured %.6g, tolerance %.6g", c.measured, c.tolerance);
    return c.name + numbers;
  }
};

namespace detail {
/// The scalar type as check names show it ("<float>", "<double>").
template <class T>
constexpr std::string_view scalar_name() {
  return std::is_same_v<T, float> ? "float" : std::is_same_v<T, double> ? "double" : "long double";
}

/// "check <scalar> [case] what": the check first, so Report::count(check) finds it.
template <class T>
std::string check_name(std::string_view check, std::string_view case_name, std::string_view what) {
  std::string s(check);
  ((s += " <") += scalar_name<T>()) += ">";
  ((s += " [") += case_name) += "]";
  if (!what.empty()) (s += " ") += what;
  return s;
}
}  // namespace detail

}  // namespace smlm::testing
