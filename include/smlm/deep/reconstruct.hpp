// Inference on whole camera frames of any size: normalization, padding, tiling with overlap,
// batches of tiles through the network, and the output maps stitched back together.
//
// A frame of h × w camera pixels is normalized as a whole (nn/normalization.hpp), padded at the
// bottom and right to multiples of the network's size_multiple(r) with the value that the
// frame's median takes after normalization (background), and cut into tiles of at most
// tile_px × tile_px (rounded to the multiple). Consecutive tiles overlap by at least
// 2·min(overlap_px, tile/4); each output pixel is taken from the tile whose border is farther
// from it (the boundary between two tiles is the middle of their overlap), so no output comes
// from within that margin of a tile edge except at the frame's own edges. Frames no larger than a tile are one
// tile. Tiles of several frames run through the network as one batch (batch_tiles), in inference
// mode without recording: the memory in use is that of one batch, whatever the movie's length.
//
// The output map of a frame is (h·r) × (w·r) for an output grid r times finer than the camera's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/nn/normalization.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>

namespace smlm::deep {

struct ReconstructOptions {
  std::ptrdiff_t tile_px = 128;    ///< largest tile side, camera pixels
  std::ptrdiff_t overlap_px = 16;  ///< margin at tile borders whose output is not used, camera pixels (≥ the
                                   ///< network's receptive radius: 2^depth · a few convolutions)
  std::ptrdiff_t batch_tiles = 4;  ///< tiles per forward pass
};

template <class Net>
class Reconstructor {
 public:
  Reconstructor(Net& net, nn::InputNormalization normalization, int upsample, ReconstructOptions options = {},
                nn::WorkerPool* pool = nullptr)
      : net_(net), norm_(normalization), r_(upsample), opt_(options), tape_(pool) {
    tape_.set_mode(nn::Mode::inference);
    tape_.set_recording(false);
  }

  int upsample() const noexcept { return r_; }
  /// Output-map rows/cols of a frame of h × w camera pixels.
  std::ptrdiff_t out_rows(std::ptrdiff_t h) const noexcept { return h * r_; }

