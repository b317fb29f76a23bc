// Shared pieces of the `smlm` subcommands: one-line errors, unwrapping library results.
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/core/status.hpp>

namespace smlm::cli {

/// A user-facing error: main() prints "smlm: <what>" on one line and exits with status 1.
struct cli_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(const Status& status) {
  if (!status.ok()) throw cli_error(status.message());
}
template <class T>
T unwrap(Expected<T>&& result) {
  if (!result) throw cli_error(result.message());
  return std::move(result).value();
}

/// A number or an A:B range from the command line.
struct NumberRange {
  double lo = 0, hi = 0;
  bool single = true;  ///< given as one number
};

/// Which values a range flag accepts.
enum class RangeBound { any, non_negative, positive };

/// The command line's sCMOS camera, one definition for simulate, localize and train (uniform
/// maps unless a command says otherwise): offset 100 ADU, 0.5 e⁻/ADU, read variance 4 ADU²
/// (1 e⁻ rms), quantum efficiency 0.8 (camera::Scmos's default).
struct ScmosDefaults {
  static constexpr double offset_adu = 100;
  static constexpr double e_per_adu = 0.5;
  static constexpr double read_variance_adu2 = 4;
  static constexpr double qe = 0.8;
  /// √(read variance) in electrons.
  static double read_noise_e() { return std::sqrt(read_variance_adu2) * e_per_adu; }
};

/// "A" or "A:B" as a range with A <= B, both within the bound and <= max; the message names the flag.
inline NumberRange parse_range(const std::string& flag, const std::string& text, RangeBound bound = RangeBound::any,
                                   double max = std::numeric_limits<double>::infinity()) {
  const auto colon = text.find(':');
  auto number = [&](const std::string& s) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || !std::isfinite(v))
      throw CLI::ValidationError(flag, "value " + text + " is not a number or an A:B range");
    return v;
  };
  const double a = number(text.substr(0, colon));
  const double b = colon == std::string::npos ? a : number(text.substr(colon + 1));
  if (a > b) throw CLI::ValidationError(flag, "value " + text + " needs A <= B");
  if (bound == RangeBound::positive && !(a > 0)) throw CLI::ValidationError(flag, "value " + text + " must be > 0");
  if (bound == RangeBound::non_negative && !(a >= 0)) throw CLI::ValidationError(flag, "value " + text + " must be >= 0");
  if (b > max) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", max);
    throw CLI::ValidationError(flag, "value " + text + " must be <= " + limit);
  }
  return {a, b, colon == std::string::npos};
}

/// Writes `text` to `path` through a temporary file renamed into place.
inline void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw cli_error(path + ": cannot open for writing");
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw cli_error(path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw cli_error(path + ": cannot rename the finished file into place");
  }
}

/// A number as %g prints it.
inline std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace smlm::cli
