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

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

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
[[gnu::always_inline]] inline xsimd::batch<double, A> to_double(xsimd::batch<std::uint64_t, A> w) noexcept {
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

/// xsimd::log (fdlibm's algorithm, xsimd/arch/generic/xsimd_generic_math.hpp) for x = 0 or a
/// finite normal x > 0, without the branch and selects for subnormal, infinite and negative
/// arguments: the same operations, so the same value as xsimd::log there (tests/simd). The
/// samplers' arguments (uniforms ≥ 2^-32 or 0, PTRS's ratio, v³ of Marsaglia–Tsang) are such.
template <class A>
[[gnu::always_inline]] inline xsimd::batch<double, A> log_normal(xsimd::batch<double, A> self) noexcept {
  using D = xsimd::batch<double, A>;
  using I = xsimd::batch<std::int64_t, A>;
  namespace xk = xsimd::kernel::detail;
  I hx = xsimd::bitwise_cast<I>(self) >> 32;
  hx += 0x3ff00000 - 0x3fe6a09e;
  const I k = (hx >> 20) - 0x3ff;
  const D dk = xsimd::to_float(k);
  hx = (hx & I(0x000fffff)) + 0x3fe6a09e;
  D x = xsimd::bitwise_cast<D>(hx << 32 | (I(0xffffffff) & xsimd::bitwise_cast<I>(self)));
  const D f = --x;
  const D hfsq = D(0.5) * f * f;
  const D s = f / (D(2.) + f);
  const D z = s * s;
  const D w = z * z;
  const D t1 = w * xk::horner<D, 0x3fd999999997fa04ll, 0x3fcc71c51d8e78afll, 0x3fc39a09d078c69fll>(w);
  const D t2 = z * xk::horner<D, 0x3fe5555555555593ll, 0x3fd2492494229359ll, 0x3fc7466496cb03dell, 0x3fc2f112df3e5244ll>(w);
  const D R = t2 + t1;
  const D r = xsimd::fma(dk, xsimd::constants::log_2hi<D>(),
                         xsimd::fma(s, (hfsq + R), dk * xsimd::constants::log_2lo<D>()) - hfsq + f);
  return xsimd::select(self != D(0.), r, xsimd::constants::minusinfinity<D>());
}

namespace detail {
/// normal7's pieces: p of the word, the central (|q| ≤ 0.425) and the tail rational functions as
/// numerator and denominator (the tail for p < 0.075, any p in (0, ½] giving finite values),
/// and the sign applied to num/den.
template <class A>
inline xsimd::batch<double, A> normal7_p(xsimd::batch<std::uint64_t, A> w) noexcept {
  using U = xsimd::batch<std::uint64_t, A>;
  return to_double((w & U(0x7FFFFFFFull)) | U(1)) * xsimd::batch<double, A>(0x1.0p-32);
}
template <class A>
inline void normal7_centre_parts(xsimd::batch<double, A> q, xsimd::batch<double, A>& num, xsimd::batch<double, A>& den) noexcept {
  using D = xsimd::batch<double, A>;
  const D rc = D(0.180625) - q * q;
  num = q * (((D(a7[3]) * rc + D(a7[2])) * rc + D(a7[1])) * rc + D(a7[0]));
  den = ((D(b7[2]) * rc + D(b7[1])) * rc + D(b7[0])) * rc + D(1.0);
}
template <class A>
inline void normal7_tail_parts(xsimd::batch<double, A> p, xsimd::batch<double, A>& num, xsimd::batch<double, A>& den) noexcept {
  using D = xsimd::batch<double, A>;
  // A 31-bit p is ≥ 2^-32, so r = √(−ln p) ≤ 4.71: the reference's r > 5 branch is never taken.
  const D r = xsimd::sqrt(-log_normal(p)) - D(1.6);
  num = -(((D(c7[3]) * r + D(c7[2])) * r + D(c7[1])) * r + D(c7[0]));
  den = (D(d7[1]) * r + D(d7[0])) * r + D(1.0);
}
template <class A>
inline xsimd::batch<double, A> normal7_signed(xsimd::batch<double, A> num, xsimd::batch<double, A> den,
                                              xsimd::batch<std::uint64_t, A> w) noexcept {
  using D = xsimd::batch<double, A>;
  const D z = num / den;  // one division for both regions: the same operands as the reference's
  return z * (D(1) - D(2) * to_double(w >> 31));  // exact: z·(±1)
}
}  // namespace detail

template <class A>
inline xsimd::batch<double, A> normal7(xsimd::batch<std::uint64_t, A> w) noexcept {
  using D = xsimd::batch<double, A>;
  const D p = detail::normal7_p(w);
  const D q = p - D(0.5);
  D num, den;
  detail::normal7_centre_parts(q, num, den);
  const auto tail = q < D(-0.425);
  if (xsimd::any(tail)) {
    D tn, td;
    detail::normal7_tail_parts(xsimd::select(tail, p, D(0.25)), tn, td);
    num = xsimd::select(tail, tn, num);
    den = xsimd::select(tail, td, den);
  }
  return detail::normal7_signed(num, den, w);
}

/// normal7 in two steps, for a caller that collects the rare tail lanes (p < 0.075, 15 % of
/// words) of many batches into full batches, one log per batch of tails instead of one per batch
/// that has a tail: normal7_centre(w, tail) equals normal7(w) in the lanes where it sets tail
/// false; normal7_tail(w) equals normal7(w) in the lanes of normal7_centre's tail (and is finite
/// elsewhere). The same operations as normal7, so the same values bit for bit.
template <class A>
inline xsimd::batch<double, A> normal7_centre(xsimd::batch<std::uint64_t, A> w, xsimd::batch_bool<double, A>& tail) noexcept {
  using D = xsimd::batch<double, A>;
  const D q = detail::normal7_p(w) - D(0.5);
  D num, den;
  detail::normal7_centre_parts(q, num, den);
  tail = q < D(-0.425);
  return detail::normal7_signed(num, den, w);
}
template <class A>
inline xsimd::batch<double, A> normal7_tail(xsimd::batch<std::uint64_t, A> w) noexcept {
  xsimd::batch<double, A> num, den;
  detail::normal7_tail_parts(detail::normal7_p(w), num, den);
  return detail::normal7_signed(num, den, w);
}
#endif

}  // namespace smlm::simd
