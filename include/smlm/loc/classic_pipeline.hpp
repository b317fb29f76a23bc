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
// Dense frames (options.passes > 1; 3D-DAOSTORM's iterative scheme, Babcock et al., Optical
// Nanoscopy 1:6, 2012): after each pass the fitted spots (photons · PSF, without background) are
// subtracted from the frame; detection runs again on that residual with the first pass's
// threshold, candidates within min_separation_px of a fit are taken for its residual and skipped,
// the others are fitted on the residual; then refine_rounds rounds refit every fit in turn on the
// frame minus all the other fits (a joint fit of neighbours by coordinate descent), each from its
// current parameters in its candidate's window. Passes stop early when one finds nothing new. Two
// molecules closer than the PSF, fitted as one in the first pass, leave a residual whose peak the
// second pass finds; the refit rounds then move the first fit onto its own molecule. With
// passes = 1 the pipeline is the single pass above, unchanged.
//
// Multi-emitter fitting (options.multi.max_emitters > 1; ThunderSTORM's multi-emitter analysis,
// multi_emitter.hpp): each candidate's window is fitted with 1 … max_emitters emitters (σ fixed at
// the model's) and the number the likelihood-ratio (mle) or F test (lsq, wlsq) selects is kept.
// When it selects one, the candidate gets the ordinary single fit above (σ free when asked), so
// max_emitters = 1 and windows of one molecule are unchanged. When it selects several, a fitted
// emitter is kept by the candidate nearest to it among the pass's candidates (its own window's
// candidate or a neighbour's, which fits it again and keeps it): neighbours a window only partly
// holds are fitted as its extra emitters and kept by their own candidate, and two molecules that
// gave one candidate are both kept by it. Fits of one molecule from two windows closer than
// min_separation_px are then merged as in the later passes. Combined with passes > 1, every pass
// fits its candidates this way; the refit rounds stay single-emitter fits with the others
// subtracted. The uncertainty of an emitter from a multi-emitter fit is its single-emitter CRLB
// (a lower bound: its neighbours' parameters are taken as known).
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
#include <smlm/loc/multi_emitter.hpp>
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
  // Dense frames (3D-DAOSTORM's iterative scheme; see the header):
  int passes = 1;                  ///< detection passes; 1: single pass (ThunderSTORM's default chain)
  int refine_rounds = 2;           ///< with passes > 1: rounds of refitting every fit with the others subtracted
  double min_separation_px = 1.0;  ///< a later pass's candidate this close to a fit is that fit's residual
  double min_photons_factor = 0.25;  ///< a later pass's fit needs this × the first pass's median photons
  MultiEmitterOptions multi{};       ///< emitters per window (multi.max_emitters = 1: off)

  bool valid() const noexcept {
    return wavelet.valid() && threshold_factor >= 0 && std::isfinite(threshold_factor) && fit_radius_px >= 1 &&
           fit_radius_px <= 32 && fit.valid() && min_sigma_factor > 0 && max_sigma_factor > min_sigma_factor &&
           passes >= 1 && passes <= 8 && refine_rounds >= 0 && refine_rounds <= 8 && min_separation_px >= 0 &&
           std::isfinite(min_separation_px) && min_photons_factor >= 0 && std::isfinite(min_photons_factor) &&
           multi.valid();
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
  std::size_t multi_windows = 0;           ///< windows where the test selected several emitters
  bool truncated = false;      ///< more candidates or fits than the buffers hold
  double threshold = 0;        ///< the threshold used, photons (F2 units)
};

/// A fit kept by the pipeline, before it becomes a FrameLocalization.
template <class T>
struct KeptFit {
  psf::Spot<T> spot;
  T sigma_px = 0;
  std::ptrdiff_t row = 0, col = 0;  ///< its candidate's pixel: the centre of its fit window
};

template <class T>
struct ClassicWorkspace {
  Image<T> photons;
  Image<T> residual;  ///< photons minus the fitted spots (passes > 1)
  WaveletWorkspace<T> wavelet;
  std::vector<Peak> peaks;
  std::vector<KeptFit<T>> kept;  ///< capacity: every pass's candidates
  std::vector<double> photon_scratch;  ///< for the median of the first pass's photons
  FitWorkspace<T> fit;
  MultiFitWorkspace<T> multi;  ///< sized when options.multi.max_emitters > 1

