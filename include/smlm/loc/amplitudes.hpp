// Photon counts of emitters at known positions: the joint linear least-squares fit of a frame by
// a uniform background and one PSF per emitter,
//     x(i, j) ≈ b + Σ_k N_k · h_k(i, j),
// h_k the model's pixel fractions for emitter k (psf::Model::evaluate with photons = 1, over its
// support window clipped to the frame). Positions come from elsewhere (a network's peaks); only
// the amplitudes N_k and the background b are unknown, so the fit is linear: the normal equations
//     [ n   sᵀ ] [ b ]   [ Σ x   ]
//     [ s   H  ] [ N ] = [ Σ h x ],    n = pixels,  s_k = Σ h_k,  H_kl = Σ h_k h_l,
// H summed over the overlap of the two windows, so H is sparse: an emitter couples only to the
// emitters whose windows overlap its own. H (plus a ridge of 1e-9 · its mean diagonal, so two
// emitters at one position share their light instead of making it singular) is factored once by
// a sparse LDLᵀ, and the background follows from its Schur complement (ridge 1e-9 · n):
//     u = H⁻¹ Σhx,  v = H⁻¹ s,  b = (Σx − sᵀu) / (n − sᵀv),  N = u − b v.
// Overlapping emitters are resolved jointly, which is what dense frames need (a per-emitter
// window sum counts the neighbours' light twice). Amplitudes that come out negative are reported
// as 0 (no constraint is imposed in the fit).
//
// Units: N and b are in the frame's units (ADU); divide by the camera's ADU per photon for
// photons; b includes the camera offset. Cost: O(pixels + K log K + Σ window areas + overlapping
// pairs · window area) plus the sparse factorization, which is linear in K for emitters spread
// over a frame (the fill-in stays within groups of mutually overlapping emitters). The workspace
// keeps its buffers; they grow to the largest frame and emitter count seen (this is an edge
// routine, called once per frame, not a kernel).
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <numeric>

#include <Eigen/Core>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::loc {

template <class T>
struct AmplitudeWorkspace {
  std::vector<psf::Window> windows;
  std::vector<std::size_t> offsets;  ///< start of emitter k's h values in `h`
  std::vector<T> h;
  std::vector<std::size_t> by_x;                 ///< emitters ordered by their window's left column
  std::vector<Eigen::Triplet<double>> entries;   ///< lower triangle of H
  Eigen::SparseMatrix<double> normal;            ///< H
  Eigen::VectorXd sum_h, sum_hx;                 ///< s and Σ h x
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>, Eigen::Lower> ldlt;
};

