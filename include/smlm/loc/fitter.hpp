// One generic Levenberg–Marquardt fitter over <psf::Model, NoiseModel>: weighted or unweighted
// least squares, or Poisson maximum likelihood, of any PSF model's parameters (x, y, [z,] photons,
// background, and σ when the model has the SigmaModel hook) to one window of a frame in photons
// (after camera::to_photons). Nothing in it knows which PSF or camera it is given.
//
// Objectives (d the data, mu the model, both photons; Var[d] = excess·mu + read_variance, see
// noise_model.hpp):
//   mle   the negative log-likelihood of the shifted, scaled Poisson z = (d + o)/excess with mean
//         m = (mu + o)/excess, o = read_variance/excess, written as the deviance
//         D = 2 Σ [m − z + z ln(z/m)] (z clipped at 0: a negative photon estimate carries no
//         counts). For the ideal camera this is the Poisson MLE of Smith et al. (Nat. Methods
//         7:373, 2010) and Laurence & Chromy (Nat. Methods 7:338, 2010).
//   lsq   unweighted least squares Σ (d − mu)² (the estimator of Mortensen et al.'s LSQ bound).
//   wlsq  weighted least squares Σ (d − mu)²/v, v = max(excess·d + read_variance, excess): the
//         variance estimated from the data (Neyman's χ², ThunderSTORM's weighted LSQ), fixed
//         during the fit so the objective is a true least-squares one. Data-based weights favour
//         pixels that fluctuated low, so background and photons come out biased low at low
//         counts (about −35 % in background at 10 photons per pixel in a 7 × 7 window); prefer
//         mle, whose estimates are unbiased (tests/loc/fitter_statistics_test.cpp).
// Iteration (Marquardt, SIAM J. Appl. Math. 11:431, 1963): with gradient g and the Gauss–Newton /
// Fisher-scoring matrix H (mle: H = Σ ∂m ∂mᵀ/m, the expected Hessian; lsq: H = Σ w ∂mu ∂muᵀ),
// solve (H + λ diag H) δ = −g by Cholesky, evaluate the model with its Jacobian at θ + δ and
// accept when the objective decreases (λ /= 10), else keep θ (λ *= 10). One model evaluation
// with Jacobian per iteration: the trial's Jacobian becomes the next iteration's when accepted.
// Steps that make photons ≤ 0, σ ≤ 0, or m ≤ 0 at some pixel (mle) are rejected like uphill ones.
// Converged when every |δ_k| of an accepted step, or of a rejected one while λ ≤ 1, is below
// tolerance × scale_k (scale 1 px for x, y, σ; 10 nm for z; max(|θ_k|, 1) for photons and
// background), or, after a rejection at larger λ, when the undamped Gauss–Newton step is below
// max(10 × tolerance, √ε) × scale_k (nothing can improve the objective at the model's precision).
// Status per fit (Gpufit's FitState): converged, max_iterations, singular (λ grew past 1e12 without
// a positive-definite system), out_of_window (the converged position left the window), not_finite
// (NaN/Inf in the data or the model).
//
// Kernels are noexcept and allocate nothing: the caller sizes a FitWorkspace once for its largest
// window and reuses it for every fit (one per thread).
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/loc/noise_model.hpp>
#include <smlm/psf/psf.hpp>

#if !defined(SMLM_NO_SIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace smlm::loc {

enum class estimator : std::uint8_t { mle, lsq, wlsq };
enum class fit_status : std::uint8_t { converged, max_iterations, singular, out_of_window, not_finite };

constexpr std::string_view to_string(fit_status s) noexcept {
  switch (s) {
    case fit_status::converged: return "converged";
    case fit_status::max_iterations: return "max_iterations";
    case fit_status::singular: return "singular";
    case fit_status::out_of_window: return "out_of_window";
    case fit_status::not_finite: return "not_finite";
  }
  return "unknown";
}

