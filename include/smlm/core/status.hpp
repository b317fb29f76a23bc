// Status and Expected<T>: how environment errors (files, formats, configuration) travel.
//
// A Status is ok or carries an error code and one human-readable line that names the file,
// frame/page/line, field and value involved (see make_error below). Expected<T> holds a value or
// the Status saying why there is none. Neither throws; value_or_throw() is the thin throwing
// layer for callers that prefer exceptions, and compiles out under SMLM_NO_EXCEPTIONS.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <smlm/core/config.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#include <stdexcept>
#endif

namespace smlm {

enum class errc {
  ok = 0,
  invalid_argument,  ///< a parameter or flag value is out of its domain
  io_error,          ///< open/read/write failed at the OS level
  format_error,      ///< the bytes are not what the format says (corrupt, truncated, malformed)
  unsupported,       ///< a valid file that uses a feature we do not read
  out_of_range,      ///< a size or index beyond what we can address or allocate
};

constexpr std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid argument";
    case errc::io_error: return "i/o error";
    case errc::format_error: return "format error";
    case errc::unsupported: return "unsupported";
    case errc::out_of_range: return "out of range";
  }
  return "unknown";
}

#if !defined(SMLM_NO_EXCEPTIONS)
/// What value_or_throw() and the throwing io wrappers raise; what() is the Status message.
struct error : std::runtime_error {
  errc code;
  error(errc c, const std::string& message) : std::runtime_error(message), code(c) {}
};
#endif

class [[nodiscard]] Status {
 public:
  Status() = default;  ///< ok
  Status(errc code, std::string message) : code_(code), message_(std::move(message)) {
    SMLM_ASSERT(code != errc::ok, "an error Status needs an error code");
  }
  static Status success() { return {}; }

  bool ok() const noexcept { return code_ == errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

#if !defined(SMLM_NO_EXCEPTIONS)
  void throw_if_error() const {
    if (!ok()) throw error(code_, message_);
  }
#endif

 private:
  errc code_ = errc::ok;
  std::string message_;
};

/// Joins the streamable arguments into one string: make_error(errc::format_error, path,
/// ": page ", 3, ": width ", w, " differs from page 1 (", w0, ")").
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
template <class... Args>
Status make_error(errc code, const Args&... args) {
  return Status(code, str_cat(args...));
}

template <class T>
class [[nodiscard]] Expected {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "Expected<Status> makes no sense");

 public:
  Expected(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status status) : status_(std::move(status)) {  // NOLINT
    SMLM_ASSERT(!status_.ok(), "Expected<T> built from an ok Status has no value");
  }

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  const Status& status() const noexcept { return status_; }
  const std::string& message() const noexcept { return status_.message(); }

  T& value() & {
    SMLM_ASSERT(has_value(), "Expected<T>::value() on an error");
    return *value_;
  }
  const T& value() const& {
    SMLM_ASSERT(has_value(), "Expected<T>::value() on an error");
    return *value_;
  }
  T&& value() && {
    SMLM_ASSERT(has_value(), "Expected<T>::value() on an error");
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

#if !defined(SMLM_NO_EXCEPTIONS)
  T value_or_throw() && {
    status_.throw_if_error();
    return std::move(*value_);
  }
#endif

 private:
  std::optional<T> value_;
  Status status_;
};

/// Propagates an error Status from an expression that yields Status or Expected<T>.
#define SMLM_TRY(expr)                                 \
  do {                                                 \
    if (auto&& smlm_try_result_ = (expr); !smlm_try_result_) \
      return ::smlm::detail::status_of(smlm_try_result_); \
  } while (0)

namespace detail {
inline const Status& status_of(const Status& s) { return s; }
template <class T>
const Status& status_of(const Expected<T>& e) { return e.status(); }
}  // namespace detail

}  // namespace smlm
