// FastEmccd: the EMCCD of emccd.hpp (same parameters, same signal chain, same declared mean and
// variance) recorded a frame at a time with vectorised samplers. Where Emccd draws every pixel's
// random numbers one after another from the engine (so a pixel's draws depend on all before it
// and the loop cannot be vectorised), FastEmccd gives every pixel its own blocks of the frame's
// stream:
//
// Stream layout. With a Philox4x32 engine whose next block is B (record_frame: the stream
// (seed, frame, camera), B = 0), pixel i = y·width + x of the frame reads
//   block P(i, k) = block index B + i + k·2^32 of the engine's stream, k = 0, 1, … ,
// words w0..w3 from k = 0, w4..w7 from k = 1, fallback draws from k = 2, 3, … (Poisson) and
// k = 2^16, 2^16 + 1, … (gamma). The result of a pixel depends only on (stream, i, its expected
// photons), never on other pixels or on the order or thread they are processed in; afterwards
// the engine stands at block B + pixels. Another bit_engine supplies one 64-bit word that keys
// the same layout (frame 0, purpose camera).
//
// Per pixel, exactly the samplers of the library, fed from those words:
//   n ~ Poisson(qe·p + cic)   λ < 12: sequential-search inversion of u = w0·2^-32 (redraws from
//                             k = 2); λ ≥ 12: Hörmann's PTRS (distributions.hpp), trials from
//                             (w0, w1), (w2, w3), then k = 2, …
//   a = em_gain·(−ln u), u = ((w4 >> 1) | 1)·2^-31   for n = 1
//   a = em_gain·Gamma(n)       for n ≥ 2, Marsaglia–Tsang with its normal from w4, its uniform
//                             (w5 >> 8)·2^-24, further trials from k = 2^16, …
//   e = a + read_noise_e·z,    z = normal7(w7) (simd/samplers.hpp: AS 241 PPND7 in double)
//   adu = min(max(⌊baseline_adu + e/e_per_adu + ½⌋, 0), full_scale_adu)
// (a = n with the register off; w6 is unused.) Every sampler is exact except the normal's
// PPND7 quantile (error ≤ 3.5e-7·(1 + |z|), the same as normal<float>), so the declared
// statistics are Emccd's and the conformance suite applies unchanged.
//
// record_ref is the scalar definition, pixel by pixel. record runs, per batch of pixels, Philox,
// the inversion (its exp only when a lane has λ < 12), PTRS's first four trials (the third and
// fourth from block k = 2, computed only when a lane is still open; ln k! from the table below
// 256, poisson_log_pmf's formula beyond), the exponential, Marsaglia–Tsang's first two trials
// (the second from block k = 2^16, when a lane needs it) and the normal in xsimd lanes; a pixel
// whose draw needs anything else (a fifth PTRS trial, a third gamma trial or a gamma trial with
// v ≤ 0, an inversion redraw) is redone by record_ref's pixel function, so both give the same
// frame up to the last ulp of xsimd's log/log1p/exp against std's (tests/camera/fast_emccd_test.cpp
// counts the pixels that differ).
// Under SMLM_NO_SIMD record is record_ref.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/simd/philox.hpp>
#include <smlm/simd/samplers.hpp>

namespace smlm::camera {

namespace detail {

/// Where a frame's per-pixel blocks come from: key, the counter's frame and purpose words, and
/// the first block index B.
struct PixelLayout {
  Philox4x32::key_type key{};
  std::uint32_t frame = 0, purpose = 0;
  std::uint64_t base = 0;

