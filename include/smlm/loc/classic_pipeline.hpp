// The classic localization pipeline on raw frames, ThunderSTORM's default chain (Ovesný et al.,
// Bioinformatics 30:2389, 2014): camera ADU → photons (camera::to_photons_at) → B-spline wavelet
// filter → local maxima of F2 above threshold_factor · std(F1) → one fit per candidate with the
// generic fitter over <psf::Model, NoiseModel> in a (2·fit_radius_px + 1)² window (clipped to the
// frame) → Fisher CRLB at the fitted parameters as the uncertainty.
//
// Generic over the PSF (any psf::Model; σ free only with psf::SigmaModel) and the camera (any
// camera::Model: the noise model is read off its declared statistics, noise_model.hpp; per-pixel
// cameras pass a NoiseModel with maps). A camera::FrameDependent model (CmosPhone) converts frame
// `frame` with that frame's gain; pass its noise_model(camera, frame) too. The frame-less
// localize_frame is frame 0.
//
// Memory: a ClassicWorkspace sized once for the frame and the largest window (allocation at the
// edge). localize_frame is noexcept and allocates nothing: it writes one FrameLocalization per
// kept fit into a caller-provided span; append_localizations turns them into table rows.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/loc/crlb.hpp>
#include <smlm/loc/fitter.hpp>
#include <smlm/loc/noise_model.hpp>
#include <smlm/loc/wavelet_filter.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::loc {

struct ClassicOptions {
  WaveletOptions wavelet{};
  double threshold_factor = 1.0;  ///< detection threshold in units of std(F1) (ThunderSTORM: 1)
  int fit_radius_px = 3;          ///< fit window half-width, pixels (ThunderSTORM's default 3)
  FitOptions fit{};
  double min_sigma_factor = 0.5;  ///< with σ free, fits outside [min, max] · σ0 are dropped
  double max_sigma_factor = 2.5;

  bool valid() const noexcept {
    return wavelet.valid() && threshold_factor >= 0 && std::isfinite(threshold_factor) && fit_radius_px >= 1 &&
           fit_radius_px <= 32 && fit.valid() && min_sigma_factor > 0 && max_sigma_factor > min_sigma_factor;
  }
};

/// One kept fit, in frame pixels.
struct FrameLocalization {
  double x_px = 0, y_px = 0, z_nm = 0, sigma_px = 0, photons = 0, background = 0;
  double background_std = 0;     ///< √(excess · background + read_variance), photons
  double uncertainty_px = 0;     ///< √((CRLB_x + CRLB_y)/2), pixels (0 when the CRLB is singular)
};

/// What happened to the candidates of one frame.
struct FrameReport {
  std::size_t candidates = 0;  ///< local maxima above threshold
  std::size_t kept = 0;        ///< converged fits written to the span
  std::array<std::size_t, 5> by_status{};  ///< candidates per fit_status
  std::size_t rejected_sigma = 0;          ///< converged but σ out of range
  bool truncated = false;      ///< more candidates or fits than the buffers hold
  double threshold = 0;        ///< the threshold used, photons (F2 units)
};

template <class T>
struct ClassicWorkspace {
  Image<T> photons;
  WaveletWorkspace<T> wavelet;
  std::vector<Peak> peaks;
  FitWorkspace<T> fit;

  ClassicWorkspace() = default;
  ClassicWorkspace(std::ptrdiff_t height, std::ptrdiff_t width, const ClassicOptions& options,
                   std::size_t max_candidates = 0) {
    SMLM_ASSERT(options.valid(), "loc::ClassicWorkspace: invalid ClassicOptions");
    photons.resize(height, width);
    wavelet.resize(height, width, options.wavelet);
    // At most one local maximum per 2 × 2 block (strict 3 × 3 maxima cannot touch).
    peaks.resize(max_candidates ? max_candidates : static_cast<std::size_t>((height + 1) / 2 * ((width + 1) / 2)));
    const std::ptrdiff_t side = 2 * options.fit_radius_px + 1;
    fit.resize(side * side);
  }
};

