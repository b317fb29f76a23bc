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
// v ≤ 0, an inversion redraw) is redone by record_ref's pixel function. The rare branches (PTRS's
// second trial, its third and fourth, the normals' tails, Marsaglia–Tsang's first logarithmic
// test) are computed on those pixels of a 64-pixel chunk packed into full batches rather than on
// every batch where some lane needs them, with no branch on whether a batch has one
// (record_chunk).
// Both give the same frame up to the last ulp of xsimd's log/log1p/exp against std's
// (tests/camera/fast_emccd_test.cpp counts the pixels that differ).
// Under SMLM_NO_SIMD record is record_ref.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
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

/// Marsaglia–Tsang's c = 1/√(9d), d = n − ⅓, for the shapes n < gamma_c_table_size (entries 0
/// and 1 hold n = 2's): the operations gamma_mt performs (both correctly rounded), so the same
/// values as computing them lane by lane.
inline constexpr std::size_t gamma_c_table_size = 1024;
inline const std::array<double, gamma_c_table_size>& gamma_c_table() noexcept {
  static const std::array<double, gamma_c_table_size> table = [] {
    std::array<double, gamma_c_table_size> t{};
    for (std::size_t n = 0; n < t.size(); ++n) t[n] = 1 / std::sqrt(9 * (static_cast<double>(n < 2 ? 2 : n) - 1.0 / 3));
    return t;
  }();
  return table;
}

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
    const auto test = want & done & ~ok;
    if (xsimd::any(test)) {
      const D lv = simd::log_normal(xsimd::select(test, v3, D(1)));
      ok = ok | (test & (simd::log_normal(u) < D(0.5) * x2 + d * (D(1) - v3 + lv)));
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

  /// Bit j of the result: lane j of b.
  template <class A>
  static std::uint64_t lane_bits(xsimd::batch_bool<double, A> b) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, A>) return static_cast<std::uint64_t>(static_cast<__mmask8>(b));
#endif
    using D = xsimd::batch<double, A>;
    alignas(64) std::array<double, D::size> t{};
    xsimd::select(b, D(1), D(0)).store_aligned(t.data());
    std::uint64_t m = 0;
    for (std::size_t j = 0; j < D::size; ++j) m |= static_cast<std::uint64_t>(t[j] != 0) << j;
    return m;
  }

  /// table[k] lane by lane: one gather instruction where there is one (xsimd's gather inserts
  /// lane by lane).
  template <class A>
  static xsimd::batch<double, A> lookup(const double* table, xsimd::batch<std::int64_t, A> k) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, A>) return _mm512_i64gather_pd(k, table, 8);
    else
#endif
#if defined(__AVX2__)
    if constexpr (std::is_base_of_v<xsimd::avx2, A>) return _mm256_i64gather_pd(table, k, 8);
    else
