// What the TIFF reader and writer share: the sample types, sample conversions, byte order and
// large-file helpers. Internal to smlm::io (detail/), except pixel_type and its two helpers.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

namespace smlm::io {

/// Sample types a greyscale TIFF page can hold: BitsPerSample 8/16/32 × SampleFormat
/// 1 (unsigned), 2 (signed), 3 (IEEE float, 32 bit only) — TIFF 6.0 §19 (SampleFormat).
enum class pixel_type { u8, u16, u32, i8, i16, i32, f32 };

/// Bytes per sample.
constexpr std::size_t pixel_bytes(pixel_type type) noexcept {
  switch (type) {
    case pixel_type::u8:
    case pixel_type::i8: return 1;
    case pixel_type::u16:
    case pixel_type::i16: return 2;
    case pixel_type::u32:
    case pixel_type::i32:
    case pixel_type::f32: return 4;
  }
  return 0;
}

/// "uint8", "uint16", "uint32", "int8", "int16", "int32", "float32". (Not called to_string so
/// that it never competes, through argument-dependent lookup, with a caller's own to_string.)
constexpr std::string_view pixel_type_name(pixel_type type) noexcept {
  switch (type) {
    case pixel_type::u8: return "uint8";
    case pixel_type::u16: return "uint16";
    case pixel_type::u32: return "uint32";
    case pixel_type::i8: return "int8";
    case pixel_type::i16: return "int16";
    case pixel_type::i32: return "int32";
    case pixel_type::f32: return "float32";
  }
  return "unknown";
}

/// The pixel_type whose samples are exactly T (std::uint8_t … std::int32_t, float).
template <class T>
constexpr pixel_type pixel_type_of() noexcept {
  if constexpr (std::is_same_v<T, std::uint8_t>) return pixel_type::u8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return pixel_type::u16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return pixel_type::u32;
  else if constexpr (std::is_same_v<T, std::int8_t>) return pixel_type::i8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return pixel_type::i16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return pixel_type::i32;
  else {
    static_assert(std::is_same_v<T, float>, "pixel_type_of<T>: T has no TIFF sample type");
    return pixel_type::f32;
  }
}

namespace detail {

template <class T>
struct type_tag {
  using type = T;
};

/// Calls f(type_tag<S>{}) with S the C++ type of `type`'s samples.
template <class F>
decltype(auto) visit_pixel_type(pixel_type type, F&& f) {
  switch (type) {
    case pixel_type::u8: return f(type_tag<std::uint8_t>{});
    case pixel_type::u16: return f(type_tag<std::uint16_t>{});
    case pixel_type::u32: return f(type_tag<std::uint32_t>{});
    case pixel_type::i8: return f(type_tag<std::int8_t>{});
    case pixel_type::i16: return f(type_tag<std::int16_t>{});
    case pixel_type::i32: return f(type_tag<std::int32_t>{});
    case pixel_type::f32: break;
  }
  return f(type_tag<float>{});
}

template <class T>
inline constexpr bool is_sample_v = std::is_arithmetic_v<T> && !std::is_same_v<std::remove_cv_t<T>, bool>;

/// Floating → integer without undefined behaviour: truncates toward zero like static_cast for
/// values inside To's range, saturates outside it, and maps NaN to 0.
template <class To, class From>
To saturate_float_to_integer(From value) noexcept {
  static_assert(std::is_floating_point_v<From> && std::is_integral_v<To>);
  if (std::isnan(value)) return To{0};
  // lo is exact in double; hi rounds up to a power of two for 64-bit To, so `>= hi` catches
  // every value that does not fit.
  constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
  const double v = static_cast<double>(value);
  if (v <= lo) return std::numeric_limits<To>::min();
  if (v >= hi) return std::numeric_limits<To>::max();
  return static_cast<To>(v);
}

/// The reader's conversion of a stored sample to the caller's type: static_cast, except that
/// floating → integer saturates and maps NaN to 0 (static_cast would be undefined there).
template <class To, class From>
To read_convert(From value) noexcept {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>)
    return saturate_float_to_integer<To>(value);
  else
    return static_cast<To>(value);
}

/// The writer's conversion of a caller's sample to the file's type. Integer targets: floating
/// values are rounded to nearest with halves away from zero (std::round), then clamped to the
/// target's range; NaN becomes 0; integer values are clamped. Float targets: static_cast.
template <class To, class From>
To write_convert(From value) noexcept {
  if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(value);
  } else if constexpr (std::is_floating_point_v<From>) {
    return saturate_float_to_integer<To>(std::round(value));
  } else {
    if (std::cmp_less(value, std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (std::cmp_greater(value, std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(value);
  }
}

/// A sample of type S at `bytes` (any alignment), in native byte order.
template <class S>
S load_sample(const std::byte* bytes) noexcept {
  S value;
  std::memcpy(&value, bytes, sizeof(S));
  return value;
}

/// Reverses the byte order of `count` samples of `sample_bytes` bytes each, in place.
inline void swap_bytes_in_place(std::byte* data, std::size_t count, std::size_t sample_bytes) noexcept {
  if (sample_bytes < 2) return;
  for (std::size_t i = 0; i < count; ++i) {
    std::byte* p = data + i * sample_bytes;
    for (std::size_t a = 0, b = sample_bytes - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
  }
}

/// a * b, or false when the product exceeds `limit`.
inline bool checked_multiply(std::uint64_t a, std::uint64_t b, std::uint64_t limit, std::uint64_t& product) noexcept {
  if (a != 0 && b > limit / a) return false;
  product = a * b;
  return product <= limit;
}

/// 64-bit file positioning for std::FILE (files beyond 2 GiB on every platform).
inline int file_seek(std::FILE* file, std::int64_t offset, int whence) noexcept {
#if defined(_WIN32)
  return _fseeki64(file, offset, whence);
#else
  return fseeko(file, static_cast<off_t>(offset), whence);
#endif
}
inline std::int64_t file_tell(std::FILE* file) noexcept {
#if defined(_WIN32)
  return _ftelli64(file);
#else
  return static_cast<std::int64_t>(ftello(file));
#endif
}

/// strerror(errno) for messages, or "unknown error" when errno is 0.
inline const char* errno_text(int error_number) noexcept {
  return error_number != 0 ? std::strerror(error_number) : "unknown error";
}

}  // namespace detail
}  // namespace smlm::io
