// Photon counts of emitters at known positions: the joint linear least-squares fit of a frame by
// a uniform background and one PSF per emitter,
//     x(i, j) ≈ b + Σ_k N_k · h_k(i, j),
// h_k the model's pixel fractions for emitter k (psf::Model::evaluate with photons = 1, over its
// support window clipped to the frame). Positions come from elsewhere (a network's peaks); only
// the amplitudes N_k and the background b are unknown, so the fit is linear: the normal equations
// AᵀA θ = Aᵀx in θ = (b, N_1 … N_K), with
//     (b, b) = pixels,   (b, k) = Σ h_k,   (k, l) = Σ h_k h_l over the overlap of their windows,
//     Aᵀx = (Σ x, Σ h_k x),
// solved by LDLᵀ with a ridge of 1e-9 · mean diagonal (two emitters at one position share their
// light instead of making the system singular). Overlapping emitters are resolved jointly, which
// is what dense frames need (a per-emitter window sum counts the neighbours' light twice).
// Amplitudes that come out negative are reported as 0 (no constraint is imposed in the fit).
//
// Units: N and b are in the frame's units (ADU); divide by the camera's ADU per photon for
// photons; b includes the camera offset. Cost: O(pixels + Σ window areas + overlapping pairs ·
// window area + K³/3) per frame. The workspace keeps its buffers; they grow to the largest frame
// and emitter count seen (this is an edge routine, called once per frame, not a kernel).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::loc {

template <class T>
struct AmplitudeWorkspace {
  std::vector<psf::Window> windows;
  std::vector<std::size_t> offsets;  ///< start of emitter k's h values in `h`
  std::vector<T> h;
  Eigen::MatrixXd normal;
  Eigen::VectorXd rhs;
  Eigen::LDLT<Eigen::MatrixXd> ldlt;
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
  const auto n = static_cast<Eigen::Index>(k + 1);
  ws.normal.setZero(n, n);
  ws.rhs.setZero(n);
  double sum_x = 0;
  for (std::ptrdiff_t i = 0; i < rows; ++i)
    for (std::ptrdiff_t j = 0; j < cols; ++j) sum_x += double(frame(i, j));
  ws.normal(0, 0) = double(rows * cols);
  ws.rhs(0) = sum_x;
  for (std::size_t a = 0; a < k; ++a) {
    const psf::Window& wa = ws.windows[a];
    if (wa.empty()) continue;
    const T* ha = ws.h.data() + ws.offsets[a];
    double sh = 0, shx = 0;
    for (std::ptrdiff_t r = 0; r < wa.height; ++r)
      for (std::ptrdiff_t c = 0; c < wa.width; ++c) {
        const double v = ha[r * wa.width + c];
        sh += v;
        shx += v * double(frame(wa.y0 + r, wa.x0 + c));
      }
    const auto ia = static_cast<Eigen::Index>(a + 1);
    ws.normal(0, ia) = ws.normal(ia, 0) = sh;
    ws.rhs(ia) = shx;
    for (std::size_t b = a; b < k; ++b) {
      const psf::Window& wb = ws.windows[b];
      if (wb.empty()) continue;
      const std::ptrdiff_t y0 = std::max(wa.y0, wb.y0), y1 = std::min(wa.y0 + wa.height, wb.y0 + wb.height);
      const std::ptrdiff_t x0 = std::max(wa.x0, wb.x0), x1 = std::min(wa.x0 + wa.width, wb.x0 + wb.width);
      if (y0 >= y1 || x0 >= x1) continue;
      const T* hb = ws.h.data() + ws.offsets[b];
      double s = 0;
      for (std::ptrdiff_t y = y0; y < y1; ++y)
        for (std::ptrdiff_t x = x0; x < x1; ++x)
          s += double(ha[(y - wa.y0) * wa.width + (x - wa.x0)]) * double(hb[(y - wb.y0) * wb.width + (x - wb.x0)]);
      const auto ib = static_cast<Eigen::Index>(b + 1);
      ws.normal(ia, ib) = ws.normal(ib, ia) = s;
    }
  }
  // Emitters whose window misses the frame have an empty row: give them a unit diagonal.
  for (std::size_t e = 0; e < k; ++e)
    if (ws.windows[e].empty()) ws.normal(static_cast<Eigen::Index>(e + 1), static_cast<Eigen::Index>(e + 1)) = 1;
  const double ridge = 1e-9 * ws.normal.diagonal().mean();
  ws.normal.diagonal().array() += ridge;
  ws.ldlt.compute(ws.normal);
  const Eigen::VectorXd theta = ws.ldlt.solve(ws.rhs);
  background = theta(0);
  for (std::size_t e = 0; e < k; ++e) {
    const double v = ws.windows[e].empty() ? 0.0 : theta(static_cast<Eigen::Index>(e + 1));
    amplitudes[e] = std::isfinite(v) ? std::max(v, 0.0) : 0.0;
  }
}

}  // namespace smlm::loc
