// Per-frame statistics of a stack, read frame by frame (memory stays bounded by one frame).
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/io/tiff_reader.hpp>

#include "cli_common.hpp"
#include "progress.hpp"

namespace smlm::cli {

struct FrameStatistics {
  double mean = 0, variance = 0, min = 0, max = 0;
};

struct StackStatistics {
  io::TiffInfo info;
  std::vector<FrameStatistics> frames;
  Image<double> sum;  ///< the summed frames, height × width
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double mean = 0;  ///< over all pixels of all frames
};

/// Reads `path` frame by frame, returning per-frame mean/variance/min/max and the summed image.
inline StackStatistics stack_statistics(const std::string& path, Progress::mode progress_mode) {
  io::TiffReader reader = unwrap(io::TiffReader::open(path));
  StackStatistics stats;
  stats.info = reader.info();
  stats.sum = Image<double>::Zero(reader.height(), reader.width());
  Image<double> frame(reader.height(), reader.width());
  Progress progress("reading " + path, reader.frames(), "frames", progress_mode);
  double total = 0;
  for (std::ptrdiff_t f = 0; f < reader.frames(); ++f) {
    check(reader.read_frame(f, frame));
    FrameStatistics s;
    s.mean = frame.mean();
    s.variance = frame.size() > 1 ? (frame - s.mean).square().sum() / static_cast<double>(frame.size() - 1) : 0.0;
    s.min = frame.minCoeff();
    s.max = frame.maxCoeff();
    stats.frames.push_back(s);
    stats.sum += frame;
    stats.min = std::min(stats.min, s.min);
    stats.max = std::max(stats.max, s.max);
    total += s.mean;
    progress.update(f + 1);
  }
  progress.finish();
  stats.mean = stats.frames.empty() ? 0.0 : total / static_cast<double>(stats.frames.size());
  return stats;
}

}  // namespace smlm::cli
