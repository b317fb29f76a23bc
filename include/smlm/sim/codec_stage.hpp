// The phone-video degradation stage: camera counts → 8-bit video levels → H.264-style encoding →
// the reconstruction the decoder would output, in place of the recorded frame.
//
// CodecStage is a model of the Simulator's degradation stage (simulator.hpp, step 6):
// stage(frame, ImageView<T> adu) maps the recorded frame to video levels with one fixed
// codec::VideoConversion, encodes it with codec::Encoder (I-frames every Settings::gop frames,
// P-frames predicted from the previous reconstruction in between) and overwrites `adu` with the
// reconstruction, whose values are integers in 0..255. Frames are coded in call order: the
// encoder keeps the reference picture between calls, so the stage must be called on one thread, in
// frame order (the Simulator does both); the frame index it is passed is not used.
//
// The stage counts the bytes of the stream it would write, stream header included
// (coded_bytes()), so callers can report bits per pixel; the bytes themselves are not kept beyond
// the last frame (last_frame_bytes()).
//
// Allocation: create() sizes everything. The byte buffer is reserved for the encoder's worst case,
// 4096 bytes per macroblock (the room Encoder::encode_frame reserves before each macroblock), up
// to 16 MiB (frames up to about 1024 × 1024 samples); a call then allocates nothing. Larger frames
// grow the buffer to its high-water mark in the first frames and reuse it afterwards.
//
// The exposure rule shared by `smlm simulate --quality` and the training-pair generator
// (training_pairs.hpp) is video_conversion_for: the camera's dark level minus three dark standard
// deviations (not below 0) maps to video level 0, the mean count at the peak of the brightest spot
// (background + max_photons / (2π σ²) photons, σ in pixels: the peak of the Gaussian density, a
// little above the pixel-integrated one) maps to 255. Cameras whose output already is video
// (camera::CmosPhone; camera_outputs_video) get the identity mapping.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

#include <smlm/camera/camera.hpp>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>

namespace smlm::sim {

/// Whether a camera's recorded values already are 8-bit video levels (no VideoConversion needed).
/// true for camera::CmosPhone; specialise it for a user camera that records video.
template <class Camera>
inline constexpr bool camera_outputs_video = false;
template <class T>
inline constexpr bool camera_outputs_video<camera::CmosPhone<T>> = true;

/// The count that video level 0 stands for: the camera's dark level (mean_adu(0)) minus three
/// dark standard deviations, not below 0 (frame-less members: frame 0 of a frame-dependent model).
template <camera::Model Camera>
double video_black_adu(const Camera& camera) noexcept {
  const double dark = camera.mean_adu(0.0);
  return std::max(0.0, dark - 3 * std::sqrt(camera.variance_adu(0.0)));
}

/// The mean count at the peak of the brightest spot: mean_adu(background_photons +
/// max_photons / (2π sigma_px²)), the Gaussian density's peak in photons per pixel.
template <camera::Model Camera>
double spot_peak_adu(const Camera& camera, double background_photons, double max_photons, double sigma_px) noexcept {
  const double peak_photons = background_photons + max_photons / (2 * std::numbers::pi * sigma_px * sigma_px);
  return camera.mean_adu(peak_photons);
}

/// The exposure of the phone video path (see the header): video_black_adu → 0, spot_peak_adu →
/// 255 (at least one count above the black level); the identity for a camera that records video.
template <camera::Model Camera>
codec::VideoConversion video_conversion_for(const Camera& camera, double background_photons, double max_photons,
                                            double sigma_px) noexcept {
  if constexpr (camera_outputs_video<Camera>) {
    (void)camera, (void)background_photons, (void)max_photons, (void)sigma_px;
    return {};
  } else {
    const double low = video_black_adu(camera);
    return codec::VideoConversion::spanning(low,
                                            std::max(spot_peak_adu(camera, background_photons, max_photons, sigma_px), low + 1));
  }
}

class CodecStage {
 public:
  /// A stage for frames of width × height coded with `settings` (the stream header announces
  /// `frames`, 0: not known), counts mapped to video by `conversion`. Errors: the encoder's
  /// (a bad setting or frame size, named with its value).
  static Expected<CodecStage> create(const codec::Settings& settings, int width, int height, std::uint32_t frames,
                                     codec::VideoConversion conversion) {
    auto encoder = codec::Encoder::create(settings, width, height, frames);
    if (!encoder) return encoder.status();
    if (!(conversion.gain_per_adu > 0 && std::isfinite(conversion.gain_per_adu) && std::isfinite(conversion.offset_adu)))
      return make_error(errc::invalid_argument, "sim::CodecStage: video conversion offset_adu = ", conversion.offset_adu,
                        ", gain_per_adu = ", conversion.gain_per_adu, " must be finite, gain > 0");
    CodecStage stage(std::move(*encoder), conversion, width, height);
    return stage;
  }

