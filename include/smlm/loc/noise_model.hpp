// The noise model a fitter and a Cramér–Rao bound use, in photons (after camera::to_photons).
//
// Every camera the library knows has, per pixel, a photon estimate d (to_photons of the ADU) with
// mean mu and a variance affine in mu:
//     Var[d] = excess · mu + read_variance           (photons²)
// Ideal: excess 1, read_variance 0 (Poisson). EMCCD: excess F²/qe = 2/qe with the register on —
// the "factor-2 scaling" of the excess noise (Mortensen et al., Nat. Methods 7:377, 2010; Chao,
// Ward & Ober, JOSA A 30:1255, 2013: at high gain the Fisher information is half the Poisson
// one) — and read_variance the read noise and CIC referred to the input. sCMOS: excess 1/qe and a
// per-pixel read_variance σ²ᵢ/gᵢ² (Huang et al., Nat. Methods 10:653, 2013). Cellphone CMOS
// (camera/cmos_phone.hpp): excess 1/qe, read_variance (read_noise_e² + e_per_adu²/(12·m(f)²))/qe²
// in frame f — the frame gain m(f) cancels but for the output rounding's 1/12 ADU², and the fixed
// pattern φᵢ only shifts the mean (to_photons removes it), so the model is uniform.
// noise_model(camera) reads both numbers off the camera's declared mean_adu and variance_adu, so
// any camera::Model plugs in unchanged: with the slope s = mean_adu(1) − mean_adu(0) (ADU per
// photon), var_ph(p) = variance_adu(p)/s², excess = var_ph(1) − var_ph(0), read_variance =
// var_ph(0). noise_model(camera, frame) does the same with the statistics of frame `frame`
// (camera::mean_adu_at / variance_adu_at) for a camera::FrameDependent model; the frame-less
// forms describe frame 0, as the camera's frame-less members do. Like the declarations they are
// read from, these models hold only where the camera is linear: clipping at 0 and the response
// above camera::linear_max_adu are not in them.
//
// The likelihood the MLE maximises is the shifted, scaled Poisson that has this mean and
// variance: z = (d + o)/excess ~ Poisson((mu + o)/excess), o = read_variance/excess. For the
// ideal camera it is the Poisson likelihood itself; for sCMOS it is the approximation of Huang et
// al. (2013); for EMCCD the high-gain approximation above.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <smlm/camera/camera.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>

namespace smlm::loc {

/// Var[d] = excess · mu + read_variance for one pixel.
template <class T>
struct PixelNoise {
  T excess = 1;
  T read_variance = 0;
};

/// A uniform noise model, or per-pixel maps over the whole frame (frame coordinates).
template <class T>
struct NoiseModel {
  T excess = 1;         ///< uniform value, used where excess_map is empty
  T read_variance = 0;  ///< uniform value, used where read_variance_map is empty, photons²
  ConstImageView<T> excess_map{nullptr, 0, 0, Eigen::OuterStride<>(0)};
  ConstImageView<T> read_variance_map{nullptr, 0, 0, Eigen::OuterStride<>(0)};

  bool per_pixel() const noexcept { return excess_map.size() != 0 || read_variance_map.size() != 0; }

  /// The pixel's noise; pixels outside the maps take the uniform values.
  PixelNoise<T> at(std::ptrdiff_t y, std::ptrdiff_t x) const noexcept {
    PixelNoise<T> n{excess, read_variance};
    if (excess_map.size() && y >= 0 && x >= 0 && y < excess_map.rows() && x < excess_map.cols()) n.excess = excess_map(y, x);
    if (read_variance_map.size() && y >= 0 && x >= 0 && y < read_variance_map.rows() && x < read_variance_map.cols())
      n.read_variance = read_variance_map(y, x);
    return n;
  }
};

/// The Poisson model (ideal camera).
template <class T>
constexpr NoiseModel<T> poisson_noise() noexcept {
  return {};
}

/// The pixel's (excess, read_variance) in frame `frame` from the camera's declared mean and
/// variance (a frame-independent camera ignores the frame).
template <camera::Model C>
PixelNoise<double> pixel_noise(const C& camera, camera::Pixel pixel, std::uint32_t frame) noexcept {
  const double s = camera::mean_adu_at(camera, 1.0, pixel, frame) - camera::mean_adu_at(camera, 0.0, pixel, frame);
  const double v0 = camera::variance_adu_at(camera, 0.0, pixel, frame) / (s * s);
  const double v1 = camera::variance_adu_at(camera, 1.0, pixel, frame) / (s * s);
  return {v1 - v0, v0};
}

/// The pixel's (excess, read_variance) in frame 0.
template <camera::Model C>
PixelNoise<double> pixel_noise(const C& camera, camera::Pixel pixel = {}) noexcept {
  return pixel_noise(camera, pixel, 0);
}

/// A uniform noise model from a camera whose noise does not depend on the pixel (Ideal, Emccd,
/// CmosPhone), for frame `frame` of a camera::FrameDependent model (CmosPhone).
template <class T, camera::Model C>
NoiseModel<T> noise_model(const C& camera, std::uint32_t frame) noexcept {
  const PixelNoise<double> n = pixel_noise(camera, camera::Pixel{}, frame);
  return {static_cast<T>(n.excess), static_cast<T>(n.read_variance)};
}

/// The uniform noise model of frame 0.
template <class T, camera::Model C>
NoiseModel<T> noise_model(const C& camera) noexcept {
  return noise_model<T>(camera, 0);
}

/// Per-pixel maps from any camera (sCMOS): fills the caller's frame-sized images and returns a
/// model viewing them (they must outlive it).
template <class T, camera::Model C>
NoiseModel<T> noise_model(const C& camera, ImageView<T> excess, ImageView<T> read_variance) SMLM_NOEXCEPT {
  SMLM_ASSERT(excess.rows() == read_variance.rows() && excess.cols() == read_variance.cols(),
              "loc::noise_model: maps differ in size");
  for (std::ptrdiff_t y = 0; y < excess.rows(); ++y) {
    for (std::ptrdiff_t x = 0; x < excess.cols(); ++x) {
      const PixelNoise<double> n = pixel_noise(camera, camera::Pixel{y, x});
      excess(y, x) = static_cast<T>(n.excess);
      read_variance(y, x) = static_cast<T>(n.read_variance);
    }
  }
  return NoiseModel<T>{T(1), T(0), const_view(excess), const_view(read_variance)};
}

}  // namespace smlm::loc