  static PixelLayout of(const Philox4x32& rng) noexcept {
    const auto c = rng.counter();
    return {rng.key(), c[2], c[3], static_cast<std::uint64_t>(c[1]) << 32 | c[0]};
  }
  /// P(i, k).
  Philox4x32::block_type block(std::uint64_t i, std::uint32_t k) const noexcept {
    const std::uint64_t b = base + i + (static_cast<std::uint64_t>(k) << 32);
    return Philox4x32::block({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32), frame, purpose}, key);
  }
};

/// A bit_engine over `words` first, then the blocks P(i, k), P(i, k + 1), ….
template <std::size_t N>
class PixelWordStream {
 public:
  PixelWordStream(const PixelLayout& layout, std::uint64_t pixel, std::array<std::uint32_t, N> words,
                  std::uint32_t first_block) noexcept
      : layout_(&layout), pixel_(pixel), words_(words), k_(first_block) {}
  std::uint32_t operator()() noexcept {
    if (next_ < N) return words_[next_++];
    if (used_ == 4) {
      buffer_ = layout_->block(pixel_, k_++);
      used_ = 0;
    }
    return buffer_[used_++];
  }
  std::uint64_t next_u64() noexcept {
    const std::uint64_t hi = (*this)();
    return (hi << 32) | (*this)();
  }

 private:
  const PixelLayout* layout_;
  std::uint64_t pixel_;
  std::array<std::uint32_t, N> words_;
  std::uint32_t k_;
  std::size_t next_ = 0;
  Philox4x32::block_type buffer_{};
  int used_ = 4;
};

/// Gamma(shape ≥ 1, 1) by Marsaglia–Tsang as smlm::gamma, normal7 and uniform24 from `rng`.
template <bit_engine Rng>
inline double gamma_mt(Rng& rng, double shape) noexcept {
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = simd::normal7_ref(rng());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = simd::uniform24_ref(rng());
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (std::log(u) < 0.5 * x2 + d * (1 - v + std::log(v))) return d * v;
  }
}

/// The parameters of one EMCCD pixel, in double.
struct EmccdPixelParams {
  double q, cic, g, sigma, inv_k, base, full;
  bool amplify;
  template <class T>
  explicit EmccdPixelParams(const Emccd<T>& e) noexcept
      : q(e.qe), cic(e.cic_electrons), g(e.em_gain), sigma(e.read_noise_e), inv_k(1.0 / static_cast<double>(e.e_per_adu)),
        base(e.baseline_adu), full(e.full_scale_adu), amplify(e.em_gain > 1) {}
};

inline constexpr std::uint32_t gamma_fallback_block = 1u << 16;

/// The ADU of pixel i (see the header): the scalar definition.
inline double emccd_pixel_ref(const EmccdPixelParams& c, double photons, const PixelLayout& s, std::uint64_t i) noexcept {
  const auto b0 = s.block(i, 0), b1 = s.block(i, 1);
  const double lambda = c.q * photons + c.cic;
  std::int64_t n = 0;
  if (lambda > 0) {
    PixelWordStream<4> words(s, i, b0, 2);
    n = lambda < poisson_ptrs_min_mean ? smlm::detail::poisson_inversion<float>(words, lambda)
                                       : smlm::detail::poisson_ptrs<float>(words, lambda);
  }
  double e = static_cast<double>(n);
  if (c.amplify && n > 0) {
    if (n == 1) {
      e = c.g * -std::log(simd::uniform_nonzero_ref(b1[0]));
    } else {
      PixelWordStream<2> words(s, i, {b1[0], b1[1]}, gamma_fallback_block);
      e = c.g * gamma_mt(words, static_cast<double>(n));
    }
  }
  e += c.sigma * simd::normal7_ref(b1[3]);
  return quantize_adu<double>(c.base + e * c.inv_k, c.full);
}

}  // namespace detail

template <sampler_scalar T = float>
struct FastEmccd : Emccd<T> {
  using scalar = T;

  FastEmccd() = default;
  explicit FastEmccd(const Emccd<T>& parameters) : Emccd<T>(parameters) {}

  /// One frame in the per-pixel layout (see the header). Precondition: as Emccd::record.
  template <bit_engine Rng>
  void record(ConstImageView<T> photons, Rng& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    if constexpr (std::same_as<Rng, Philox4x32>) {
      record_layout(photons, detail::PixelLayout::of(rng), adu);
      rng.discard_blocks(static_cast<std::uint64_t>(photons.size()));
    } else {
      const std::uint64_t key = rng.next_u64();
      Philox4x32 keyed(key, 0, rng_purpose::camera);
      record(photons, keyed, adu);
    }
  }