  /// Codes the next frame and replaces `adu` (height × width as created) with its reconstruction.
  void operator()(std::ptrdiff_t frame, ImageView<float> adu) { degrade(frame, adu); }
  void operator()(std::ptrdiff_t frame, ImageView<double> adu) { degrade(frame, adu); }

  /// Starts a new sequence (codec::Encoder::restart): the next frame is an I-frame, coded on a
  /// block grid offset by (grid_dx, grid_dy) in 0..15. The byte and frame counters keep counting.
  void restart(int grid_dx, int grid_dy) SMLM_NOEXCEPT { encoder_.restart(grid_dx, grid_dy); }

  /// Bytes of the stream so far: the header plus every coded frame.
  std::size_t coded_bytes() const noexcept { return coded_bytes_; }
  /// Bytes of the stream header alone.
  std::size_t header_bytes() const noexcept { return header_bytes_; }
  /// Frames coded so far.
  std::int64_t frames_coded() const noexcept { return frames_coded_; }
  /// The coded bytes of the last frame (empty before the first); valid until the next call.
  std::span<const std::uint8_t> last_frame_bytes() const noexcept { return bytes_; }
  /// The video levels of the last reconstruction (what `adu` received), height × width.
  ConstImageView<std::uint8_t> last_reconstruction() const noexcept { return make_view(video_); }

  const codec::VideoConversion& conversion() const noexcept { return conversion_; }
  /// Replaces the count → video mapping for the frames that follow (no allocation).
  void set_conversion(const codec::VideoConversion& conversion) noexcept { conversion_ = conversion; }
  const codec::Encoder& encoder() const noexcept { return encoder_; }

 private:
  static constexpr std::size_t reserve_limit_bytes = std::size_t{16} << 20;

  CodecStage(codec::Encoder encoder, codec::VideoConversion conversion, int width, int height)
      : encoder_(std::move(encoder)), conversion_(conversion), video_(height, width) {
    std::vector<std::uint8_t> header;
    encoder_.write_header(header);
    header_bytes_ = coded_bytes_ = header.size();
    const std::size_t worst = (encoder_.geometry().mb_count() + 1) * 4096 + 64;
    bytes_.reserve(std::min(worst, reserve_limit_bytes));
  }

  template <std::floating_point T>
  void degrade(std::ptrdiff_t, ImageView<T> adu) {
    SMLM_ASSERT(adu.rows() == video_.rows() && adu.cols() == video_.cols(),
                "sim::CodecStage: the frame size differs from the one the stage was created for");
    conversion_.to_video(const_view(adu), make_view(video_));
    bytes_.clear();
    coded_bytes_ += encoder_.encode_frame(const_view(video_), bytes_);
    encoder_.reconstruction(make_view(video_));
    adu = video_.cast<T>();
    ++frames_coded_;
  }

  codec::Encoder encoder_;
  codec::VideoConversion conversion_;
  Image<std::uint8_t> video_;
  std::vector<std::uint8_t> bytes_;
  std::size_t header_bytes_ = 0;
  std::size_t coded_bytes_ = 0;
  std::int64_t frames_coded_ = 0;
};

}  // namespace smlm::sim