struct FitOptions {
  estimator method = estimator::mle;
  bool fit_sigma = false;   ///< free σ (needs psf::SigmaModel); otherwise the model's sigma_px
  int max_iterations = 40;
  double tolerance = 1e-4;  ///< relative step size at convergence (see the header): 1e-4 px is
                            ///< 0.2 % of the √CRLB of a 1,000-photon spot
  double initial_lambda = 1e-3;

  bool valid() const noexcept { return max_iterations >= 1 && tolerance > 0 && initial_lambda > 0; }
};

/// At most the PSF's parameters plus σ.
inline constexpr int max_fit_params = 6;

template <class T>
struct FitResult {
  psf::Spot<T> spot;     ///< fitted x, y, [z,] photons, background
  T sigma_px = 0;        ///< fitted σ, or the model's fixed one
  fit_status status = fit_status::not_finite;
  int iterations = 0;
  double objective = 0;  ///< deviance (mle) or (weighted) sum of squares at the result
};

/// Caller-owned scratch space for windows of up to max_pixels pixels.
template <class T>
struct FitWorkspace {
  std::vector<T> mu, jacobian, d_sigma, data, weight, offset;
  /// mu + o and 1/(mu + o) per pixel at the current θ and at the trial (MLE objective changes).
  std::vector<double> shifted, inv_shifted, trial_shifted, trial_inv_shifted;
  std::ptrdiff_t max_pixels = 0;

  FitWorkspace() = default;
  explicit FitWorkspace(std::ptrdiff_t pixels) { resize(pixels); }
  void resize(std::ptrdiff_t pixels) {
    const auto n = static_cast<std::size_t>(pixels);
    mu.assign(n, T(0));
    jacobian.assign(n * 5, T(0));
    d_sigma.assign(n, T(0));
    data.assign(n, T(0));
    weight.assign(n, T(0));
    offset.assign(n, T(0));
    for (auto* v : {&shifted, &inv_shifted, &trial_shifted, &trial_inv_shifted}) v->assign(n, 0.0);
    max_pixels = pixels;
  }
};