  ClassicWorkspace() = default;
  ClassicWorkspace(std::ptrdiff_t height, std::ptrdiff_t width, const ClassicOptions& options,
                   std::size_t max_candidates = 0) {
    SMLM_ASSERT(options.valid(), "loc::ClassicWorkspace: invalid ClassicOptions");
    photons.resize(height, width);
    wavelet.resize(height, width, options.wavelet);
    // At most one local maximum per 2 × 2 block (strict 3 × 3 maxima cannot touch).
    peaks.resize(max_candidates ? max_candidates : static_cast<std::size_t>((height + 1) / 2 * ((width + 1) / 2)));
    kept.resize(peaks.size() * static_cast<std::size_t>(options.passes) * static_cast<std::size_t>(options.multi.max_emitters));
    photon_scratch.resize(options.passes > 1 ? kept.size() : 0);
    if (options.passes > 1) residual.resize(height, width);
    const std::ptrdiff_t side = 2 * options.fit_radius_px + 1;
    fit.resize(side * side);
    if (options.multi.max_emitters > 1) multi.resize(side * side);
  }
};

namespace detail {

/// `model` with σ set to `sigma_px` when it has a settable σ.
template <psf::Model P>
P with_sigma(const P& model, typename P::scalar sigma_px) noexcept {
  P at = model;
  if constexpr (psf::SigmaModel<P>) at.sigma_px = sigma_px;
  return at;
}

/// image += sign · (the spot of `k` without background).
template <psf::Model P>
void add_spot(const P& model, const KeptFit<typename P::scalar>& k, typename P::scalar sign,
              ImageView<typename P::scalar> image) noexcept {
  psf::Spot<typename P::scalar> s = k.spot;
  s.photons *= sign;
  with_sigma(model, k.sigma_px).add_to(s, image);
}

/// Fits the candidate at (x, y) in `image` (photons) with a window around pixel (row, col),
/// starting from `start_from` (with σ out.sigma_px) when given; true and `out` set when the fit
/// converged with an acceptable σ. Counts the status in `report`.
template <psf::Model P>
bool fit_candidate(const P& model, const NoiseModel<typename P::scalar>& noise, ConstImageView<typename P::scalar> image,
                   std::ptrdiff_t row, std::ptrdiff_t col, const psf::Spot<typename P::scalar>* start_from,
                   double x, double y, double sigma0, const ClassicOptions& options,
                   ClassicWorkspace<typename P::scalar>& ws, FrameReport& report, KeptFit<typename P::scalar>& out) noexcept {
  using T = typename P::scalar;
  const std::ptrdiff_t r = options.fit_radius_px;
  const psf::Window w = psf::clip(psf::Window{col - r, row - r, 2 * r + 1, 2 * r + 1}, image.cols(), image.rows());
  const ConstImageView<T> data = make_view(image.data() + w.y0 * image.outerStride() + w.x0, w.height, w.width, image.outerStride());
  psf::Spot<T> start = start_from ? *start_from : initial_guess(data, w);
  start.x_px = static_cast<T>(x);
  start.y_px = static_cast<T>(y);
  const P at = start_from ? with_sigma(model, out.sigma_px) : model;
  const FitResult<T> f = fit(at, data, w, noise, start, options.fit, ws.fit);
  ++report.by_status[static_cast<std::size_t>(f.status)];
  if (f.status != fit_status::converged) return false;
  if (options.fit.fit_sigma && !(f.sigma_px >= options.min_sigma_factor * sigma0 && f.sigma_px <= options.max_sigma_factor * sigma0)) {
    ++report.rejected_sigma;
    return false;
  }
  out.spot = f.spot;
  out.sigma_px = f.sigma_px;
  out.row = row, out.col = col;
  return true;
}

/// Fits every candidate of one pass in `image` (see the header) into ws.kept from index n on;
/// returns the new count.
template <psf::Model P>
std::size_t fit_candidates(const P& model, const NoiseModel<typename P::scalar>& noise, ConstImageView<typename P::scalar> image,
                           std::span<const Peak> peaks, double sigma0, const ClassicOptions& options,
                           ClassicWorkspace<typename P::scalar>& ws, FrameReport& report, std::size_t n) noexcept {
  using T = typename P::scalar;
  const std::ptrdiff_t r = options.fit_radius_px;
  for (std::size_t i = 0; i < peaks.size() && n < ws.kept.size(); ++i) {
    const Peak& p = peaks[i];
    if (options.multi.max_emitters > 1) {
      const psf::Window w = psf::clip(psf::Window{p.col - r, p.row - r, 2 * r + 1, 2 * r + 1}, image.cols(), image.rows());
      const ConstImageView<T> data =
          make_view(image.data() + w.y0 * image.outerStride() + w.x0, w.height, w.width, image.outerStride());
      psf::Spot<T> start = initial_guess(data, w);
      start.x_px = static_cast<T>(p.x_px);
      start.y_px = static_cast<T>(p.y_px);
      const MultiFitResult<T> m = fit_multi(model, data, w, noise, start, options.fit, options.multi, ws.multi);
      if (m.count > 1) {
        ++report.by_status[static_cast<std::size_t>(fit_status::converged)];
        ++report.multi_windows;
        for (int k = 0; k < m.count && n < ws.kept.size(); ++k) {
          const psf::Spot<T>& e = m.spots[static_cast<std::size_t>(k)];
          // Kept by the nearest candidate of the pass (ties: the lower index, so exactly one).
          std::size_t owner = i;
          double best = std::hypot(double(e.x_px) - p.x_px, double(e.y_px) - p.y_px);
          for (std::size_t j = 0; j < peaks.size(); ++j) {
            const double d = std::hypot(double(e.x_px) - peaks[j].x_px, double(e.y_px) - peaks[j].y_px);
            if (d < best || (d == best && j < owner)) best = d, owner = j;
          }
          if (owner != i) continue;
          KeptFit<T>& out = ws.kept[n++];
          out.spot = e;
          out.sigma_px = static_cast<T>(sigma0);
          out.row = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(e.y_px)), 0, image.rows() - 1);
          out.col = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(e.x_px)), 0, image.cols() - 1);
        }
        continue;
      }
    }
    if (fit_candidate(model, noise, image, p.row, p.col, nullptr, p.x_px, p.y_px, sigma0, options, ws, report, ws.kept[n])) ++n;
  }
  return n;
}

