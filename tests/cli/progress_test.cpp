#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "progress.hpp"

using smlm::cli::format_duration;
using smlm::cli::format_progress;

TEST_CASE("durations print as m:ss or h:mm:ss") {
  CHECK(format_duration(0) == "0:00");
  CHECK(format_duration(59.4) == "0:59");
  CHECK(format_duration(59.6) == "1:00");
  CHECK(format_duration(3 * 3600 + 2 * 60 + 5) == "3:02:05");
  CHECK(format_duration(-1) == "--:--");
  CHECK(format_duration(1.0 / 0.0) == "--:--");
}

TEST_CASE("progress line shows fraction, counts, rate and ETA") {
  // 250 of 1000 frames in 5 s: 50 frames/s, 750 left -> 15 s.
  CHECK(format_progress("sim", 250, 1000, 5.0, "frames", 0) == "sim  25% 250/1000 frames 50.0/s ETA 0:15");
  CHECK(format_progress("sim", 250, 1000, 5.0, "frames", 8) == "sim [##......]  25% 250/1000 frames 50.0/s ETA 0:15");
  CHECK(format_progress("sim", 1000, 1000, 2.0, "frames", 4) == "sim [####] 100% 1000/1000 frames 500.0/s ETA 0:00");
  // Nothing done yet: no rate, unknown ETA.
  CHECK(format_progress("x", 0, 10, 0.0, "steps", 0) == "x   0% 0/10 steps 0.0/s ETA --:--");
  // Unknown total.
  CHECK(format_progress("x", 42, 0, 2.0, "steps", 10) == "x 42 steps 21.0/s");
}

TEST_CASE("plain mode writes whole lines, quiet writes nothing") {
  char buffer[512] = {};
  std::FILE* mem = fmemopen(buffer, sizeof buffer - 1, "w");
  REQUIRE(mem != nullptr);
  {
    smlm::cli::Progress p("job", 3, "items", smlm::cli::Progress::mode::plain, mem);
    p.update(1);  // within 5 s of the start: no line yet
    p.update(3);
  }  // the destructor writes the final line
  std::fclose(mem);
  const std::string out = buffer;
  CHECK(out.find("job 100% 3/3 items") == 0);
  CHECK(out.find('\r') == std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);

  char quiet_buffer[64] = {};
  std::FILE* quiet_mem = fmemopen(quiet_buffer, sizeof quiet_buffer - 1, "w");
  { smlm::cli::Progress q("job", 3, "items", smlm::cli::Progress::mode::quiet, quiet_mem); q.update(3); }
  std::fclose(quiet_mem);
  CHECK(std::string(quiet_buffer).empty());
}
