// The shared kernel of the Gaussian family: an elliptical, axis-aligned Gaussian is the product of
// two 1-D factors, h(i, j) = e_x(j) · e_y(i), so a window needs O(width + height) transcendental
// calls (erfc or exp), not O(width · height).
//
// 1-D factors over pixel k, centre c, width σ (pixel k covers [k, k+1)):
//   sampled at the centre:  e(k) = exp(−u²/(2σ²)) / (√(2π) σ),  u = k + ½ − c
//       ∂e/∂c = e · u/σ²,   ∂e/∂σ = e · (u² − σ²)/σ³
//   integrated over the pixel (the model ThunderSTORM simulates and fits; Ovesný et al.,
//   Bioinformatics 30:2389, 2014, and Smith et al., Nat. Methods 7:373, 2010):
//       e(k) = ½[erf(b_{k+1}) − erf(b_k)],  b_k = (k − c)/(√2 σ)
//       ∂e/∂c = [exp(−b_k²) − exp(−b_{k+1}²)] / (√(2π) σ)
//       ∂e/∂σ = [b_k exp(−b_k²) − b_{k+1} exp(−b_{k+1}²)] / (√π σ)
//   Each pixel boundary's erfc/exp is computed once and shared by the two pixels it separates
//   (n + 1 calls for n pixels). The difference of erf is formed from erfc(|b|) on the side of the
//   tail, so far pixels keep their relative accuracy instead of cancelling to 0 or below.
//
// Windows are processed in blocks of `block` × `block` pixels with the factors on the stack, so
// nothing is allocated whatever the window size; a window of at most block columns computes each
// factor once.
//
// add_to_frame (the simulator's path) of the integrated model in float evaluates the boundary
// erfc values in xsimd batches (add_integrated_simd); add_to_frame_ref is its scalar definition,
// gaussian_factors with std::erfc. Boundaries with |b| < 2/3 keep std::erfc (bit for bit the
// scalar values: add_to must match evaluate to 8 ε of the peak, and on wide spots xsimd's few-ulp
// error near erfc ≈ 1 exceeds that). In the tails xsimd 8.1's float erfc gives pixel masses
// within 3.4·2^-24 of the exact ones where std::erfc is within 1.7·2^-24, so the two differ by at
// most 4·2^-24 per factor (E ≤ 1): the frames agree to 10·2^-24 · photons per pixel
// (tests/psf/integrated_simd_test.cpp). Double keeps the scalar path: xsimd 8.1's double erfc is
// only within ~6e-9 relative (~70·2^-53 absolute) of std::erfc, far from double's own accuracy.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <type_traits>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::psf::detail {

enum class sampling { centre, integrated };

inline constexpr std::ptrdiff_t block = 32;

