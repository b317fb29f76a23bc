// `smlm info STACK.tif`: what a stack holds and its statistics.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "stack_statistics.hpp"

namespace smlm::cli {

inline void register_info(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("info", "print a TIFF stack's size, pixel type and statistics");
  auto path = std::make_shared<std::string>();
  auto per_frame = std::make_shared<bool>(false);
  cmd->add_option("STACK", *path, "TIFF stack")->required();
  cmd->add_flag("--frames", *per_frame, "also print one line per frame");
  cmd->callback([=, &exit_code] {
    const StackStatistics s = stack_statistics(*path, Progress::mode::quiet);
    std::printf("file=%s width=%td height=%td frames=%td type=%s byte_order=%s bigtiff=%d imagej_raw=%d\n",
                path->c_str(), s.info.width, s.info.height, s.info.frames, std::string(io::pixel_type_name(s.info.type)).c_str(),
                s.info.big_endian ? "big" : "little", s.info.bigtiff ? 1 : 0, s.info.imagej_raw ? 1 : 0);
    std::printf("min=%.6g max=%.6g mean=%.6g\n", s.min, s.max, s.mean);
    if (*per_frame)
      for (std::size_t f = 0; f < s.frames.size(); ++f)
        std::printf("frame=%zu mean=%.6g variance=%.6g min=%.6g max=%.6g\n", f + 1, s.frames[f].mean,
                    s.frames[f].variance, s.frames[f].min, s.frames[f].max);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
