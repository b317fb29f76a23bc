// Shared pieces of the `smlm` subcommands: one-line errors, unwrapping library results.
#pragma once

#include <stdexcept>
#include <string>

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

}  // namespace smlm::cli