  /// The scalar definition of record (same layout, same frame up to xsimd's last ulp).
  void record_ref(ConstImageView<T> photons, Philox4x32& rng, ImageView<T> adu) const SMLM_NOEXCEPT {
    check(photons, adu);
    const detail::PixelLayout layout = detail::PixelLayout::of(rng);
    const detail::EmccdPixelParams c(static_cast<const Emccd<T>&>(*this));
    for (Eigen::Index y = 0; y < photons.rows(); ++y)
      for (Eigen::Index x = 0; x < photons.cols(); ++x)
        adu(y, x) = static_cast<T>(detail::emccd_pixel_ref(c, static_cast<double>(photons(y, x)), layout,
                                                           static_cast<std::uint64_t>(y * photons.cols() + x)));
    rng.discard_blocks(static_cast<std::uint64_t>(photons.size()));
  }

 private:
  void check(const ConstImageView<T>& photons, const ImageView<T>& adu) const SMLM_NOEXCEPT {
    detail::check_record_args(photons, adu);
    SMLM_ASSERT(this->valid(), "camera::FastEmccd: parameter out of range (see Emccd's members)");
  }

  void record_layout(ConstImageView<T> photons, const detail::PixelLayout& layout, ImageView<T> adu) const SMLM_NOEXCEPT {
    check(photons, adu);
    const detail::EmccdPixelParams c(static_cast<const Emccd<T>&>(*this));
#if defined(SMLM_NO_SIMD)
    for (Eigen::Index y = 0; y < photons.rows(); ++y)
      for (Eigen::Index x = 0; x < photons.cols(); ++x)
        adu(y, x) = static_cast<T>(detail::emccd_pixel_ref(c, static_cast<double>(photons(y, x)), layout,
                                                           static_cast<std::uint64_t>(y * photons.cols() + x)));
#else
    for (Eigen::Index y = 0; y < photons.rows(); ++y) record_row(c, photons, layout, adu, y);
#endif
  }

#if !defined(SMLM_NO_SIMD)
  template <class D>
  struct gamma_result {
    typename D::batch_bool_type done, ok;  // done: v > 0 (a trial); ok: accepted
  };

  /// One Marsaglia–Tsang trial (detail::gamma_mt) in the lanes of `want`: x the normal, u the
  /// uniform; v3 receives v³ (the value is d·v³ when accepted).
  template <class D>
  static gamma_result<D> gamma_trial(D x, D u, D d, D c, typename D::batch_bool_type want, D& v3) noexcept {
    const D v1 = D(1) + c * x;
    const D x2 = x * x;
    v3 = v1 * v1 * v1;
    const auto done = v1 > D(0);
    auto ok = done & (u < D(1) - D(0.0331) * x2 * x2);
    const auto test = want & done & !ok;
    if (xsimd::any(test)) {
      const D lv = xsimd::log(xsimd::select(test, v3, D(1)));
      ok = ok | (test & (xsimd::log(u) < D(0.5) * x2 + d * (D(1) - v3 + lv)));
    }
    return {done, ok};
  }

  /// smlm::detail::poisson_log_pmf(k, mean) for k ≥ 16 lane by lane, the same operations
  /// (stirling_error's series branch).
  template <class D>
  static D log_pmf_lanes(D k, D mean) noexcept {
    const D x = (mean - k) / k;
    const D nn = k * k;
    const D delta = (D(1.0 / 12) - (D(1.0 / 360) - (D(1.0 / 1260) - (D(1.0 / 1680) - D(1.0) / (D(1188) * nn)) / nn) / nn) / nn) / k;
    return k * (xsimd::log1p(x) - x) - D(0.5) * xsimd::log(D(2 * 3.14159265358979323846) * k) - delta;
  }

