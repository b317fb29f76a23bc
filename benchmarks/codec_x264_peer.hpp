// In-process peers for bench_codec (benchmark-only; the library never links them): libx264
// encoding and libavcodec's H.264 decoding of the same 8-bit frames as our codec, timed by the
// same Google Benchmark loop, so "ours vs x264" is one run with one clock and no process start-up.
//
//  - x264: preset ultrafast (Intra16×16 only, SAD decisions, CAVLC, no deblocking; or superfast,
//    which adds Intra4×4/8×8 and SATD decisions, the closer peer of our Intra4×4 setting) with tune
//    zerolatency (no frame delay, so each call returns its own frame; sliced threads off), one thread,
//    constant QP, monochrome input (X264_CSP_I400, High profile), keyint = GOP with scene-cut
//    detection off, so GOP 1 is all IDR and GOP 8 one IDR and seven P-frames, as in ours.
//  - libavcodec h264 decoder, one thread, low-delay output, decoding x264's stream of those frames.
// Built when pkg-config finds x264 (and libavcodec for the decoder): SMLM_BENCH_X264 / SMLM_BENCH_AVCODEC.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <smlm/core/image.hpp>

#if defined(SMLM_BENCH_X264)
extern "C" {
#include <x264.h>
}

namespace smlm_bench {

/// An open x264 encoder for w × h grey frames; encode() appends one frame's Annex-B bytes.
class X264Peer {
 public:
  X264Peer(int width, int height, int qp, int gop, const char* preset = "ultrafast") {
    x264_param_t p;
    x264_param_default_preset(&p, preset, "zerolatency");  // zerolatency: no frame delay
    p.i_threads = 1;
    p.i_lookahead_threads = 1;
    p.b_sliced_threads = 0;
    p.i_width = width;
    p.i_height = height;
    p.i_csp = X264_CSP_I400;
    p.rc.i_rc_method = X264_RC_CQP;
    p.rc.i_qp_constant = qp;
    p.i_keyint_max = gop;
    p.i_keyint_min = gop;
    p.i_scenecut_threshold = 0;
    p.i_bframe = 0;
    p.i_sync_lookahead = 0;  // no frame delay: each encode() call returns its own frame
    p.rc.i_lookahead = 0;
    p.i_log_level = X264_LOG_NONE;
    p.b_repeat_headers = 1;
    p.b_annexb = 1;
    x264_param_apply_profile(&p, "high");
    encoder_ = x264_encoder_open(&p);
    x264_picture_alloc(&picture_, X264_CSP_I400, width, height);
    width_ = width;
    height_ = height;
  }
  X264Peer(const X264Peer&) = delete;
  X264Peer& operator=(const X264Peer&) = delete;
  ~X264Peer() {
    x264_picture_clean(&picture_);
    if (encoder_ != nullptr) x264_encoder_close(encoder_);
  }
  bool ok() const noexcept { return encoder_ != nullptr; }

  /// Encodes `frame` and appends its NAL units to `out`; returns the bytes appended.
  std::size_t encode(const smlm::Image<std::uint8_t>& frame, std::vector<std::uint8_t>& out) {
    for (int y = 0; y < height_; ++y)
      std::memcpy(picture_.img.plane[0] + static_cast<std::ptrdiff_t>(y) * picture_.img.i_stride[0],
                  frame.data() + static_cast<std::ptrdiff_t>(y) * width_, static_cast<std::size_t>(width_));
    picture_.i_pts = pts_++;
    x264_nal_t* nals = nullptr;
    int count = 0;
    x264_picture_t recon;
    const int bytes = x264_encoder_encode(encoder_, &nals, &count, &picture_, &recon);
    if (bytes <= 0) return 0;
    // The payloads of one call are contiguous (x264.h: "the payloads of all output NALs are
    // guaranteed to be sequential in memory").
    out.insert(out.end(), nals[0].p_payload, nals[0].p_payload + bytes);
    return static_cast<std::size_t>(bytes);
  }

 private:
  x264_t* encoder_ = nullptr;
  x264_picture_t picture_{};
  int width_ = 0, height_ = 0;
  std::int64_t pts_ = 0;
};

}  // namespace smlm_bench
#endif

#if defined(SMLM_BENCH_AVCODEC)
extern "C" {
#include <libavcodec/avcodec.h>
}

namespace smlm_bench {

/// libavcodec's H.264 decoder, one thread, one packet per frame.
class AvcodecPeer {
 public:
  AvcodecPeer() {
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    context_ = avcodec_alloc_context3(codec);
    context_->thread_count = 1;
    context_->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if (avcodec_open2(context_, codec, nullptr) < 0) avcodec_free_context(&context_);
    packet_ = av_packet_alloc();
    frame_ = av_frame_alloc();
  }
  AvcodecPeer(const AvcodecPeer&) = delete;
  AvcodecPeer& operator=(const AvcodecPeer&) = delete;
  ~AvcodecPeer() {
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&context_);
  }
  bool ok() const noexcept { return context_ != nullptr; }

  /// Decodes one frame's bytes; returns the number of frames that came out (0 or 1), -1 on error.
  /// `sum` accumulates the first luma row, so the output is used.
  int decode(const std::uint8_t* data, std::size_t size, std::uint64_t& sum) {
    packet_->data = const_cast<std::uint8_t*>(data);
    packet_->size = static_cast<int>(size);
    if (avcodec_send_packet(context_, packet_) < 0) return -1;
    int frames = 0;
    while (avcodec_receive_frame(context_, frame_) == 0) {
      sum += frame_->data[0][0];
      ++frames;
    }
    return frames;
  }

 private:
  AVCodecContext* context_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
};

}  // namespace smlm_bench
#endif