/// Fits amplitudes[k] (≥ 0) and the background of `frame` for emitters at (x_px[k], y_px[k])
/// (frame pixel coordinates; see the header). Emitters whose window misses the frame get 0.
template <psf::Model Psf>
void estimate_amplitudes(const Psf& model, ConstImageView<typename Psf::scalar> frame, std::span<const double> x_px,
                         std::span<const double> y_px, AmplitudeWorkspace<typename Psf::scalar>& ws,
                         std::span<double> amplitudes, double& background) {
  using T = typename Psf::scalar;
  SMLM_ASSERT(x_px.size() == y_px.size() && amplitudes.size() == x_px.size(),
              "loc::estimate_amplitudes: one amplitude per position");
  const std::size_t k = x_px.size();
  const std::ptrdiff_t rows = frame.rows(), cols = frame.cols();
  ws.windows.resize(k);
  ws.offsets.resize(k + 1);
  ws.offsets[0] = 0;
  for (std::size_t e = 0; e < k; ++e) {
    psf::Spot<T> s{static_cast<T>(x_px[e]), static_cast<T>(y_px[e]), T(0), T(1), T(0)};
    ws.windows[e] = psf::clip(psf::support_window(model, s), cols, rows);
    ws.offsets[e + 1] = ws.offsets[e] + static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, ws.windows[e].size()));
  }
  ws.h.resize(ws.offsets[k]);
  for (std::size_t e = 0; e < k; ++e) {
    const psf::Window& w = ws.windows[e];
    if (w.empty()) continue;
    psf::Spot<T> s{static_cast<T>(x_px[e]), static_cast<T>(y_px[e]), T(0), T(1), T(0)};
    model.evaluate(s, w, make_view(ws.h.data() + ws.offsets[e], w.height, w.width));
  }
  const auto kn = static_cast<Eigen::Index>(k);
  double sum_x = 0;
  for (std::ptrdiff_t i = 0; i < rows; ++i)
    for (std::ptrdiff_t j = 0; j < cols; ++j) sum_x += double(frame(i, j));
  const double pixels = double(rows * cols);
  ws.sum_h.setZero(kn);
  ws.sum_hx.setZero(kn);
  ws.entries.clear();
  double trace = 0;
  std::size_t lit = 0;
  for (std::size_t a = 0; a < k; ++a) {
    const psf::Window& wa = ws.windows[a];
    if (wa.empty()) continue;
    const T* ha = ws.h.data() + ws.offsets[a];
    double sh = 0, shx = 0, shh = 0;
    for (std::ptrdiff_t r = 0; r < wa.height; ++r)
      for (std::ptrdiff_t c = 0; c < wa.width; ++c) {
        const double v = ha[r * wa.width + c];
        sh += v;
        shh += v * v;
        shx += v * double(frame(wa.y0 + r, wa.x0 + c));
      }
    ws.sum_h(static_cast<Eigen::Index>(a)) = sh;
    ws.sum_hx(static_cast<Eigen::Index>(a)) = shx;
    trace += shh;
    ++lit;
  }
  const double ridge = lit > 0 ? 1e-9 * trace / double(lit) : 0.0;
  // Pairs of overlapping windows by a sweep over the windows ordered by their left column: the
  // scan from a stops at the first window that starts right of a's right edge.
  ws.by_x.resize(k);
  std::iota(ws.by_x.begin(), ws.by_x.end(), std::size_t{0});
  std::stable_sort(ws.by_x.begin(), ws.by_x.end(),
                   [&](std::size_t p, std::size_t q) { return ws.windows[p].x0 < ws.windows[q].x0; });
  for (std::size_t p = 0; p < k; ++p) {
    const std::size_t a = ws.by_x[p];
    const psf::Window& wa = ws.windows[a];
    const auto ia = static_cast<Eigen::Index>(a);
    if (wa.empty()) {  // no pixel: a unit row keeps H regular and the amplitude is reported as 0
      ws.entries.emplace_back(ia, ia, 1.0);
      continue;
    }
    const T* ha = ws.h.data() + ws.offsets[a];
    for (std::size_t q = p; q < k; ++q) {
      const std::size_t b = ws.by_x[q];
      const psf::Window& wb = ws.windows[b];
      if (wb.x0 >= wa.x0 + wa.width) break;
      if (wb.empty()) continue;
      const std::ptrdiff_t y0 = std::max(wa.y0, wb.y0), y1 = std::min(wa.y0 + wa.height, wb.y0 + wb.height);
      const std::ptrdiff_t x0 = std::max(wa.x0, wb.x0), x1 = std::min(wa.x0 + wa.width, wb.x0 + wb.width);
      if (y0 >= y1 || x0 >= x1) continue;
      const T* hb = ws.h.data() + ws.offsets[b];
      double sum = 0;
      for (std::ptrdiff_t y = y0; y < y1; ++y)
        for (std::ptrdiff_t x = x0; x < x1; ++x)
          sum += double(ha[(y - wa.y0) * wa.width + (x - wa.x0)]) * double(hb[(y - wb.y0) * wb.width + (x - wb.x0)]);
      const auto ib = static_cast<Eigen::Index>(b);
      if (a == b) sum += ridge;
      ws.entries.emplace_back(std::max(ia, ib), std::min(ia, ib), sum);  // lower triangle
    }
  }
  background = sum_x / pixels;
  if (k == 0) return;
  ws.normal.resize(kn, kn);
  ws.normal.setFromTriplets(ws.entries.begin(), ws.entries.end());
  ws.ldlt.compute(ws.normal);
  const bool solved = ws.ldlt.info() == Eigen::Success;
  if (solved) {
    const Eigen::VectorXd u = ws.ldlt.solve(ws.sum_hx);
    const Eigen::VectorXd v = ws.ldlt.solve(ws.sum_h);
    const double schur = pixels - ws.sum_h.dot(v) + 1e-9 * pixels;
    background = (sum_x - ws.sum_h.dot(u)) / schur;
    for (std::size_t e = 0; e < k; ++e) {
      const auto ie = static_cast<Eigen::Index>(e);
      const double value = ws.windows[e].empty() ? 0.0 : u(ie) - background * v(ie);
      amplitudes[e] = std::isfinite(value) ? std::max(value, 0.0) : 0.0;
    }
  } else {  // not reached for a ridge-regularized H; stay defined all the same
    std::fill(amplitudes.begin(), amplitudes.end(), 0.0);
  }
}

}  // namespace smlm::loc