#endif
      return xsimd::batch<double, A>::gather(table, k);
  }

  /// PTRS's constants (ptrs_constants, ln μ) per lane.
  template <class D>
  struct ptrs_lanes {
    D mean, b, a, v_r, alpha, log_mean;
  };

  /// One PTRS trial (distributions.hpp, poisson_ptrs) from the words (wu, wv) in the lanes of
  /// `open`: n receives k in the lanes it accepts, which it returns; ln p(k) for k ≥ 256 by
  /// poisson_log_pmf's formula.
  template <class D, class U>
  static typename D::batch_bool_type ptrs_trial(U wu, U wv, const ptrs_lanes<D>& p, typename D::batch_bool_type open,
                                                D& n) noexcept {
    const D uu = simd::uniform32(wu) - D(0.5), vv = simd::uniform32(wv);
    const D us = D(0.5) - xsimd::abs(uu);
    const auto zero = us == D(0);
    const D inv_us = D(1) / xsimd::select(zero, D(1), us);
    const D kd = (D(2) * p.a * inv_us + p.b) * uu + p.mean + D(0.43);
    const auto squeeze = (us >= D(0.07)) & (vv <= p.v_r);
    const auto reject = zero | ~((kd >= D(0)) & (kd < D(0x1.0p62))) | ((us < D(0.013)) & (vv > us));
    const D kf = xsimd::floor(xsimd::select(reject, D(0), kd));
    const auto tabled = kf < D(static_cast<double>(smlm::detail::log_factorials.size()));
    const auto kk = xsimd::batch_cast<std::int64_t>(xsimd::select(tabled, kf, D(0)));
    D log_pmf = kf * p.log_mean - p.mean - lookup(smlm::detail::log_factorials.data(), kk);
    const auto untabled = open & ~squeeze & ~reject & ~tabled;
    if (xsimd::any(untabled))
      log_pmf = xsimd::select(untabled, log_pmf_lanes(xsimd::select(untabled, kf, D(256)), p.mean), log_pmf);
    const auto pass = simd::log_normal(vv * p.alpha / (p.a * inv_us * inv_us + p.b)) <= log_pmf;
    const auto accept = open & (squeeze | (~reject & pass));
    n = xsimd::select(accept, kf, n);
    return accept;
  }

  /// A row is recorded in chunks of up to chunk_vectors batches. Per chunk: (1) per batch Philox,
  /// the inversion or PTRS's first trial; (2) the pixels PTRS left open, packed into full batches,
  /// trial 2, and those it leaves open packed again, trials 3–4; (3) per batch the central
  /// normals, (4) the tail normals packed; (5a) per batch Marsaglia–Tsang's squeeze, (5b) its
  /// logarithmic test packed, (5c) per batch the rest of the register, read noise and
  /// quantization; (6) record_ref's pixel function for the fallbacks. Packing computes the rare
  /// branches (a second PTRS trial for 1 pixel in 5, a normal tail for 3 in 20, the gamma test
  /// for 1 in 10) once per full batch instead of once per batch that has one: the same operations
  /// per pixel, so the same frame. Appends and scatters do not branch on the data (those
  /// branches mispredicted more than the work they skipped).
  static constexpr std::size_t chunk_vectors = 8;

  static void record_row(const detail::EmccdPixelParams& c, const ConstImageView<T>& photons,
                         const detail::PixelLayout& s, ImageView<T>& adu, Eigen::Index y) noexcept {
    using D = xsimd::batch<double>;
    constexpr std::size_t N = D::size;
    const Eigen::Index width = photons.cols();
    ptrs_lanes<D> cache{D(-1), D(0), D(0), D(0), D(0), D(0)};  // kept while the means repeat
    Eigen::Index x0 = 0;
    while (x0 + static_cast<Eigen::Index>(N) <= width) {
      const std::size_t nv = std::min(chunk_vectors, static_cast<std::size_t>(width - x0) / N);
      record_chunk(c, photons, s, adu, y, x0, nv, cache);
      x0 += static_cast<Eigen::Index>(nv * N);
    }
    const std::uint64_t row0 = static_cast<std::uint64_t>(y * width);
    for (; x0 < width; ++x0)
      adu(y, x0) = static_cast<T>(detail::emccd_pixel_ref(c, static_cast<double>(photons(y, x0)), s,
                                                          row0 + static_cast<std::uint64_t>(x0)));
  }

  /// Appends the lanes of v whose bit is set in m to dst (which has room for V::size more).
  template <class V>
  static void append_lanes(V v, std::uint64_t m, typename V::value_type* dst) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, typename V::arch_type>) {
      if constexpr (std::is_same_v<typename V::value_type, double>) {
        _mm512_storeu_pd(dst, _mm512_maskz_compress_pd(static_cast<__mmask8>(m), v));
      } else {
        _mm512_storeu_si512(dst, _mm512_maskz_compress_epi64(static_cast<__mmask8>(m), v));
      }
      return;
    }