namespace detail {

/// θ as a flat vector: the PSF's parameters in Jacobian order, then σ when free.
template <psf::Model P>
struct ParamLayout {
  static constexpr int psf_params = P::num_params;
  int n = psf_params;  // + 1 with σ free
  static std::array<double, max_fit_params> pack(const psf::Spot<typename P::scalar>& s, double sigma) noexcept {
    std::array<double, max_fit_params> t{};
    t[0] = s.x_px;
    t[1] = s.y_px;
    if constexpr (P::has_z) t[2] = s.z_nm;
    t[psf::param_index<P>(psf::param::photons)] = s.photons;
    t[psf::param_index<P>(psf::param::background)] = s.background;
    t[psf_params] = sigma;
    return t;
  }
  static psf::Spot<typename P::scalar> spot(const std::array<double, max_fit_params>& t) noexcept {
    using T = typename P::scalar;
    psf::Spot<T> s;
    s.x_px = static_cast<T>(t[0]);
    s.y_px = static_cast<T>(t[1]);
    if constexpr (P::has_z) s.z_nm = static_cast<T>(t[2]);
    s.photons = static_cast<T>(t[psf::param_index<P>(psf::param::photons)]);
    s.background = static_cast<T>(t[psf::param_index<P>(psf::param::background)]);
    return s;
  }
};

/// mu and the Jacobian planes of P at θ over window w into ws (σ plane when fit_sigma).
template <psf::Model P>
void evaluate_model(P& model, const std::array<double, max_fit_params>& theta, bool fit_sigma, psf::Window w,
                    FitWorkspace<typename P::scalar>& ws) noexcept {
  using T = typename P::scalar;
  const auto s = ParamLayout<P>::spot(theta);
  ImageView<T> mu = make_view(ws.mu.data(), w.height, w.width);
  psf::JacobianView<T> jac(ws.jacobian.data(), P::num_params, w);
  if constexpr (psf::SigmaModel<P>) {
    if (fit_sigma) {
      model.sigma_px = static_cast<T>(theta[P::num_params]);
      model.evaluate(s, w, mu, jac, make_view(ws.d_sigma.data(), w.height, w.width));
      return;
    }
  }
  model.evaluate(s, w, mu, jac);
}

/// Cholesky solve of the n × n SPD system A x = b (A row-major with row stride M, overwritten;
/// n ≤ M); false when not positive definite. M is max_fit_params for the single-emitter fitter,
/// max_multi_params for the multi-emitter one.
template <std::size_t M, std::size_t MM>
bool cholesky_solve(std::array<double, MM>& a, int n, std::array<double, M>& b) noexcept {
  static_assert(MM == M * M, "cholesky_solve: the matrix must be M x M");
  constexpr int s = static_cast<int>(M);
  auto at = [&](int i, int j) -> double& { return a[static_cast<std::size_t>(i * s + j)]; };
  auto v_at = [&](int i) -> double& { return b[static_cast<std::size_t>(i)]; };
  for (int j = 0; j < n; ++j) {
    double d = at(j, j);
    for (int k = 0; k < j; ++k) d -= at(j, k) * at(j, k);
    if (!(d > 0)) return false;
    const double l = std::sqrt(d);
    at(j, j) = l;
    for (int i = j + 1; i < n; ++i) {
      double v = at(i, j);
      for (int k = 0; k < j; ++k) v -= at(i, k) * at(j, k);
      at(i, j) = v / l;
    }
  }
  for (int i = 0; i < n; ++i) {
    double v = v_at(i);
    for (int k = 0; k < i; ++k) v -= at(i, k) * v_at(k);
    v_at(i) = v / at(i, i);
  }
  for (int i = n - 1; i >= 0; --i) {
    double v = v_at(i);
    for (int k = i + 1; k < n; ++k) v -= at(k, i) * v_at(k);
    v_at(i) = v / at(i, i);
  }
  return true;
}

/// ln(1 + u) for |u| ≤ 1/32 by its alternating series to u⁸ (truncation error < u⁹/9 ≈ 4e-15·u
/// relative), std::log1p beyond. The MLE compares objectives through their change, a sum of
/// z·ln(m'/m) with m'/m near 1 once the fit is close: this avoids a full-precision logarithm per
/// pixel and iteration without losing accuracy.
inline double log1p_near_zero(double u) noexcept {
  if (!(std::abs(u) <= 1.0 / 32)) return std::log1p(u);
  return u * (1 - u * (1.0 / 2 - u * (1.0 / 3 - u * (1.0 / 4 - u * (1.0 / 5 - u * (1.0 / 6 - u * (1.0 / 7 - u / 8)))))));
}

/// Objective, gradient (of half the objective) and H at the model in ws.mu (and its Jacobian);
/// false when some m ≤ 0 (mle). With `change` (mle only) the objective is the change of the
/// deviance from the current θ, whose mu + o and 1/(mu + o) are in ws.shifted / ws.inv_shifted;
/// the trial's are written to ws.trial_shifted / ws.trial_inv_shifted either way.
struct Normal {
  double objective = 0;
  std::array<double, max_fit_params> g{};
  std::array<double, max_fit_params * max_fit_params> h{};
  bool finite = true;
};

/// One pixel's objective term (added to obj), gradient coefficient r and H weight w, in terms
/// of ∂mu, as in the header; writes the trial mu + o and 1/(mu + o) (mle). False when m ≤ 0 or
/// NaN (mle). The reference loop and the SIMD kernel's scalar tail share it.
template <class T>
bool pixel_terms(estimator method, bool change, std::size_t p, FitWorkspace<T>& ws, double& obj, double& r,
                 double& w) noexcept {
  const double mu = ws.mu[p];
  if (method == estimator::mle) {
    const double s = ws.weight[p];  // 1/excess
    const double z = ws.data[p];
    const double shifted = mu + ws.offset[p];
    if (!(shifted > 0)) return false;
    const double inv = 1 / shifted;  // the one division per pixel: z/m = z·inv/s
    ws.trial_shifted[p] = shifted;
    ws.trial_inv_shifted[p] = inv;
    if (change) {
      // D' − D = 2 Σ [s·(shifted' − shifted) − z·ln(shifted'/shifted)]
      obj += s * (shifted - ws.shifted[p]) - (z > 0 ? z * log1p_near_zero(shifted * ws.inv_shifted[p] - 1) : 0.0);
    } else {
      obj += s * shifted - z + (z > 0 ? z * std::log(z * inv / s) : 0.0);
    }
    r = s - z * inv;
    w = s * inv;
  } else {
    const double w0 = ws.weight[p];
    const double e = mu - ws.data[p];
    obj += w0 * e * e;
    r = w0 * e;
    w = w0;
  }
  return true;
}

/// The plain scalar reference of the normal-equation accumulation (the fast path's `_ref` twin).
template <int NParams, class T>
bool accumulate_n_ref(estimator method, int psf_params, bool fit_sigma, std::ptrdiff_t pixels, FitWorkspace<T>& ws,
                  Normal& out, bool change) noexcept {
  constexpr int n_params = NParams;  // compile-time, so the normal-matrix loops unroll
  out = Normal{};
  const T* planes[max_fit_params] = {};
  for (int k = 0; k < psf_params; ++k) planes[k] = ws.jacobian.data() + k * pixels;
  if (fit_sigma) planes[psf_params] = ws.d_sigma.data();
  double obj = 0;
  for (std::ptrdiff_t i = 0; i < pixels; ++i) {
    const auto p = static_cast<std::size_t>(i);
    double r, w;  // gradient coefficient and H weight, in terms of ∂mu
    if (!pixel_terms(method, change, p, ws, obj, r, w)) return false;
    double dm[max_fit_params];
    for (int k = 0; k < n_params; ++k) dm[k] = planes[k][i];
    for (int k = 0; k < n_params; ++k) {
      out.g[k] += r * dm[k];
      const double wk = w * dm[k];
      for (int l = 0; l <= k; ++l) out.h[k * max_fit_params + l] += wk * dm[l];
    }
  }
  for (int k = 0; k < n_params; ++k)
    for (int l = 0; l < k; ++l) out.h[l * max_fit_params + k] = out.h[k * max_fit_params + l];
  out.objective = method == estimator::mle ? 2 * obj : obj;
  out.finite = std::isfinite(out.objective);
  for (int k = 0; k < n_params; ++k) out.finite = out.finite && std::isfinite(out.g[k]);
  return true;
}

template <class T>
bool accumulate_ref(estimator method, int n_params, int psf_params, bool fit_sigma, std::ptrdiff_t pixels,
                    FitWorkspace<T>& ws, Normal& out, bool change) noexcept {
  switch (n_params) {
    case 4: return accumulate_n_ref<4>(method, psf_params, fit_sigma, pixels, ws, out, change);
    case 5: return accumulate_n_ref<5>(method, psf_params, fit_sigma, pixels, ws, out, change);
    default: return accumulate_n_ref<6>(method, psf_params, fit_sigma, pixels, ws, out, change);
  }
}

#if !defined(SMLM_NO_SIMD)
/// The same sums as accumulate_n_ref in xsimd batches of double over the flat window with a
/// scalar tail, branch-free per pixel, the normal matrix in NParams·(NParams+1)/2 + NParams lane
/// accumulators. Mode: lsq (also wlsq), mle_change (the objective change, the per-iteration
/// case), mle_full (the deviance itself). Logarithms: the ln(1 + u) series where |u| ≤ 1/32 as
/// in the reference, else xsimd::log1p / xsimd::log (both within a few ulp of std::), evaluated
/// only for batches that need them. Only the order of the additions and those ulp differ from
/// the reference. Returns false when some m ≤ 0 or is NaN, and leaves the answer to the
/// reference then.
enum class accumulate_mode { lsq, mle_change, mle_full };

template <int NParams, accumulate_mode Mode, class T>
bool accumulate_simd(std::ptrdiff_t pixels, FitWorkspace<T>& ws, const T* const* planes, Normal& out) noexcept {
  using B = xsimd::batch<double>;
  constexpr std::ptrdiff_t L = static_cast<std::ptrdiff_t>(B::size);
  constexpr int NH = NParams * (NParams + 1) / 2;
  B g[NParams], h[NH], obj(0.0);
  for (auto& v : g) v = B(0.0);
  for (auto& v : h) v = B(0.0);
  B bad(0.0);  // lanes ≠ 0 where the reference's branches are needed
  const auto load = [](const T* p) noexcept {
    if constexpr (std::is_same_v<T, double>) {
      return B::load_unaligned(p);
    } else {
      alignas(64) double tmp[L];
      for (std::ptrdiff_t k = 0; k < L; ++k) tmp[k] = static_cast<double>(p[k]);
      return B::load_aligned(tmp);
    }
  };
  constexpr bool Mle = Mode != accumulate_mode::lsq;
  // Lane sums through memory (xsimd::hadd trips GCC 12's -Wuninitialized in its AVX-512 path).
  const auto lane_sum = [](const B& v) noexcept {
    alignas(64) double t[L];
    v.store_aligned(t);
    double sum = 0;
    for (std::ptrdiff_t k = 0; k < L; ++k) sum += t[k];
    return sum;
  };
  const B one(1.0), zero(0.0), limit(1.0 / 32);
  std::ptrdiff_t i = 0;
  for (; i + L <= pixels; i += L) {
    const B mu = load(ws.mu.data() + i);
    B r, w;
    if constexpr (Mle) {
      const B s = load(ws.weight.data() + i), z = load(ws.data.data() + i);
      const B shifted = mu + load(ws.offset.data() + i);
      const B inv = one / shifted;
      shifted.store_unaligned(ws.trial_shifted.data() + i);
      inv.store_unaligned(ws.trial_inv_shifted.data() + i);
      bad = bad | xsimd::select(shifted > zero, zero, one);
      if constexpr (Mode == accumulate_mode::mle_change) {
        const B u = shifted * B::load_unaligned(ws.inv_shifted.data() + i) - one;
        const auto near = xsimd::abs(u) <= limit;
        B lg = u * (one - u * (B(1.0 / 2) - u * (B(1.0 / 3) - u * (B(1.0 / 4) - u * (B(1.0 / 5) - u * (B(1.0 / 6) - u * (B(1.0 / 7) - u / B(8.0))))))));
        if (!xsimd::all(near)) lg = xsimd::select(near, lg, xsimd::log1p(u));
        obj += s * (shifted - B::load_unaligned(ws.shifted.data() + i)) - xsimd::select(z > zero, z * lg, zero);
      } else {
        const B lg = xsimd::log(xsimd::select(z > zero, z * inv / s, one));
        obj += s * shifted - z + xsimd::select(z > zero, z * lg, zero);
      }
      r = s - z * inv;
      w = s * inv;
    } else {
      const B w0 = load(ws.weight.data() + i);
      const B e = mu - load(ws.data.data() + i);
      obj += w0 * e * e;
      r = w0 * e;
      w = w0;
    }
    B dm[NParams];
    for (int k = 0; k < NParams; ++k) dm[k] = load(planes[k] + i);
    int q = 0;
    for (int k = 0; k < NParams; ++k) {
      g[k] += r * dm[k];
      const B wk = w * dm[k];
      for (int l = 0; l <= k; ++l) h[q++] += wk * dm[l];
    }
  }
  if (xsimd::any(bad != B(0.0))) return false;
  double obj_tail = 0, g_tail[NParams] = {}, h_tail[NH] = {};
  for (; i < pixels; ++i) {
    const auto p = static_cast<std::size_t>(i);
    double r, w;
    if (!pixel_terms(Mle ? estimator::mle : estimator::lsq, Mode == accumulate_mode::mle_change, p, ws, obj_tail, r, w))
      return false;
    int q = 0;
    for (int k = 0; k < NParams; ++k) {
      const double dk = planes[k][i];
      g_tail[k] += r * dk;
      const double wk = w * dk;
      for (int l = 0; l <= k; ++l) h_tail[q++] += wk * static_cast<double>(planes[l][i]);
    }
  }
  out = Normal{};
  int q = 0;
  for (int k = 0; k < NParams; ++k) {
    out.g[k] = lane_sum(g[k]) + g_tail[k];
    for (int l = 0; l <= k; ++l, ++q) {
      out.h[k * max_fit_params + l] = lane_sum(h[q]) + h_tail[q];
      out.h[l * max_fit_params + k] = out.h[k * max_fit_params + l];
    }
  }
  const double objective = lane_sum(obj) + obj_tail;
  out.objective = Mle ? 2 * objective : objective;
  out.finite = std::isfinite(out.objective);
  for (int k = 0; k < NParams; ++k) out.finite = out.finite && std::isfinite(out.g[k]);
  return true;
}

template <int NParams, class T>
bool accumulate_fast_n(estimator method, int psf_params, bool fit_sigma, std::ptrdiff_t pixels, FitWorkspace<T>& ws,
                       Normal& out, bool change) noexcept {
  const T* planes[max_fit_params] = {};
  for (int k = 0; k < psf_params; ++k) planes[k] = ws.jacobian.data() + k * pixels;
  if (fit_sigma) planes[psf_params] = ws.d_sigma.data();
  if (method != estimator::mle) return accumulate_simd<NParams, accumulate_mode::lsq>(pixels, ws, planes, out);
  return change ? accumulate_simd<NParams, accumulate_mode::mle_change>(pixels, ws, planes, out)
                : accumulate_simd<NParams, accumulate_mode::mle_full>(pixels, ws, planes, out);
}
#endif

/// accumulate_ref's result through the SIMD kernel (unless SMLM_NO_SIMD); the reference decides
/// when some m ≤ 0 or is NaN.
template <class T>
bool accumulate(estimator method, int n_params, int psf_params, bool fit_sigma, std::ptrdiff_t pixels,
                FitWorkspace<T>& ws, Normal& out, bool change) noexcept {
#if !defined(SMLM_NO_SIMD)
  bool done = false;
  switch (n_params) {
    case 4: done = accumulate_fast_n<4>(method, psf_params, fit_sigma, pixels, ws, out, change); break;
    case 5: done = accumulate_fast_n<5>(method, psf_params, fit_sigma, pixels, ws, out, change); break;
    default: done = accumulate_fast_n<6>(method, psf_params, fit_sigma, pixels, ws, out, change); break;
  }
  if (done) return true;
#endif
  return accumulate_ref(method, n_params, psf_params, fit_sigma, pixels, ws, out, change);
}

/// Per pixel of the window, what the objective needs (see the header): mle: z = (d + o)/excess,
/// weight 1/excess, offset o = read_variance/excess; lsq: d and weight 1; wlsq: d and weight
/// 1/max(excess·d + read_variance, excess). False when some d is not finite. U is the
/// workspace's scalar (the single fitter's T, the multi-emitter fitter's double).
template <class T, class U>
bool data_terms(estimator method, ConstImageView<T> data, psf::Window window, const NoiseModel<T>& noise, U* z, U* weight,
                U* offset) noexcept {
  bool finite = true;
  for (std::ptrdiff_t y = 0; y < window.height; ++y) {
    for (std::ptrdiff_t x = 0; x < window.width; ++x) {
      const auto i = static_cast<std::size_t>(y * window.width + x);
      const PixelNoise<T> pn = noise.at(window.y0 + y, window.x0 + x);
      const double d = data(y, x);
      finite = finite && std::isfinite(d);
      if (method == estimator::mle) {
        const double s = 1.0 / static_cast<double>(pn.excess), o = static_cast<double>(pn.read_variance) * s;
        weight[i] = static_cast<U>(s);
        offset[i] = static_cast<U>(o);
        z[i] = static_cast<U>(std::max(s * (d + o), 0.0));
      } else {
        z[i] = static_cast<U>(d);
        weight[i] = method == estimator::lsq
                        ? U(1)
                        : static_cast<U>(1.0 / std::max(static_cast<double>(pn.excess) * d + pn.read_variance,
                                                        static_cast<double>(pn.excess)));
      }
    }
  }
  return finite;
}

}  // namespace detail