/// 1-D factors e, ∂e/∂c, ∂e/∂σ over pixels k0 … k0 + n − 1 (n ≤ block); a null derivative
/// pointer skips that derivative. Each value depends only on (k, c, σ), not on k0: the window
/// origin cannot change a pixel's value.
template <sampling S, class T>
void gaussian_factors(T c, T sigma, std::ptrdiff_t k0, std::ptrdiff_t n, T* e, T* de_dc,
                      T* de_ds) noexcept {
  if constexpr (S == sampling::centre) {
    const T inv_var = T(1) / (sigma * sigma);
    const T norm = std::numbers::inv_sqrtpi_v<T> * std::numbers::sqrt2_v<T> / (T(2) * sigma);
    for (std::ptrdiff_t m = 0; m < n; ++m) {
      const T u = (static_cast<T>(k0 + m) + T(0.5)) - c;
      const T g = norm * std::exp(T(-0.5) * u * u * inv_var);
      e[m] = g;
      if (de_dc) de_dc[m] = g * u * inv_var;
      if (de_ds) de_ds[m] = g * (u * u * inv_var - T(1)) / sigma;
    }
  } else {
    const T s = T(1) / (std::numbers::sqrt2_v<T> * sigma);
    const bool derivatives = de_dc || de_ds;
    const T dc_norm = s * std::numbers::inv_sqrtpi_v<T>;            // 1/(√(2π) σ)
    const T ds_norm = std::numbers::inv_sqrtpi_v<T> / sigma;        // 1/(√π σ)
    T b0 = (static_cast<T>(k0) - c) * s;
    T t0 = std::erfc(std::abs(b0));
    T g0 = derivatives ? std::exp(-b0 * b0) : T(0);
    for (std::ptrdiff_t m = 0; m < n; ++m) {
      const T b1 = (static_cast<T>(k0 + m + 1) - c) * s;
      const T t1 = std::erfc(std::abs(b1));
      T v;
      if (b0 >= 0) {
        v = T(0.5) * (t0 - t1);  // both boundaries right of centre: upper tails
      } else if (b1 <= 0) {
        v = T(0.5) * (t1 - t0);  // both left of centre: lower tails
      } else {
        v = T(1) - T(0.5) * (t0 + t1);  // the pixel straddles the centre (or b is NaN)
      }
      e[m] = v < 0 ? T(0) : v;  // NaN passes through
      if (derivatives) {
        const T g1 = std::exp(-b1 * b1);
        if (de_dc) de_dc[m] = dc_norm * (g0 - g1);
        if (de_ds) de_ds[m] = ds_norm * (b0 * g0 - b1 * g1);
        g0 = g1;
      }
      b0 = b1;
      t0 = t1;
    }
  }
}

/// An axis-aligned elliptical Gaussian spot: centre, widths (pixels), photons, background.
template <class T>
struct elliptic_spot {
  T x, y, sigma_x, sigma_y, photons, background;
};

/// Writes (Accumulate = false: out = background + photons · e_x e_y) or adds
/// (Accumulate = true: out += photons · e_x e_y) over window w; out points at the window's
/// pixel (0, 0), rows `stride` elements apart.
template <sampling S, bool Accumulate, class T>
void fill_values(const elliptic_spot<T>& g, Window w, T* out, std::ptrdiff_t stride) noexcept {
  T ex[block], ey[block];
  for (std::ptrdiff_t by = 0; by < w.height; by += block) {
    const std::ptrdiff_t bh = std::min(block, w.height - by);
    gaussian_factors<S>(g.y, g.sigma_y, w.y0 + by, bh, ey, static_cast<T*>(nullptr),
                        static_cast<T*>(nullptr));
    for (std::ptrdiff_t bx = 0; bx < w.width; bx += block) {
      const std::ptrdiff_t bw = std::min(block, w.width - bx);
      gaussian_factors<S>(g.x, g.sigma_x, w.x0 + bx, bw, ex, static_cast<T*>(nullptr),
                          static_cast<T*>(nullptr));
      for (std::ptrdiff_t r = 0; r < bh; ++r) {
        T* row = out + (by + r) * stride + bx;
        const T a = g.photons * ey[r];
        if constexpr (Accumulate) {
          for (std::ptrdiff_t c = 0; c < bw; ++c) row[c] += a * ex[c];
        } else {
          for (std::ptrdiff_t c = 0; c < bw; ++c) row[c] = g.background + a * ex[c];
        }
      }
    }
  }
}

/// A destination plane; data == nullptr means "not wanted".
template <class T>
struct plane_ref {
  T* data = nullptr;
  std::ptrdiff_t stride = 0;
  T* row(std::ptrdiff_t r) const noexcept { return data + r * stride; }
};

template <class T>
plane_ref<T> ref_of(ImageView<T> v) noexcept {
  return {v.data(), v.outerStride()};
}

/// Which derivative planes to fill. `width` is the derivative along a direction in (σx, σy):
/// ∂mu/∂w = wx · ∂mu/∂σx + wy · ∂mu/∂σy (wx = wy = 1: an isotropic σ; wx = σx'(z), wy = σy'(z):
/// the axial position by the chain rule).
template <class T>
struct derivative_planes {
  plane_ref<T> x, y, width, photons, background;
  T width_wx = 1, width_wy = 1;
};