  /// Output maps of `frames` (all of one size) into `maps` (each (h·r) × (w·r)).
  void run(std::span<const ConstImageView<float>> frames, std::span<const ImageView<float>> maps) {
    SMLM_ASSERT(frames.size() == maps.size(), "deep::Reconstructor::run: one map per frame");
    if (frames.empty()) return;
    const std::ptrdiff_t h = frames[0].rows(), w = frames[0].cols();
    plan(h, w);
    // Normalized, padded frames.
    const std::ptrdiff_t ph = padded_h_, pw = padded_w_;
    padded_.resize(frames.size());
    scratch_.resize(static_cast<std::size_t>(h * w));
    dense_.resize(static_cast<std::size_t>(h * w));
    for (std::size_t f = 0; f < frames.size(); ++f) {
      SMLM_ASSERT(frames[f].rows() == h && frames[f].cols() == w, "deep::Reconstructor::run: frames of one size");
      SMLM_ASSERT(maps[f].rows() == h * r_ && maps[f].cols() == w * r_, "deep::Reconstructor::run: map size");
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x) dense_[static_cast<std::size_t>(y * w + x)] = frames[f](y, x);
      const nn::FrameLevels levels = nn::frame_levels(dense_.data(), h * w, norm_.quantile, scratch_.data());
      auto& p = padded_[f];
      p.resize(static_cast<std::size_t>(ph * pw));
      const float background = static_cast<float>(-norm_.mean / norm_.sd);
      std::fill(p.begin(), p.end(), background);
      const double a = 1 / (levels.scale * norm_.sd), b = -(levels.median / levels.scale + norm_.mean) / norm_.sd;
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x)
          p[static_cast<std::size_t>(y * pw + x)] = static_cast<float>(a * double(dense_[static_cast<std::size_t>(y * w + x)]) + b);
    }
    // Every (frame, tile) job, in batches.
    const std::ptrdiff_t per_frame = static_cast<std::ptrdiff_t>(ys_.size() * xs_.size());
    const std::ptrdiff_t jobs = per_frame * static_cast<std::ptrdiff_t>(frames.size());
    const std::ptrdiff_t batch = std::max<std::ptrdiff_t>(1, opt_.batch_tiles);
    for (std::ptrdiff_t first = 0; first < jobs; first += batch) {
      const std::ptrdiff_t n = std::min(batch, jobs - first);
      if (input_.shape() != nn::Shape{n, 1, th_, tw_}) input_ = nn::Tensor<float>({n, 1, th_, tw_});
      for (std::ptrdiff_t j = 0; j < n; ++j) {
        const Job job = job_of(first + j, per_frame);
        const auto& p = padded_[static_cast<std::size_t>(job.frame)];
        float* dst = input_.data() + j * th_ * tw_;
        for (std::ptrdiff_t y = 0; y < th_; ++y)
          std::copy_n(p.data() + (ys_[job.ty].start + y) * pw + xs_[job.tx].start, tw_, dst + y * tw_);
      }
      tape_.reset();
      const nn::Var<float> out = net_.forward(tape_, tape_.input(input_.view()));
      const std::ptrdiff_t oh = th_ * r_, ow = tw_ * r_;
      SMLM_ASSERT(out.shape() == (nn::Shape{n, 1, oh, ow}), "deep::Reconstructor: unexpected network output shape");
      for (std::ptrdiff_t j = 0; j < n; ++j) {
        const Job job = job_of(first + j, per_frame);
        const Span sy = ys_[job.ty], sx = xs_[job.tx];
        ImageView<float> map = maps[static_cast<std::size_t>(job.frame)];
        const std::ptrdiff_t y0 = sy.core_begin * r_, y1 = std::min(sy.core_end, h) * r_;
        const std::ptrdiff_t x0 = sx.core_begin * r_, x1 = std::min(sx.core_end, w) * r_;
        const float* src = out.data() + j * oh * ow;
        for (std::ptrdiff_t y = y0; y < y1; ++y)
          for (std::ptrdiff_t x = x0; x < x1; ++x) map(y, x) = src[(y - sy.start * r_) * ow + (x - sx.start * r_)];
      }
    }
  }

  /// Tiles per frame of the last planned size (rows × columns of tiles).
  std::ptrdiff_t tiles() const noexcept { return static_cast<std::ptrdiff_t>(ys_.size() * xs_.size()); }
  std::size_t arena_bytes() noexcept { return tape_.arena().peak_bytes(); }

 private:
  /// A tile along one axis: input [start, start + size), output taken from [core_begin, core_end).
  struct Span {
    std::ptrdiff_t start, core_begin, core_end;
  };
  struct Job {
    std::ptrdiff_t frame;
    std::size_t ty, tx;
  };
  Job job_of(std::ptrdiff_t index, std::ptrdiff_t per_frame) const noexcept {
    const std::ptrdiff_t t = index % per_frame;
    return {index / per_frame, static_cast<std::size_t>(t) / xs_.size(), static_cast<std::size_t>(t) % xs_.size()};
  }
  static std::ptrdiff_t round_up(std::ptrdiff_t v, std::ptrdiff_t m) noexcept { return (v + m - 1) / m * m; }

  static std::vector<Span> spans(std::ptrdiff_t padded, std::ptrdiff_t tile, std::ptrdiff_t overlap, std::ptrdiff_t m) {
    std::vector<Span> s;
    if (padded <= tile) {
      s.push_back({0, 0, padded});
      return s;
    }
    // Overlap at most a quarter of the tile on each side: consecutive tiles start at least half a
    // tile apart, so a small --tile cannot multiply the work.
    const std::ptrdiff_t margin = std::min(overlap, tile / 4);
    const std::ptrdiff_t step = std::max(m, (tile - 2 * margin) / m * m);
    for (std::ptrdiff_t start = 0;; start += step) {
      const std::ptrdiff_t st = std::min(start, padded - tile);
      s.push_back({st, 0, 0});
      if (st + tile >= padded) break;
    }
    s.front().core_begin = 0;
    s.back().core_end = padded;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      const std::ptrdiff_t boundary = (s[i].start + tile + s[i + 1].start) / 2;
      s[i].core_end = boundary;
      s[i + 1].core_begin = boundary;
    }
    return s;
  }

  void plan(std::ptrdiff_t h, std::ptrdiff_t w) {
    if (h == h_ && w == w_) return;
    h_ = h, w_ = w;
    const std::ptrdiff_t m = Net::size_multiple(r_);
    padded_h_ = round_up(h, m), padded_w_ = round_up(w, m);
    const std::ptrdiff_t tile = std::max(m, opt_.tile_px / m * m);
    th_ = std::min(padded_h_, tile), tw_ = std::min(padded_w_, tile);
    ys_ = spans(padded_h_, th_, opt_.overlap_px, m);
    xs_ = spans(padded_w_, tw_, opt_.overlap_px, m);
  }

  Net& net_;
  nn::InputNormalization norm_;
  int r_;
  ReconstructOptions opt_;
  nn::Tape<float> tape_;
  std::ptrdiff_t h_ = 0, w_ = 0, padded_h_ = 0, padded_w_ = 0, th_ = 0, tw_ = 0;
  std::vector<Span> ys_, xs_;
  std::vector<std::vector<float>> padded_;
  std::vector<float> scratch_, dense_;
  nn::Tensor<float> input_;
};

}  // namespace smlm::deep