/// A starting point from the window alone: background = mean of the window's outer ring of
/// pixels, photons = Σ (d − background) (at least 1), position = centroid of max(d − background, 0)
/// (the window centre when that is empty). `data` is the window in photons; w its place in the frame.
template <class T>
psf::Spot<T> initial_guess(ConstImageView<T> data, psf::Window w) noexcept {
  psf::Spot<T> s;
  const std::ptrdiff_t h = data.rows(), wd = data.cols();
  double ring = 0;
  std::ptrdiff_t count = 0;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < wd; ++x)
      if (y == 0 || x == 0 || y == h - 1 || x == wd - 1) {
        ring += data(y, x);
        ++count;
      }
  const double bg = count ? std::max(ring / static_cast<double>(count), 0.0) : 0.0;
  double sum = 0, sx = 0, sy = 0, total = 0;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < wd; ++x) {
      const double v = static_cast<double>(data(y, x)) - bg;
      total += v;
      if (v <= 0) continue;
      sum += v;
      sx += v * (static_cast<double>(w.x0 + x) + 0.5);
      sy += v * (static_cast<double>(w.y0 + y) + 0.5);
    }
  s.background = static_cast<T>(bg);
  s.photons = static_cast<T>(std::max(total, 1.0));
  s.x_px = static_cast<T>(sum > 0 ? sx / sum : static_cast<double>(w.x0) + static_cast<double>(wd) / 2);
  s.y_px = static_cast<T>(sum > 0 ? sy / sum : static_cast<double>(w.y0) + static_cast<double>(h) / 2);
  return s;
}

