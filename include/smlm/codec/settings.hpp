// Encoder settings, the quality → QP map, and the conversion of 16-bit camera frames into the
// 8-bit grey video frames a phone's encoder sees (and back).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <smlm/codec/quant.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>

namespace smlm::codec {

/// Largest block-grid offset: the frame may be shifted by 0..15 samples against the 16×16 grid.
inline constexpr int grid_offset_max = 15;
/// Largest motion-search range (integer samples); the bitstream rejects motion vectors beyond it.
inline constexpr int search_range_max = 32;

/// quality 0..100 → QP 51..0: QP = round(51·(100 − quality)/100), half up. Monotonic and
/// decreasing; it is meant to read like the "quality" sliders of phone camera apps and video
/// tools, where higher is better: quality 100 is QP 0 (reconstruction within ±1 grey level),
/// 50 is QP 26 (the H.264 default pic_init_qp), 55 is QP 23 (x264's default CRF), 0 is QP 51.
constexpr int quality_to_qp(int quality) noexcept {
  const int q = quality < 0 ? 0 : (quality > 100 ? 100 : quality);
  return (51 * (100 - q) + 50) / 100;
}

/// How a stream is encoded. A plain struct; validate() names the first bad field.
struct Settings {
  int qp = 26;             ///< 0..51; used when quality < 0
  int quality = -1;        ///< 0..100, or −1 to use qp; quality_to_qp maps it
  int gop = 30;            ///< I-frame period in frames (1: every frame is an I-frame)
  bool intra_only = false; ///< every frame an I-frame, whatever gop says
  bool deblock = false;    ///< in-loop deblocking filter (deblock.hpp)
  int grid_dx = 0;         ///< the frame starts grid_dx samples right of the block grid, 0..15
  int grid_dy = 0;         ///< and grid_dy samples below it, 0..15
  int search_range = 0;    ///< P-frame integer motion search ±range samples, 0 = zero motion only
  bool intra4x4 = true;    ///< let the encoder choose Intra4×4 macroblocks (else Intra16×16 only)
  /// Intra4×4 search over all nine modes (slower). The default tries four per block: the
  /// predicted mode, vertical, horizontal and DC, so the diagonal modes are then never chosen.
  bool intra4x4_all_modes = false;
  /// P-frames: drop inter residual blocks that hold only a few isolated ±1 levels, as x264 does by
  /// default (dct-decimate; rule in encoder.hpp, inter_decimation_score). Such residuals cost bits
  /// and buy little; dropping them turns many macroblocks into skips.
  bool decimate = true;

  /// The QP the stream is coded with.
  constexpr int effective_qp() const noexcept { return quality >= 0 ? quality_to_qp(quality) : qp; }
  /// Whether frame `index` (0-based) is coded as an I-frame.
  constexpr bool is_intra_frame(std::int64_t index) const noexcept {
    return intra_only || gop <= 1 || index % gop == 0;
  }

  Status validate() const {
    if (quality < -1 || quality > 100)
      return make_error(errc::invalid_argument, "codec settings: quality ", quality, " is not in [0, 100] (or -1)");
    if (quality < 0 && (qp < qp_min || qp > qp_max))
      return make_error(errc::invalid_argument, "codec settings: qp ", qp, " is not in [0, 51]");
    if (gop < 1 || gop > 65535) return make_error(errc::invalid_argument, "codec settings: gop ", gop, " is not in [1, 65535]");
    if (grid_dx < 0 || grid_dx > grid_offset_max)
      return make_error(errc::invalid_argument, "codec settings: grid_dx ", grid_dx, " is not in [0, 15]");
    if (grid_dy < 0 || grid_dy > grid_offset_max)
      return make_error(errc::invalid_argument, "codec settings: grid_dy ", grid_dy, " is not in [0, 15]");
    if (search_range < 0 || search_range > search_range_max)
      return make_error(errc::invalid_argument, "codec settings: search_range ", search_range, " is not in [0, 32]");
    return {};
  }
};

/// The fixed exposure mapping of a phone pipeline from camera counts (ADU) to 8-bit video:
///   video = Clip3(0, 255, ⌊(adu − offset_adu)·gain + 1/2⌋)
/// (round half up, then clip: a bright molecule saturates at 255, a dark background at 0), and
/// its inverse for analysis, adu = video / gain + offset_adu, which is exact up to the rounding
/// (|error| ≤ 1/(2·gain) ADU) for values that did not clip.
struct VideoConversion {
  double offset_adu = 0;       ///< camera count mapped to video level 0
  double gain_per_adu = 1.0;   ///< video levels per ADU, > 0

  /// The mapping that sends [low_adu, high_adu] onto [0, 255] (high > low).
  static VideoConversion spanning(double low_adu, double high_adu) noexcept {
    VideoConversion c;
    c.offset_adu = low_adu;
    c.gain_per_adu = high_adu > low_adu ? 255.0 / (high_adu - low_adu) : 1.0;
    return c;
  }

  std::uint8_t to_video(double adu) const noexcept {
    const double v = std::floor((adu - offset_adu) * gain_per_adu + 0.5);
    if (!(v > 0)) return 0;  // also NaN
    return v >= 255 ? std::uint8_t{255} : static_cast<std::uint8_t>(v);
  }
  double to_adu(std::uint8_t video) const noexcept { return video / gain_per_adu + offset_adu; }

  /// Converts a frame; `out` must have the size of `in`.
  template <class T>
  void to_video(const ConstImageView<T>& in, ImageView<std::uint8_t> out) const SMLM_NOEXCEPT {
    SMLM_ASSERT(in.rows() == out.rows() && in.cols() == out.cols(), "VideoConversion::to_video: sizes differ");
    for (Eigen::Index y = 0; y < in.rows(); ++y)
      for (Eigen::Index x = 0; x < in.cols(); ++x) out(y, x) = to_video(static_cast<double>(in(y, x)));
  }
  /// Converts a video frame back to ADU (integer T: rounded half up and clipped to T); `out`
  /// must have the size of `in`.
  template <class T>
  void to_adu(const ConstImageView<std::uint8_t>& in, ImageView<T> out) const SMLM_NOEXCEPT {
    SMLM_ASSERT(in.rows() == out.rows() && in.cols() == out.cols(), "VideoConversion::to_adu: sizes differ");
    for (Eigen::Index y = 0; y < in.rows(); ++y)
      for (Eigen::Index x = 0; x < in.cols(); ++x) {
        const double adu = to_adu(in(y, x));
        if constexpr (std::is_integral_v<T>) {
          // Round half up and clip to T's range (a uint16 camera frame comes back as uint16).
          const double r = std::floor(adu + 0.5);
          const double low = static_cast<double>(std::numeric_limits<T>::min());
          const double high = static_cast<double>(std::numeric_limits<T>::max());
          out(y, x) = static_cast<T>(r < low ? low : (r > high ? high : r));
        } else {
          out(y, x) = static_cast<T>(adu);
        }
      }
  }
};

}  // namespace smlm::codec