/// Two fits closer than min_separation_px are one molecule: the dimmer goes, its photons to the
/// other. Returns the new count (order not kept).
template <class T>
std::size_t merge_duplicates(std::vector<KeptFit<T>>& kept, std::size_t n, double min_separation_px) noexcept {
  const double min_d2 = min_separation_px * min_separation_px;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) {
      const double dx = double(kept[a].spot.x_px) - double(kept[b].spot.x_px);
      const double dy = double(kept[a].spot.y_px) - double(kept[b].spot.y_px);
      if (dx * dx + dy * dy >= min_d2) continue;
      const std::size_t keep = kept[a].spot.photons >= kept[b].spot.photons ? a : b, drop = keep == a ? b : a;
      kept[keep].spot.photons += kept[drop].spot.photons;
      kept[drop] = kept[--n];
      if (drop == a) --a;  // re-examine the row moved into a
      break;
    }
  return n;
}

}  // namespace detail

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
  SMLM_ASSERT(ws.kept.size() >= ws.peaks.size() * static_cast<std::size_t>(options.passes) &&
                  (options.passes == 1 || ws.residual.rows() == adu.rows()) &&
                  (options.multi.max_emitters == 1 || ws.multi.max_pixels > 0),
              "loc::localize_frame: workspace not sized for these options (passes)");
  FrameReport report;
  camera::to_photons_at(camera, adu, frame, make_view(ws.photons));
  const T std_f1 = wavelet_filter(const_view(ws.photons), ws.wavelet);
  report.threshold = options.threshold_factor * static_cast<double>(std_f1);
  double sigma0 = 0;
  if constexpr (psf::SigmaModel<P>) sigma0 = static_cast<double>(model.sigma_px);
  std::size_t n = 0;  // fits in ws.kept

  // Pass 1: every candidate fitted alone on the frame.
  PeakFinderResult det = detect_local_maxima(const_view(ws.wavelet.f2), report.threshold, 0, std::span<Peak>(ws.peaks));
  report.candidates = det.count;
  report.truncated = det.truncated;
  n = detail::fit_candidates(model, noise, const_view(ws.photons), std::span<const Peak>(ws.peaks.data(), det.count), sigma0,
                             options, ws, report, n);
  if (options.multi.max_emitters > 1) n = detail::merge_duplicates(ws.kept, n, options.min_separation_px);

  double min_photons = 0;
  // Later passes: detect on the residual, fit the new candidates there, then refit every fit with
  // all the others subtracted (a joint fit by rounds).
  for (int pass = 2; pass <= options.passes; ++pass) {
    ws.residual = ws.photons;
    for (std::size_t k = 0; k < n; ++k) detail::add_spot(model, ws.kept[k], T(-1), make_view(ws.residual));
    // The residual's own threshold: in a dense frame std(F1) of the first pass is mostly molecules.
    const double residual_threshold =
        options.threshold_factor * static_cast<double>(wavelet_filter(const_view(ws.residual), ws.wavelet));
    det = detect_local_maxima(const_view(ws.wavelet.f2), std::min(report.threshold, residual_threshold), 0,
                              std::span<Peak>(ws.peaks));
    report.truncated = report.truncated || det.truncated;
    const std::size_t before = n;
    // The floor for later passes' fits: min_photons_factor × the first pass's median photons.
    if (pass == 2 && n > 0) {
      for (std::size_t k = 0; k < n; ++k) ws.photon_scratch[k] = static_cast<double>(ws.kept[k].spot.photons);
      std::nth_element(ws.photon_scratch.begin(), ws.photon_scratch.begin() + static_cast<std::ptrdiff_t>(n / 2),
                       ws.photon_scratch.begin() + static_cast<std::ptrdiff_t>(n));
      min_photons = options.min_photons_factor * ws.photon_scratch[n / 2];
    }
    const double min_d2 = options.min_separation_px * options.min_separation_px;
    std::size_t fresh = 0;  // this pass's candidates: the peaks not within min_separation_px of a fit
    for (std::size_t i = 0; i < det.count; ++i) {
      const Peak& p = ws.peaks[i];
      bool near = false;
      for (std::size_t k = 0; k < before && !near; ++k) {
        const double dx = double(ws.kept[k].spot.x_px) - p.x_px, dy = double(ws.kept[k].spot.y_px) - p.y_px;
        near = dx * dx + dy * dy < min_d2;
      }
      if (!near) ws.peaks[fresh++] = p;
    }
    report.candidates += fresh;
    n = detail::fit_candidates(model, noise, const_view(ws.residual), std::span<const Peak>(ws.peaks.data(), fresh), sigma0,
                               options, ws, report, n);
    if (n == before) break;
    // The residual of all fits (the earlier ones are already out of it), then each fit in turn
    // refitted on it with its own spot added back.
    for (std::size_t k = before; k < n; ++k) detail::add_spot(model, ws.kept[k], T(-1), make_view(ws.residual));
    for (int round = 0; round < options.refine_rounds; ++round)
      for (std::size_t k = 0; k < n; ++k) {
        KeptFit<T>& kf = ws.kept[k];
        detail::add_spot(model, kf, T(1), make_view(ws.residual));
        KeptFit<T> refit = kf;
        FrameReport scratch;
        const psf::Spot<T> from = kf.spot;
        // The window follows the fit (refits may move it by more than a pixel).
        const auto row = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(from.y_px)), 0, adu.rows() - 1);
        const auto col = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(from.x_px)), 0, adu.cols() - 1);
        if (detail::fit_candidate(model, noise, const_view(ws.residual), row, col, &from, double(from.x_px),
                                  double(from.y_px), sigma0, options, ws, scratch, refit))
          kf = refit;
        detail::add_spot(model, kf, T(-1), make_view(ws.residual));
      }
    // Residual artefacts of imperfect fits stay dim after the refit: this pass's new fits must
    // reach min_photons (stable compaction, so the earlier fits keep their order).
    std::size_t m = before;
    for (std::size_t k = before; k < n; ++k)
      if (static_cast<double>(ws.kept[k].spot.photons) >= min_photons) ws.kept[m++] = ws.kept[k];
    n = m;
    // Two fits that converged onto one molecule: the dimmer one goes (its photons to the other).
    n = detail::merge_duplicates(ws.kept, n, options.min_separation_px);
  }

  for (std::size_t k = 0; k < n; ++k) {
    if (report.kept == out.size()) {
      report.truncated = true;
      break;
    }
    const KeptFit<T>& kf = ws.kept[k];
    FrameLocalization& l = out[report.kept++];
    l.x_px = kf.spot.x_px;
    l.y_px = kf.spot.y_px;
    l.z_nm = kf.spot.z_nm;
    l.sigma_px = kf.sigma_px;
    l.photons = kf.spot.photons;
    l.background = kf.spot.background;
    const PixelNoise<T> pn = noise.at(kf.row, kf.col);
    l.background_std = std::sqrt(std::max(0.0, static_cast<double>(pn.excess) * kf.spot.background + pn.read_variance));
    const std::ptrdiff_t r = options.fit_radius_px;
    const psf::Window w =
        psf::clip(psf::Window{kf.col - r, kf.row - r, 2 * r + 1, 2 * r + 1}, adu.cols(), adu.rows());
    const Crlb c = crlb(detail::with_sigma(model, kf.sigma_px), kf.spot, w, noise, false, ws.fit);
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