#endif
    alignas(64) std::array<typename V::value_type, V::size> t;
    v.store_aligned(t.data());
    std::size_t k = 0;
    for (std::size_t j = 0; j < V::size; ++j)
      if ((m >> j) & 1) dst[k++] = t[j];
  }

  /// Pixels x0 … x0 + nv·N − 1 of row y (nv ≤ chunk_vectors).
  static void record_chunk(const detail::EmccdPixelParams& c, const ConstImageView<T>& photons,
                           const detail::PixelLayout& s, ImageView<T>& adu, Eigen::Index y, Eigen::Index x0,
                           std::size_t nv, ptrs_lanes<xsimd::batch<double>>& cache) noexcept {
    using D = xsimd::batch<double>;
    using U = xsimd::batch<std::uint64_t>;
    constexpr std::size_t N = D::size, C = chunk_vectors * N;
    static_assert(C <= 64, "the chunk's lane masks are 64-bit words");
    const std::size_t count = nv * N;
    const std::uint64_t first = s.base + static_cast<std::uint64_t>(y * photons.cols() + x0);
    alignas(64) std::array<std::uint64_t, N> iota{};
    for (std::size_t j = 0; j < N; ++j) iota[j] = j;
    const U lanes = U::load_aligned(iota.data()), low(0xFFFFFFFFull);
    const auto counters = [&](U index, U& lo, U& hi) {
      const U i = U(first) + index;
      lo = i & low;
      hi = i >> 32;
    };
    // Per pixel: photons, n, the result, Marsaglia–Tsang's uniform word; words/z: the register's
    // normal (first C) and the read noise's (last C), word and value.
    alignas(64) std::array<double, C> ph, n, out;
    alignas(64) std::array<std::uint64_t, C> v1;
    alignas(64) std::array<std::uint64_t, 2 * C> words;
    alignas(64) std::array<double, 2 * C> z;
    // Packed, for the open PTRS pixels: constants, trial 2's words, the pixel; for the tail
    // normals: word and position in z.
    alignas(64) std::array<double, C + N> k_mean, k_b, k_a, k_vr, k_alpha, k_log;
    alignas(64) std::array<std::uint64_t, C + N> k_w2, k_w3, k_at;
    alignas(64) std::array<std::uint64_t, 2 * C + N> t_word, t_at;
    std::size_t listed = 0;
    std::uint64_t fallback = 0;
    const auto append_constants = [&](const ptrs_lanes<D>& p, std::uint64_t m, std::size_t at) {
      append_lanes(p.mean, m, k_mean.data() + at);
      append_lanes(p.b, m, k_b.data() + at);
      append_lanes(p.a, m, k_a.data() + at);
      append_lanes(p.v_r, m, k_vr.data() + at);
      append_lanes(p.alpha, m, k_alpha.data() + at);
      append_lanes(p.log_mean, m, k_log.data() + at);
    };
    const auto load_constants = [&](std::size_t g) {
      return ptrs_lanes<D>{D::load_unaligned(k_mean.data() + g), D::load_unaligned(k_b.data() + g),
                           D::load_unaligned(k_a.data() + g),    D::load_unaligned(k_vr.data() + g),
                           D::load_unaligned(k_alpha.data() + g), D::load_unaligned(k_log.data() + g)};
    };

    // (1) Philox, the inversion below 12 (its exp skipped when no lane is below), PTRS's first trial.
    for (std::size_t o = 0; o < count; o += N) {
      for (std::size_t j = 0; j < N; ++j) ph[o + j] = static_cast<double>(photons(y, x0 + static_cast<Eigen::Index>(o + j)));
      const U at = lanes + U(o);
      U lo, hi;
      counters(at, lo, hi);
      U w[4], v[4];
      simd::philox_lanes(lo, hi & low, s.frame, s.purpose, s.key, w);
      simd::philox_lanes(lo, (hi + U(1)) & low, s.frame, s.purpose, s.key, v);
      v[0].store_aligned(words.data() + o);
      v[1].store_aligned(v1.data() + o);
      v[3].store_aligned(words.data() + C + o);
      const D lambda = D(c.q) * D::load_aligned(ph.data() + o) + D(c.cic);
      const auto small = lambda < D(poisson_ptrs_min_mean);
      D nn(0);
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
        fallback |= lane_bits(active) << o;
        nn = k;
      }
      const auto big = ~small;
      if (xsimd::any(big)) {
        const D mean = xsimd::select(big, lambda, D(100));
        if (!xsimd::all(mean == cache.mean)) {  // a flat background repeats the previous batch's means
          cache.mean = mean;
          cache.b = D(0.931) + D(2.53) * xsimd::sqrt(mean);
          cache.a = D(-0.059) + D(0.02483) * cache.b;
          cache.v_r = D(0.98) * (D(0.9277) - D(3.6224) / (cache.b - D(2)));
          cache.alpha = D(1.01) * (D(1.1239) + D(1.1328) / (cache.b - D(3.4)));
          cache.log_mean = simd::log_normal(mean);
        }
        const auto accept = ptrs_trial(w[0], w[1], cache, big, nn);
        // Unconditional (an empty append writes spare room): the batch has an open lane 5 times
        // in 6, a branch on it mispredicts often enough to cost more than the appends.
        {
          const std::uint64_t open = lane_bits(big & ~accept);
          append_constants(cache, open, listed);
          append_lanes(w[2], open, k_w2.data() + listed);
          append_lanes(w[3], open, k_w3.data() + listed);
          append_lanes(at, open, k_at.data() + listed);
          listed += static_cast<std::size_t>(std::popcount(open));
        }
      }
      nn.store_aligned(n.data() + o);
    }

    // (2) PTRS trial 2 of the open pixels, N at a time, from (w2, w3); the pixels it leaves open
    // are packed again (in place: batch g is in registers before the list is rewritten up to it)
    // for trials 3–4 from block k = 2, so those run on full batches too (1 pixel in 25 needs
    // them). The last batch's spare lanes repeat the last pixel and are never relisted.
    for (std::size_t j = listed; j % N != 0; ++j) {
      k_mean[j] = k_mean[j - 1], k_b[j] = k_b[j - 1], k_a[j] = k_a[j - 1], k_vr[j] = k_vr[j - 1];
      k_alpha[j] = k_alpha[j - 1], k_log[j] = k_log[j - 1];
      k_w2[j] = k_w2[j - 1], k_w3[j] = k_w3[j - 1], k_at[j] = k_at[j - 1];
    }
    // All N lanes: a spare lane computes what the pixel it repeats does, and a fixed trip count
    // does not mispredict.
    const auto scatter = [&](D nn, std::size_t g) {
      alignas(64) std::array<double, N> got;
      nn.store_aligned(got.data());
      for (std::size_t j = 0; j < N; ++j) n[k_at[g + j]] = got[j];
    };
    std::size_t relisted = 0;
    for (std::size_t g = 0; g < listed; g += N) {
      const std::size_t m = std::min(N, listed - g);
      const ptrs_lanes<D> p = load_constants(g);
      const U at = U::load_unaligned(k_at.data() + g);
      D nn(0);
      const auto accept = ptrs_trial(U::load_unaligned(k_w2.data() + g), U::load_unaligned(k_w3.data() + g), p,
                                     D(0) == D(0), nn);
      scatter(nn, g);
      {  // unconditional, as in (1)
        const std::uint64_t open = lane_bits(~accept) & ((std::uint64_t{1} << m) - 1);
        append_constants(p, open, relisted);
        append_lanes(at, open, k_at.data() + relisted);
        relisted += static_cast<std::size_t>(std::popcount(open));
      }
    }
    for (std::size_t j = relisted; j % N != 0; ++j) {
      k_mean[j] = k_mean[j - 1], k_b[j] = k_b[j - 1], k_a[j] = k_a[j - 1], k_vr[j] = k_vr[j - 1];
      k_alpha[j] = k_alpha[j - 1], k_log[j] = k_log[j - 1], k_at[j] = k_at[j - 1];
    }
    for (std::size_t g = 0; g < relisted; g += N) {
      const ptrs_lanes<D> p = load_constants(g);
      U lo, hi, x[4];
      counters(U::load_unaligned(k_at.data() + g), lo, hi);
      simd::philox_lanes(lo, (hi + U(2)) & low, s.frame, s.purpose, s.key, x);
      D nn(0);
      auto open = D(0) == D(0);
      open = open & ~ptrs_trial(x[0], x[1], p, open, nn);
      if (xsimd::any(open)) open = open & ~ptrs_trial(x[2], x[3], p, open, nn);
      scatter(nn, g);
      const std::uint64_t still = lane_bits(open);
      for (std::size_t j = 0; j < N; ++j) fallback |= ((still >> j) & 1) << k_at[g + j];
    }

    // (3) The normals' central region per batch; (4) their tails, N at a time.
    listed = 0;
    for (std::size_t half = c.amplify ? 0 : C; half < 2 * C; half += C)  // without the register only the read noise's
      for (std::size_t o = 0; o < count; o += N) {
        xsimd::batch_bool<double> tail;
        const U w = U::load_aligned(words.data() + half + o);
        simd::normal7_centre(w, tail).store_aligned(z.data() + half + o);
        {  // unconditional, as the PTRS appends (3 batches in 4 have a tail lane)
          const std::uint64_t m = lane_bits(tail);
          append_lanes(w, m, t_word.data() + listed);
          append_lanes(lanes + U(half + o), m, t_at.data() + listed);
          listed += static_cast<std::size_t>(std::popcount(m));
        }
      }
    for (std::size_t j = listed; j % N != 0; ++j) t_word[j] = t_word[j - 1], t_at[j] = t_at[j - 1];
    for (std::size_t g = 0; g < listed; g += N) {
      alignas(64) std::array<double, N> got;
      simd::normal7_tail(U::load_unaligned(t_word.data() + g)).store_aligned(got.data());
      for (std::size_t j = 0; j < N; ++j) z[t_at[g + j]] = got[j];  // spare lanes repeat the last
    }

    // (5) EM register: Marsaglia–Tsang's first trial from (w4, w5), the second from block 2^16;
    // read noise; quantization. The first trial's logarithmic test (1 pixel in 10 needs it, but
    // half the batches have one) runs on those pixels packed into full batches (5b) between the
    // squeeze (5a) and the rest (5c): the same operations per pixel.
    if (c.amplify) {
      alignas(64) std::array<double, C> g_v3, g_cc, g_ok;
      alignas(64) std::array<double, C + N> t_u, t_x2, t_d, t_v3;
      alignas(64) std::array<std::uint64_t, C + N> t_px;
      std::size_t tests = 0;
      for (std::size_t o = 0; o < count; o += N) {  // (5a)
        const D nn = D::load_aligned(n.data() + o);
        const auto many = nn >= D(2);
        const D d = xsimd::max(nn, D(2)) - D(1.0 / 3);
        const auto tabled = nn < D(static_cast<double>(detail::gamma_c_table_size));
        D cc = lookup(detail::gamma_c_table().data(), xsimd::batch_cast<std::int64_t>(xsimd::select(tabled, nn, D(0))));
        if (!xsimd::all(tabled)) cc = xsimd::select(tabled, cc, D(1) / xsimd::sqrt(D(9) * d));
        const D x = D::load_aligned(z.data() + o), u = simd::uniform24(U::load_aligned(v1.data() + o));
        const D v = D(1) + cc * x;
        const D x2 = x * x;
        const D v3 = v * v * v;
        const auto ok = (v > D(0)) & (u < D(1) - D(0.0331) * x2 * x2);
        const std::uint64_t test = lane_bits(many & (v > D(0)) & ~ok);
        append_lanes(u, test, t_u.data() + tests);  // unconditional, as in (1)
        append_lanes(x2, test, t_x2.data() + tests);
        append_lanes(d, test, t_d.data() + tests);
        append_lanes(v3, test, t_v3.data() + tests);
        append_lanes(lanes + U(o), test, t_px.data() + tests);
        tests += static_cast<std::size_t>(std::popcount(test));
        v3.store_aligned(g_v3.data() + o);
        cc.store_aligned(g_cc.data() + o);
        xsimd::select(ok, D(1), D(0)).store_aligned(g_ok.data() + o);
      }
      for (std::size_t j = tests; j % N != 0; ++j)
        t_u[j] = t_u[j - 1], t_x2[j] = t_x2[j - 1], t_d[j] = t_d[j - 1], t_v3[j] = t_v3[j - 1], t_px[j] = t_px[j - 1];
      for (std::size_t g = 0; g < tests; g += N) {  // (5b), gamma_trial's test
        const D u = D::load_unaligned(t_u.data() + g), x2 = D::load_unaligned(t_x2.data() + g);
        const D d = D::load_unaligned(t_d.data() + g), v3 = D::load_unaligned(t_v3.data() + g);
        const D lv = simd::log_normal(v3);
        const D pass = xsimd::select(simd::log_normal(u) < D(0.5) * x2 + d * (D(1) - v3 + lv), D(1), D(0));
        alignas(64) std::array<double, N> got;
        pass.store_aligned(got.data());
        for (std::size_t j = 0; j < N; ++j) g_ok[t_px[g + j]] = got[j];  // spare lanes repeat the last
      }
      for (std::size_t o = 0; o < count; o += N) {  // (5c)
        const D nn = D::load_aligned(n.data() + o);
        const auto one = nn == D(1), many = nn >= D(2);
        const D e1 = xsimd::any(one) ? D(c.g) * -simd::log_normal(simd::uniform_nonzero(U::load_aligned(words.data() + o))) : D(0);
        const D d = xsimd::max(nn, D(2)) - D(1.0 / 3);
        const D cc = D::load_aligned(g_cc.data() + o);
        D v3 = D::load_aligned(g_v3.data() + o);
        const auto done = D(1) + cc * D::load_aligned(z.data() + o) > D(0);
        const auto ok = D::load_aligned(g_ok.data() + o) != D(0);
        // v > 0 failed (the scalar redraws the normal from the next word): the scalar path.
        auto bad = many & ~done;
        const auto retry = many & done & ~ok;
        if (xsimd::any(retry)) {
          U lo, hi, gw[4];
          counters(lanes + U(o), lo, hi);
          simd::philox_lanes(lo, (hi + U(detail::gamma_fallback_block)) & low, s.frame, s.purpose, s.key, gw);
          D v3b;
          const auto second = gamma_trial(simd::normal7(gw[0]), simd::uniform24(gw[1]), d, cc, retry, v3b);
          v3 = xsimd::select(retry, v3b, v3);
          bad = bad | (retry & ~(second.done & second.ok));
        }
        const D eg = D(c.g) * (d * v3);
        D e = xsimd::select(one, e1, xsimd::select(many, eg, nn));
        fallback |= lane_bits(bad) << o;
        e = e + D(c.sigma) * D::load_aligned(z.data() + C + o);
        const D r = xsimd::floor(D(c.base) + e * D(c.inv_k) + D(0.5));
        xsimd::select(r > D(0), xsimd::min(r, D(c.full)), D(0)).store_aligned(out.data() + o);
      }
    } else {
      for (std::size_t o = 0; o < count; o += N) {
        const D e = D::load_aligned(n.data() + o) + D(c.sigma) * D::load_aligned(z.data() + C + o);
        const D r = xsimd::floor(D(c.base) + e * D(c.inv_k) + D(0.5));
        xsimd::select(r > D(0), xsimd::min(r, D(c.full)), D(0)).store_aligned(out.data() + o);
      }
    }

    // (6) The fallbacks.
    for (std::uint64_t m = fallback; m != 0; m &= m - 1) {
      const auto j = static_cast<std::size_t>(std::countr_zero(m));
      out[j] = detail::emccd_pixel_ref(c, ph[j], s, first - s.base + j);
    }
    for (std::size_t j = 0; j < count; ++j) adu(y, x0 + static_cast<Eigen::Index>(j)) = static_cast<T>(out[j]);
  }
#endif
};

static_assert(check_model<FastEmccd<float>>() && check_model<FastEmccd<double>>());

}  // namespace smlm::camera