/// Localizes frame `frame` (0-based, the camera's frame index) of ADU (see the header). `out`
/// receives at most out.size() fits.
template <psf::Model P, camera::Model C>
FrameReport localize_frame(const P& model, const C& camera, const NoiseModel<typename P::scalar>& noise,
                           ConstImageView<typename C::scalar> adu, std::uint32_t frame, const ClassicOptions& options,
                           ClassicWorkspace<typename P::scalar>& ws, std::span<FrameLocalization> out) SMLM_NOEXCEPT {
  using T = typename P::scalar;
  static_assert(std::is_same_v<T, typename C::scalar>, "loc::localize_frame: PSF and camera scalars must match");
  SMLM_ASSERT(options.valid(), "loc::localize_frame: invalid ClassicOptions");
  SMLM_ASSERT(ws.photons.rows() == adu.rows() && ws.photons.cols() == adu.cols(),
              "loc::localize_frame: workspace not sized for this frame");
  FrameReport report;
  camera::to_photons_at(camera, adu, frame, make_view(ws.photons));
  const T std_f1 = wavelet_filter(const_view(ws.photons), ws.wavelet);
  report.threshold = options.threshold_factor * static_cast<double>(std_f1);
  const PeakFinderResult det = detect_local_maxima(const_view(ws.wavelet.f2), report.threshold, 0, std::span<Peak>(ws.peaks));
  report.candidates = det.count;
  report.truncated = det.truncated;
  const std::ptrdiff_t r = options.fit_radius_px;
  double sigma0 = 0;
  if constexpr (psf::SigmaModel<P>) sigma0 = static_cast<double>(model.sigma_px);
  for (std::size_t i = 0; i < det.count; ++i) {
    const Peak& p = ws.peaks[i];
    const psf::Window w = psf::clip(psf::Window{p.col - r, p.row - r, 2 * r + 1, 2 * r + 1}, adu.cols(), adu.rows());
    const ConstImageView<T> data = make_view(static_cast<const T*>(ws.photons.data()) + w.y0 * ws.photons.cols() + w.x0,
                                             w.height, w.width, ws.photons.cols());
    psf::Spot<T> start = initial_guess(data, w);
    start.x_px = static_cast<T>(p.x_px);
    start.y_px = static_cast<T>(p.y_px);
    const FitResult<T> f = fit(model, data, w, noise, start, options.fit, ws.fit);
    ++report.by_status[static_cast<std::size_t>(f.status)];
    if (f.status != fit_status::converged) continue;
    if (options.fit.fit_sigma && !(f.sigma_px >= options.min_sigma_factor * sigma0 && f.sigma_px <= options.max_sigma_factor * sigma0)) {
      ++report.rejected_sigma;
      continue;
    }
    if (report.kept == out.size()) {
      report.truncated = true;
      break;
    }
    FrameLocalization& l = out[report.kept++];
    l.x_px = f.spot.x_px;
    l.y_px = f.spot.y_px;
    l.z_nm = f.spot.z_nm;
    l.sigma_px = f.sigma_px;
    l.photons = f.spot.photons;
    l.background = f.spot.background;
    const PixelNoise<T> pn = noise.at(p.row, p.col);
    l.background_std = std::sqrt(std::max(0.0, static_cast<double>(pn.excess) * f.spot.background + pn.read_variance));
    P at = model;
    if constexpr (psf::SigmaModel<P>) at.sigma_px = f.sigma_px;
    const Crlb c = crlb(at, f.spot, w, noise, false, ws.fit);
    l.uncertainty_px = c.ok ? std::sqrt(0.5 * (c.variance[0] + c.variance[1])) : 0.0;
  }
  return report;
}

/// Localizes frame 0 of a frame-dependent camera, or a frame of any other (see above).
template <psf::Model P, camera::Model C>
FrameReport localize_frame(const P& model, const C& camera, const NoiseModel<typename P::scalar>& noise,
                           ConstImageView<typename C::scalar> adu, const ClassicOptions& options,
                           ClassicWorkspace<typename P::scalar>& ws, std::span<FrameLocalization> out) SMLM_NOEXCEPT {
  return localize_frame(model, camera, noise, adu, 0, options, ws, out);
}

/// Appends fits of frame `frame` (1-based) to a table in nanometres: id (row number), frame, x, y,
/// [z,] sigma, intensity, offset (fitted background, photons per pixel), bkgstd, uncertainty_xy.
/// Every column but z must be present for all rows or the table empty; z only when with_z.
inline void append_localizations(LocalizationTable& table, std::span<const FrameLocalization> locs, std::int32_t frame,
                                 double pixel_nm, bool with_z = false) {
  SMLM_ASSERT(table.sigma_nm.size() == table.size() && table.uncertainty_xy_nm.size() == table.size(),
              "loc::append_localizations: the table must carry the pipeline's columns");
  for (const FrameLocalization& l : locs) {
    table.id.push_back(static_cast<std::int64_t>(table.size() + 1));
    table.frame.push_back(frame);
    table.x_nm.push_back(l.x_px * pixel_nm);
    table.y_nm.push_back(l.y_px * pixel_nm);
    if (with_z) table.z_nm.push_back(l.z_nm);
    table.sigma_nm.push_back(l.sigma_px * pixel_nm);
    table.intensity_photons.push_back(l.photons);
    table.offset_photons.push_back(l.background);
    table.bkgstd_photons.push_back(l.background_std);
    table.uncertainty_xy_nm.push_back(l.uncertainty_px * pixel_nm);
  }
}

}  // namespace smlm::loc