/// mu = background + photons · e_x e_y and the requested derivative planes over window w.
/// mu is computed exactly as fill_values computes it, so both agree bit for bit.
template <sampling S, class T>
void fill_with_derivatives(const elliptic_spot<T>& g, Window w, plane_ref<T> mu,
                           const derivative_planes<T>& d) noexcept {
  const bool want_width = d.width.data != nullptr;
  T ex[block], dex_dc[block], dex_ds[block], ey[block], dey_dc[block], dey_ds[block];
  for (std::ptrdiff_t by = 0; by < w.height; by += block) {
    const std::ptrdiff_t bh = std::min(block, w.height - by);
    gaussian_factors<S>(g.y, g.sigma_y, w.y0 + by, bh, ey, dey_dc, want_width ? dey_ds : nullptr);
    for (std::ptrdiff_t bx = 0; bx < w.width; bx += block) {
      const std::ptrdiff_t bw = std::min(block, w.width - bx);
      gaussian_factors<S>(g.x, g.sigma_x, w.x0 + bx, bw, ex, dex_dc, want_width ? dex_ds : nullptr);
      for (std::ptrdiff_t r = 0; r < bh; ++r) {
        const std::ptrdiff_t row = by + r;
        const T a = g.photons * ey[r];
        {
          T* out = mu.row(row) + bx;
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = g.background + a * ex[c];
        }
        if (d.x.data) {
          T* out = d.x.row(row) + bx;
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = a * dex_dc[c];
        }
        if (d.y.data) {
          T* out = d.y.row(row) + bx;
          const T ay = g.photons * dey_dc[r];
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = ay * ex[c];
        }
        if (want_width) {
          T* out = d.width.row(row) + bx;
          const T ax = a * d.width_wx;
          const T ay = g.photons * d.width_wy * dey_ds[r];
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = ax * dex_ds[c] + ay * ex[c];
        }
        if (d.photons.data) {
          T* out = d.photons.row(row) + bx;
          const T ay = ey[r];
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = ay * ex[c];
        }
        if (d.background.data) {
          T* out = d.background.row(row) + bx;
          for (std::ptrdiff_t c = 0; c < bw; ++c) out[c] = T(1);
        }
      }
    }
  }
}

/// The three entry points every Gaussian-family model forwards to.
template <sampling S, class T>
void evaluate_values(const elliptic_spot<T>& g, Window w, ImageView<T> mu) SMLM_NOEXCEPT {
  SMLM_ASSERT(mu.rows() == w.height && mu.cols() == w.width,
              "psf evaluate: mu must be window.height × window.width");
  fill_values<S, false>(g, w, mu.data(), mu.outerStride());
}

/// Fills mu and the Jacobian, planes x, y, [z,] photons, background; with has_z, plane 2 receives
/// the width derivative with weights (wx, wy) = (σx'(z), σy'(z)).
template <sampling S, class T>
void evaluate_jacobian(const elliptic_spot<T>& g, Window w, ImageView<T> mu,
                       JacobianView<T> jacobian, bool has_z, T wx, T wy) SMLM_NOEXCEPT {
  const int n = has_z ? 5 : 4;
  SMLM_ASSERT(mu.rows() == w.height && mu.cols() == w.width,
              "psf evaluate: mu must be window.height × window.width");
  SMLM_ASSERT(jacobian.num_planes() == n && jacobian.height() == w.height &&
                  jacobian.width() == w.width,
              "psf evaluate: the Jacobian needs num_params planes of window.height × window.width");
  derivative_planes<T> d;
  d.x = ref_of(jacobian.plane(0));
  d.y = ref_of(jacobian.plane(1));
  if (has_z) {
    d.width = ref_of(jacobian.plane(2));
    d.width_wx = wx;
    d.width_wy = wy;
  }
  d.photons = ref_of(jacobian.plane(n - 2));
  d.background = ref_of(jacobian.plane(n - 1));
  fill_with_derivatives<S>(g, w, ref_of(mu), d);
}