  static void record_row(const detail::EmccdPixelParams& c, const ConstImageView<T>& photons,
                         const detail::PixelLayout& s, ImageView<T>& adu, Eigen::Index y) noexcept {
    using D = xsimd::batch<double>;
    using U = xsimd::batch<std::uint64_t>;
    constexpr std::size_t N = D::size;
    const Eigen::Index width = photons.cols();
    const std::uint64_t row0 = static_cast<std::uint64_t>(y * width);
    alignas(64) std::array<std::uint64_t, N> iota{};
    for (std::size_t j = 0; j < N; ++j) iota[j] = j;
    const U lanes = U::load_aligned(iota.data()), low(0xFFFFFFFFull);
    // PTRS's constants (ptrs_constants, ln μ) for the means h_mean, kept while they repeat.
    D h_mean(-1), b(0), a(0), v_r(0), alpha(0), log_mean(0);
    Eigen::Index x0 = 0;
    for (; x0 + static_cast<Eigen::Index>(N) <= width; x0 += static_cast<Eigen::Index>(N)) {
      alignas(64) std::array<double, N> ph{}, out{};
      for (std::size_t j = 0; j < N; ++j) ph[j] = static_cast<double>(photons(y, x0 + static_cast<Eigen::Index>(j)));
      const U index = U(s.base + row0 + static_cast<std::uint64_t>(x0)) + lanes;
      const U lo = index & low, hi = index >> 32;
      U w[4], v[4];
      simd::philox_lanes(lo, hi & low, s.frame, s.purpose, s.key, w);
      simd::philox_lanes(lo, (hi + U(1)) & low, s.frame, s.purpose, s.key, v);
      const D lambda = D(c.q) * D::load_aligned(ph.data()) + D(c.cic);

      // Poisson: inversion below 12 (its exp skipped when no lane is below), PTRS above.
      const auto small = lambda < D(poisson_ptrs_min_mean);
      D n(0);
      xsimd::batch_bool<double> fallback(false);
      if (xsimd::any(small)) {
        const D u = simd::uniform32(w[0]);
        D p = xsimd::exp(-xsimd::select(small, lambda, D(0))), cdf = p, k(0);
        auto active = small & (u >= cdf);
        for (std::size_t it = 0; it < 63 && xsimd::any(active); ++it) {
          k = k + xsimd::select(active, D(1), D(0));
          p = p * (lambda * D(smlm::detail::reciprocals[it + 1]));
          cdf = cdf + p;
          active = active & (u >= cdf);
        }
        fallback = active;
        n = k;
      }
      const auto big = !small;
      if (xsimd::any(big)) {
        // PTRS (distributions.hpp, poisson_ptrs): trials 1–2 from (w0, w1), (w2, w3), trials 3–4
        // from block k = 2 (computed only when a lane is still open), ln p(k) for k ≥ 256 by
        // poisson_log_pmf's formula.
        const D mean = xsimd::select(big, lambda, D(100));
        if (!xsimd::all(mean == h_mean)) {  // a flat background repeats the previous batch's means
          h_mean = mean;
          b = D(0.931) + D(2.53) * xsimd::sqrt(mean);
          a = D(-0.059) + D(0.02483) * b;
          v_r = D(0.98) * (D(0.9277) - D(3.6224) / (b - D(2)));
          alpha = D(1.01) * (D(1.1239) + D(1.1328) / (b - D(3.4)));
          log_mean = xsimd::log(mean);
        }
        auto open = big;  // lanes whose value is not yet decided
        U x[4];
        for (int trial = 0; trial < 4 && xsimd::any(open); ++trial) {
          if (trial == 2) simd::philox_lanes(lo, (hi + U(2)) & low, s.frame, s.purpose, s.key, x);
          const U* t = trial < 2 ? w : x;
          const int j0 = 2 * (trial & 1);
          const D uu = simd::uniform32(t[j0]) - D(0.5), vv = simd::uniform32(t[j0 + 1]);
          const D us = D(0.5) - xsimd::abs(uu);
          const auto zero = us == D(0);
          const D inv_us = D(1) / xsimd::select(zero, D(1), us);
          const D kd = (D(2) * a * inv_us + b) * uu + mean + D(0.43);
          const auto squeeze = (us >= D(0.07)) & (vv <= v_r);
          const auto reject = zero | !((kd >= D(0)) & (kd < D(0x1.0p62))) | ((us < D(0.013)) & (vv > us));
          const D kf = xsimd::floor(xsimd::select(reject, D(0), kd));
          const auto tabled = kf < D(static_cast<double>(smlm::detail::log_factorials.size()));
          const auto kk = xsimd::batch_cast<std::int64_t>(xsimd::select(tabled, kf, D(0)));
          D log_pmf = kf * log_mean - mean - D::gather(smlm::detail::log_factorials.data(), kk);
          const auto untabled = open & !squeeze & !reject & !tabled;
          if (xsimd::any(untabled)) log_pmf = xsimd::select(untabled, log_pmf_lanes(xsimd::select(untabled, kf, D(256)), mean), log_pmf);
          const auto pass = xsimd::log(vv * alpha / (a * inv_us * inv_us + b)) <= log_pmf;
          const auto accept = open & (squeeze | (!reject & pass));
          n = xsimd::select(accept, kf, n);
          open = open & !accept;  // rejected: the next trial
        }
        fallback = fallback | open;
      }

      // EM register: Marsaglia–Tsang's first trial from (w4, w5), the second from block 2^16.
      D e = n;
      if (c.amplify) {
        const auto one = n == D(1), many = n >= D(2);
        const D e1 = xsimd::any(one) ? D(c.g) * -xsimd::log(simd::uniform_nonzero(v[0])) : D(0);
        const D d = xsimd::max(n, D(2)) - D(1.0 / 3);
        const D cc = D(1) / xsimd::sqrt(D(9) * d);
        D v3;
        auto accept = gamma_trial(simd::normal7(v[0]), simd::uniform24(v[1]), d, cc, many, v3);
        // v > 0 failed (the scalar redraws the normal from the next word): the scalar path.
        auto bad = many & !accept.done;
        auto retry = many & accept.done & !accept.ok;
        if (xsimd::any(retry)) {
          U g[4];
          simd::philox_lanes(lo, (hi + U(detail::gamma_fallback_block)) & low, s.frame, s.purpose, s.key, g);
          D v3b;
          const auto second = gamma_trial(simd::normal7(g[0]), simd::uniform24(g[1]), d, cc, retry, v3b);
          v3 = xsimd::select(retry, v3b, v3);
          bad = bad | (retry & !(second.done & second.ok));
        }
        const D eg = D(c.g) * (d * v3);
        e = xsimd::select(one, e1, xsimd::select(many, eg, e));
        fallback = fallback | bad;
      }
      e = e + D(c.sigma) * simd::normal7(v[3]);
      const D r = xsimd::floor(D(c.base) + e * D(c.inv_k) + D(0.5));
      const D q = xsimd::select(r > D(0), xsimd::min(r, D(c.full)), D(0));
      q.store_aligned(out.data());
      if (xsimd::any(fallback)) {
        alignas(64) std::array<double, N> redo{};
        xsimd::select(fallback, D(1), D(0)).store_aligned(redo.data());
        for (std::size_t j = 0; j < N; ++j)
          if (redo[j] != 0)
            out[j] = detail::emccd_pixel_ref(c, ph[j], s, row0 + static_cast<std::uint64_t>(x0) + j);
      }
      for (std::size_t j = 0; j < N; ++j) adu(y, x0 + static_cast<Eigen::Index>(j)) = static_cast<T>(out[j]);
    }
    for (; x0 < width; ++x0)
      adu(y, x0) = static_cast<T>(detail::emccd_pixel_ref(c, static_cast<double>(photons(y, x0)), s,
                                                          row0 + static_cast<std::uint64_t>(x0)));
  }
#endif
};

static_assert(check_model<FastEmccd<float>>() && check_model<FastEmccd<double>>());

}  // namespace smlm::camera
