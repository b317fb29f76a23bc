// Samplers that turn one 32-bit random word into a number, in double, with a scalar `_ref`
// definition and an xsimd version over a batch of words held in 64-bit lanes (as philox_lanes
// returns them). The vector versions compute the same formulas with the same operations; they
// differ from the references only where xsimd's log differs from std::log (≤ 1 ulp), which the
// tests bound (tests/simd/samplers_test.cpp).
//
//  uniform24_ref(w)        (w >> 8)·2^-24: uniform on [0, 1), as uniform01<float>
//  uniform32_ref(w)        w·2^-32: uniform on [0, 1), as the float Poisson samplers' uniform
//  uniform_nonzero_ref(w)  ((w >> 1) | 1)·2^-31: uniform on (0, 1), as uniform01_nonzero<float>
//  normal7_ref(w)          N(0, 1) by inversion as normal<float> does (top bit the sign, the other
//                          31 bits a cell midpoint p of (0, ½)) but with Wichura's PPND7
//                          evaluated in double: error ≤ 3.5e-7·(1 + |z|) (PPND7's own; AS 241),
//                          tails ending at |z| = 6.23.
#pragma once

#include <cmath>
#include <cstdint>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::simd {

inline double uniform24_ref(std::uint32_t w) noexcept { return static_cast<double>(w >> 8) * 0x1.0p-24; }
inline double uniform32_ref(std::uint32_t w) noexcept { return static_cast<double>(w) * 0x1.0p-32; }
inline double uniform_nonzero_ref(std::uint32_t w) noexcept {
  return static_cast<double>((w >> 1) | 1u) * 0x1.0p-31;
}

namespace detail {
// AS 241 PPND7 coefficients (Wichura 1988), as published.
inline constexpr double a7[4] = {3.3871327179e+00, 5.0434271938e+01, 1.5929113202e+02, 5.9109374720e+01};
inline constexpr double b7[3] = {1.7895169469e+01, 7.8757757664e+01, 6.7187563600e+01};
inline constexpr double c7[4] = {1.4234372777e+00, 2.7568153900e+00, 1.3067284816e+00, 1.7023821103e-01};
inline constexpr double d7[2] = {7.3700164250e-01, 1.2021132975e-01};
inline constexpr double e7[4] = {6.6579051150e+00, 3.0812263860e+00, 4.2868294337e-01, 1.7337203997e-02};
inline constexpr double f7[2] = {2.4197894225e-01, 1.2258202635e-02};
}  // namespace detail

/// Φ⁻¹(p) for 0 < p ≤ ½ by PPND7 in double.
inline double normal7_lower_ref(double p) noexcept {
  using namespace detail;
  const double q = p - 0.5;
  if (q >= -0.425) {
    const double r = 0.180625 - q * q;
    return q * (((a7[3] * r + a7[2]) * r + a7[1]) * r + a7[0]) / (((b7[2] * r + b7[1]) * r + b7[0]) * r + 1.0);
  }
  double r = std::sqrt(-std::log(p));
  if (r <= 5.0) {
    r -= 1.6;
    return -(((c7[3] * r + c7[2]) * r + c7[1]) * r + c7[0]) / ((d7[1] * r + d7[0]) * r + 1.0);
  }
  r -= 5.0;
  return -(((e7[3] * r + e7[2]) * r + e7[1]) * r + e7[0]) / ((f7[1] * r + f7[0]) * r + 1.0);
}

inline double normal7_ref(std::uint32_t w) noexcept {
  const double p = static_cast<double>((w & 0x7FFFFFFFu) | 1u) * 0x1.0p-32;
  const double z = normal7_lower_ref(p);
  return (w >> 31) != 0 ? -z : z;
}

#if !defined(SMLM_NO_SIMD)
/// Lane-wise word (upper half zero) → double.
template <class A>
inline xsimd::batch<double, A> to_double(xsimd::batch<std::uint64_t, A> w) noexcept {
  return xsimd::batch_cast<double>(xsimd::batch_cast<std::int64_t>(w));
}

template <class A>
inline xsimd::batch<double, A> uniform24(xsimd::batch<std::uint64_t, A> w) noexcept {
  return to_double(w >> 8) * xsimd::batch<double, A>(0x1.0p-24);
}
template <class A>
inline xsimd::batch<double, A> uniform32(xsimd::batch<std::uint64_t, A> w) noexcept {
  return to_double(w) * xsimd::batch<double, A>(0x1.0p-32);
}
template <class A>
inline xsimd::batch<double, A> uniform_nonzero(xsimd::batch<std::uint64_t, A> w) noexcept {
  return to_double((w >> 1) | xsimd::batch<std::uint64_t, A>(1)) * xsimd::batch<double, A>(0x1.0p-31);
}

template <class A>
inline xsimd::batch<double, A> normal7(xsimd::batch<std::uint64_t, A> w) noexcept {
  using D = xsimd::batch<double, A>;
  using U = xsimd::batch<std::uint64_t, A>;
  using namespace detail;
  const D p = to_double((w & U(0x7FFFFFFFull)) | U(1)) * D(0x1.0p-32);
  const D q = p - D(0.5);
  const D rc = D(0.180625) - q * q;
  D num = q * (((D(a7[3]) * rc + D(a7[2])) * rc + D(a7[1])) * rc + D(a7[0]));
  D den = ((D(b7[2]) * rc + D(b7[1])) * rc + D(b7[0])) * rc + D(1.0);
  const auto tail = q < D(-0.425);
  if (xsimd::any(tail)) {
    // A 31-bit p is ≥ 2^-32, so r = √(−ln p) ≤ 4.71: the reference's r > 5 branch is never taken.
    const D r = xsimd::sqrt(-xsimd::log(xsimd::select(tail, p, D(0.25)))) - D(1.6);
    num = xsimd::select(tail, -(((D(c7[3]) * r + D(c7[2])) * r + D(c7[1])) * r + D(c7[0])), num);
    den = xsimd::select(tail, (D(d7[1]) * r + D(d7[0])) * r + D(1.0), den);
  }
  const D z = num / den;  // one division for both regions: the same operands as the reference's
  return z * (D(1) - D(2) * to_double(w >> 31));  // exact: z·(±1)
}
#endif

}  // namespace smlm::simd