/// Fits `model` to `data` (photons; frame pixels `window`) from `start` (see the header). The
/// model's sigma_px is the fixed σ, or the starting σ when options.fit_sigma.
template <psf::Model P>
FitResult<typename P::scalar> fit(const P& model, ConstImageView<typename P::scalar> data, psf::Window window,
                                  const NoiseModel<typename P::scalar>& noise, psf::Spot<typename P::scalar> start,
                                  const FitOptions& options, FitWorkspace<typename P::scalar>& ws) SMLM_NOEXCEPT {
  using T = typename P::scalar;
  using Layout = detail::ParamLayout<P>;
  SMLM_ASSERT(options.valid(), "loc::fit: invalid FitOptions");
  SMLM_ASSERT(data.rows() == window.height && data.cols() == window.width, "loc::fit: data must be window-sized");
  SMLM_ASSERT(window.size() <= ws.max_pixels, "loc::fit: workspace too small for the window");
  const bool fit_sigma = options.fit_sigma && psf::SigmaModel<P>;
  SMLM_ASSERT(fit_sigma == options.fit_sigma, "loc::fit: fit_sigma needs a PSF with the SigmaModel hook");
  const int n = P::num_params + (fit_sigma ? 1 : 0);
  const std::ptrdiff_t pixels = window.size();
  const int i_photons = psf::param_index<P>(psf::param::photons);
  const int i_bg = psf::param_index<P>(psf::param::background);

  FitResult<T> result;
  P local = model;
  double sigma0 = 0;
  if constexpr (psf::SigmaModel<P>) sigma0 = static_cast<double>(model.sigma_px);
  result.sigma_px = static_cast<T>(sigma0);
  result.spot = start;

  if (!detail::data_terms(options.method, data, window, noise, ws.data.data(), ws.weight.data(), ws.offset.data()))
    return result;

  std::array<double, max_fit_params> theta = Layout::pack(start, sigma0), scale{};
  auto scales = [&](const std::array<double, max_fit_params>& t) {
    for (int k = 0; k < n; ++k) scale[k] = 1;
    if constexpr (P::has_z) scale[2] = 10;
    scale[i_photons] = std::max(std::abs(t[i_photons]), 1.0);
    scale[i_bg] = std::max(std::abs(t[i_bg]), 1.0);
  };
  detail::Normal cur, trial;
  detail::evaluate_model(local, theta, fit_sigma, window, ws);
  const bool mle = options.method == estimator::mle;
  if (!detail::accumulate(options.method, n, P::num_params, fit_sigma, pixels, ws, cur, false) || !cur.finite) {
    result.status = fit_status::not_finite;
    return result;
  }
  double objective = cur.objective;
  if (mle) {
    std::swap(ws.shifted, ws.trial_shifted);
    std::swap(ws.inv_shifted, ws.trial_inv_shifted);
  }
  double lambda = options.initial_lambda;
  result.status = fit_status::max_iterations;
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    std::array<double, max_fit_params> delta{};
    bool solved = false;
    while (!solved) {
      auto a = cur.h;
      for (int k = 0; k < n; ++k) {
        a[k * max_fit_params + k] *= 1 + lambda;
        delta[k] = -cur.g[k];
      }
      solved = detail::cholesky_solve(a, n, delta);
      if (!solved) {
        lambda *= 10;
        if (lambda > 1e12) {
          result.status = fit_status::singular;
          break;
        }
      }
    }
    if (!solved) break;
    scales(theta);
    bool small = true;
    for (int k = 0; k < n; ++k) small = small && std::abs(delta[k]) < options.tolerance * scale[k];
    std::array<double, max_fit_params> next = theta;
    for (int k = 0; k < n; ++k) next[k] += delta[k];
    bool ok = next[i_photons] > 0 && (!fit_sigma || next[P::num_params] > 0);
    if (ok) {
      detail::evaluate_model(local, next, fit_sigma, window, ws);
      ok = detail::accumulate(options.method, n, P::num_params, fit_sigma, pixels, ws, trial, mle) && trial.finite;
    }
    const double change = mle ? trial.objective : trial.objective - objective;
    const bool accepted = ok && change <= 0;
    // A rejected step counts toward convergence only while it is close to the Gauss–Newton step
    // (λ ≤ 1): a tiny step forced by a large λ says nothing about the optimum.
    bool done = small && (accepted || lambda <= 1);
    if (small && !accepted && !done) {
      // Rejected tiny steps at large λ: at the optimum the objective's rounding noise (float
      // models: ~1e-7 of mu per pixel) can exceed any true decrease. Converged when the undamped
      // Gauss–Newton step is small too; otherwise λ keeps growing.
      auto a = cur.h;
      std::array<double, max_fit_params> gn{};
      for (int k = 0; k < n; ++k) gn[k] = -cur.g[k];
      // The bar is 10 × tolerance (and √ε of the model's scalar): no step can improve the
      // objective any more, so θ is the optimum to within the model's own rounding.
      const double bar = std::max(10 * options.tolerance, std::sqrt(static_cast<double>(std::numeric_limits<T>::epsilon())));
      if (detail::cholesky_solve(a, n, gn)) {
        done = true;
        for (int k = 0; k < n; ++k) done = done && std::abs(gn[k]) < bar * scale[k];
      }
    }
    if (accepted) {
      theta = next;
      cur = trial;
      objective += change;
      if (mle) {
        std::swap(ws.shifted, ws.trial_shifted);
        std::swap(ws.inv_shifted, ws.trial_inv_shifted);
      }
      lambda = std::max(lambda / 10, 1e-12);
    } else {
      lambda *= 10;
    }
    if (done) {
      result.status = fit_status::converged;
      ++it;
      break;
    }
    if (lambda > 1e12) {
      result.status = fit_status::singular;
      ++it;
      break;
    }
  }
  result.iterations = it;
  result.spot = Layout::spot(theta);
  if (fit_sigma) result.sigma_px = static_cast<T>(theta[P::num_params]);
  result.objective = objective;
  for (int k = 0; k < n; ++k)
    if (!std::isfinite(theta[k])) result.status = fit_status::not_finite;
  if (result.status == fit_status::converged &&
      !(theta[0] >= static_cast<double>(window.x0) && theta[0] <= static_cast<double>(window.x0 + window.width) &&
        theta[1] >= static_cast<double>(window.y0) && theta[1] <= static_cast<double>(window.y0 + window.height)))
    result.status = fit_status::out_of_window;
  return result;
}

}  // namespace smlm::loc