/// mu, the 4-plane Jacobian of an isotropic 2D model, and ∂mu/∂σ (σx = σy = σ).
template <sampling S, class T>
void evaluate_jacobian_sigma(const elliptic_spot<T>& g, Window w, ImageView<T> mu,
                             JacobianView<T> jacobian, ImageView<T> d_sigma) SMLM_NOEXCEPT {
  SMLM_ASSERT(mu.rows() == w.height && mu.cols() == w.width,
              "psf evaluate: mu must be window.height × window.width");
  SMLM_ASSERT(jacobian.num_planes() == 4 && jacobian.height() == w.height &&
                  jacobian.width() == w.width,
              "psf evaluate: the Jacobian needs num_params planes of window.height × window.width");
  SMLM_ASSERT(d_sigma.rows() == w.height && d_sigma.cols() == w.width,
              "psf evaluate: d_mu_d_sigma_px must be window.height × window.width");
  derivative_planes<T> d;
  d.x = ref_of(jacobian.plane(0));
  d.y = ref_of(jacobian.plane(1));
  d.width = ref_of(d_sigma);
  d.photons = ref_of(jacobian.plane(2));
  d.background = ref_of(jacobian.plane(3));
  fill_with_derivatives<S>(g, w, ref_of(mu), d);
}

#if !defined(SMLM_NO_SIMD)
/// Pixel masses e[0 … n) of the integrated model over pixels k0 … k0 + n − 1 (n ≤ block), as
/// gaussian_factors<integrated> computes them without derivatives (same boundaries b_k, same
/// choice of tail), with the n + 1 erfc(|b_k|) in xsimd batches. e must hold n rounded up to
/// whole batches (block_simd); the lanes past n are garbage.
inline constexpr std::ptrdiff_t simd_lanes = static_cast<std::ptrdiff_t>(xsimd::batch<float>::size);
inline constexpr std::ptrdiff_t block_simd = block + simd_lanes;

inline void integrated_factors_simd(float c, float sigma, std::ptrdiff_t k0, std::ptrdiff_t n,
                                    float* e) noexcept {
  using B = xsimd::batch<float>;
  constexpr std::ptrdiff_t L = simd_lanes;
  constexpr float central = 2.0f / 3.0f;
  // Boundaries 0 … n, in whole batches, plus the one entry past them that the shifted loads of
  // the last batch of masses read (its lane is discarded).
  alignas(64) float b[block + 2 * L], t[block + 2 * L];
  alignas(64) float iota[L];
  for (std::ptrdiff_t l = 0; l < L; ++l) iota[l] = static_cast<float>(l);
  const B lane = B::load_aligned(iota);
  const B s(1.0f / (std::numbers::sqrt2_v<float> * sigma));
  const B cb(c);
  std::ptrdiff_t m = 0;
  for (; m <= n; m += L) {
    const B bk = (B(static_cast<float>(k0 + m)) + lane - cb) * s;  // k0 + m + l exact in float
    bk.store_aligned(b + m);
    const B x = xsimd::abs(bk);
    xsimd::erfc(x).store_aligned(t + m);
    // Boundaries within 2/3 of the centre (where xsimd switches to its tail formula) keep
    // std::erfc: there erfc ≥ 0.35 and the masses are differences of such values, so xsimd's
    // few-ulp error would be a few ulp of the peak pixel (wide spots) against evaluate, which
    // add_to must match to 8 ε of the peak (smlm/testing/psf_conformance.hpp).
  }
  {
    // They are contiguous (b_k increases with k): the candidates around c ± (2/3)·√2 σ, each
    // tested on its own b_k.
    const float reach = central / s.get(0);
    const float last = static_cast<float>(n);  // clamped in float: reach may be huge
    const auto lo = static_cast<std::ptrdiff_t>(
        std::clamp(std::floor(c - reach) - static_cast<float>(k0) - 1, 0.0f, last + 1));
    const auto hi = static_cast<std::ptrdiff_t>(
        std::clamp(std::ceil(c + reach) - static_cast<float>(k0) + 1, -1.0f, last));
    for (std::ptrdiff_t j = lo; j <= hi; ++j) {
      const float bj = std::abs(b[j]);
      if (bj < central) t[j] = std::erfc(bj);
    }
  }
  b[m] = 0;
  t[m] = 1;
  const B half(0.5f), one(1.0f), zero(0.0f);
  for (std::ptrdiff_t j = 0; j < n; j += L) {
    const B b0 = B::load_aligned(b + j), b1 = B::load_unaligned(b + j + 1);
    const B t0 = B::load_aligned(t + j), t1 = B::load_unaligned(t + j + 1);
    const B v = xsimd::select(b0 >= zero, half * (t0 - t1),
                              xsimd::select(b1 <= zero, half * (t1 - t0), one - half * (t0 + t1)));
    xsimd::select(v < zero, zero, v).store_unaligned(e + j);  // NaN passes through
  }
}

