// smlmkit build configuration: exception switch, assertions, version.
//
// SMLM_NO_EXCEPTIONS   the throwing convenience layer (value_or_throw, io wrappers) compiles out.
//                      Defined automatically when the compiler has exceptions disabled.
// SMLM_NO_SIMD         no xsimd batch type is ever named (microcontroller builds).
// SMLM_NO_THREADS      no <thread>/<mutex> (bare-metal builds): nn::WorkerPool runs every loop on
//                      the caller. Defined automatically for a libstdc++ without thread support
//                      (arm-none-eabi's newlib build).
// SMLM_ASSERT(c, msg)  programming-error check; define it before including any smlm header to
//                      override. SMLM_ASSERT_THROWS makes it throw smlm::assertion_error (tests).
//                      NDEBUG without SMLM_ASSERT_THROWS compiles it out.
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(SMLM_NO_THREADS) && defined(__GLIBCXX__) && !defined(_GLIBCXX_HAS_GTHREADS)
#define SMLM_NO_THREADS
#endif

#define SMLM_VERSION_MAJOR 0
#define SMLM_VERSION_MINOR 1
#define SMLM_VERSION_PATCH 0
#define SMLM_VERSION_STRING "0.1.0"

#if !defined(SMLM_NO_EXCEPTIONS) && !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#define SMLM_NO_EXCEPTIONS
#endif

#if defined(SMLM_ASSERT_THROWS) && defined(SMLM_NO_EXCEPTIONS)
#error "SMLM_ASSERT_THROWS needs exceptions"
#endif

#if defined(SMLM_ASSERT_THROWS)
#include <stdexcept>
#include <string>
namespace smlm {
/// Thrown by SMLM_ASSERT when SMLM_ASSERT_THROWS is defined (the test suites do).
struct assertion_error : std::logic_error {
  using std::logic_error::logic_error;
};
}  // namespace smlm
#endif

namespace smlm::detail {
[[noreturn]] inline void assert_fail(const char* cond, const char* msg, const char* file, int line) {
#if defined(SMLM_ASSERT_THROWS)
  throw assertion_error(std::string(file) + ":" + std::to_string(line) + ": " + msg + " (" + cond + ")");
#else
  std::fprintf(stderr, "%s:%d: smlmkit assertion failed: %s (%s)\n", file, line, msg, cond);
  std::abort();
#endif
}
}  // namespace smlm::detail

// Functions whose only way to fail is a violated SMLM_ASSERT are marked SMLM_NOEXCEPT: noexcept
// in normal builds, and potentially throwing when the assertion throws (tests), so a test can
// observe the violation instead of std::terminate.
#if defined(SMLM_ASSERT_THROWS)
#define SMLM_NOEXCEPT
#else
#define SMLM_NOEXCEPT noexcept
#endif

#ifndef SMLM_ASSERT
#if defined(NDEBUG) && !defined(SMLM_ASSERT_THROWS)
#define SMLM_ASSERT(cond, msg) ((void)0)
#else
#define SMLM_ASSERT(cond, msg) \
  ((cond) ? (void)0 : ::smlm::detail::assert_fail(#cond, msg, __FILE__, __LINE__))
#endif
#endif
