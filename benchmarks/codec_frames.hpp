// Synthetic 8-bit microscopy-like video frames shared by bench_codec and the x264 comparison tool:
// a dim noisy background with a few dozen blinking, drifting Gaussian spots (deterministic).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <smlm/codec/block.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>

namespace smlm_bench {

inline std::vector<smlm::Image<std::uint8_t>> microscopy_frames(int width, int height, int count) {
  std::vector<smlm::Image<std::uint8_t>> frames;
  const int spots = width * height / 400;
  for (int f = 0; f < count; ++f) {
    smlm::Philox4x32 rng(7, static_cast<std::uint32_t>(f), smlm::rng_purpose::user);
    smlm::Philox4x32 layout(7, 0, smlm::rng_purpose::emitters);
    smlm::Image<double> v = smlm::Image<double>::Constant(height, width, 30.0);
    for (int s = 0; s < spots; ++s) {
      const double cx = smlm::uniform<double>(layout, 2.0, width - 2.0), cy = smlm::uniform<double>(layout, 2.0, height - 2.0);
      const double on = smlm::uniform01<double>(rng);
      if (on < 0.6) continue;  // blinking: about 40 % of the spots are on in a frame
      const double a = 80 + 120 * smlm::uniform01<double>(rng);
      for (int y = std::max(0, static_cast<int>(cy) - 4); y < std::min(height, static_cast<int>(cy) + 5); ++y)
        for (int x = std::max(0, static_cast<int>(cx) - 4); x < std::min(width, static_cast<int>(cx) + 5); ++x)
          v(y, x) += a * std::exp(-((x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy)) / 3.0);
    }
    smlm::Image<std::uint8_t> frame(height, width);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        frame(y, x) = smlm::codec::clip_pixel(static_cast<int>(std::lround(v(y, x) + smlm::normal(rng, 0.0, 4.0))));
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace smlm_bench