/// fill_values<integrated, true> for float with the factors from integrated_factors_simd; the
/// accumulation (row[c] += (photons · e_y) · e_x) is the scalar one's, operation for operation.
inline void add_integrated_simd(const elliptic_spot<float>& g, Window w, float* out,
                                std::ptrdiff_t stride) noexcept {
  float ex[block_simd], ey[block_simd];
  for (std::ptrdiff_t by = 0; by < w.height; by += block) {
    const std::ptrdiff_t bh = std::min(block, w.height - by);
    integrated_factors_simd(g.y, g.sigma_y, w.y0 + by, bh, ey);
    for (std::ptrdiff_t bx = 0; bx < w.width; bx += block) {
      const std::ptrdiff_t bw = std::min(block, w.width - bx);
      integrated_factors_simd(g.x, g.sigma_x, w.x0 + bx, bw, ex);
      for (std::ptrdiff_t r = 0; r < bh; ++r) {
        float* row = out + (by + r) * stride + bx;
        const float a = g.photons * ey[r];
        for (std::ptrdiff_t c = 0; c < bw; ++c) row[c] += a * ex[c];
      }
    }
  }
}
#endif

/// The scalar definition of add_to_frame: frame += photons · h over the support window
/// (half-width `radius`) clipped to the frame. A spot whose position or radius is not finite has
/// no window and is not rendered.
template <sampling S, class T>
void add_to_frame_ref(const elliptic_spot<T>& g, T radius, ImageView<T> frame) noexcept {
  const Window w = clip(window_around(g.x, g.y, radius), frame.cols(), frame.rows());
  if (w.empty()) return;
  fill_values<S, true>(g, w, frame.data() + w.y0 * frame.outerStride() + w.x0,
                       frame.outerStride());
}

/// add_to_frame_ref, with the integrated model's erfc in xsimd batches for float (the other
/// cases, and SMLM_NO_SIMD builds, are add_to_frame_ref).
template <sampling S, class T>
void add_to_frame(const elliptic_spot<T>& g, T radius, ImageView<T> frame) noexcept {
#if !defined(SMLM_NO_SIMD)
  if constexpr (S == sampling::integrated && std::is_same_v<T, float>) {
    const Window w = clip(window_around(g.x, g.y, radius), frame.cols(), frame.rows());
    if (w.empty()) return;
    add_integrated_simd(g, w, frame.data() + w.y0 * frame.outerStride() + w.x0,
                        frame.outerStride());
    return;
  }
#endif
  add_to_frame_ref<S>(g, radius, frame);
}

}  // namespace smlm::psf::detail
