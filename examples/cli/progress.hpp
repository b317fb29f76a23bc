// Progress reporting for long CLI jobs: a bar with rate and ETA on a terminal, plain periodic
// lines when the output is not a terminal (logs, CI), nothing when quiet.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace smlm::cli {

/// "m:ss" or "h:mm:ss"; "--:--" for an unknown (negative or non-finite) duration.
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  const std::int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[32];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
  return buf;
}

/// One progress line: `label [#####.....]  45% 450/1000 frames 123.4/s ETA 0:04`. With
/// bar_width 0 the bar is left out (the plain form written to logs). total 0 = unknown.
inline std::string format_progress(const std::string& label, std::int64_t done, std::int64_t total,
                                   double elapsed_s, const std::string& unit, int bar_width) {
  std::string line = label;
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  char buf[160];
  if (total > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    if (bar_width > 0) {
      const int filled = static_cast<int>(fraction * bar_width);
      line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
              std::string(static_cast<std::size_t>(bar_width - filled), '.') + "]";
    }
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1.0;
    std::snprintf(buf, sizeof buf, " %3d%% %lld/%lld %s %.1f/s ETA %s",
                  static_cast<int>(fraction * 100), static_cast<long long>(done),
                  static_cast<long long>(total), unit.c_str(), rate, format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, " %lld %s %.1f/s", static_cast<long long>(done), unit.c_str(), rate);
  }
  return line + buf;
}

class Progress {
 public:
  enum class mode { automatic, bar, plain, quiet };

  Progress(std::string label, std::int64_t total, std::string unit, mode m = mode::automatic,
           std::FILE* out = stderr)
      : label_(std::move(label)), unit_(std::move(unit)), total_(total), out_(out),
        start_(clock::now()), last_(start_) {
    mode_ = m != mode::automatic ? m : (isatty(fileno(out)) ? mode::bar : mode::plain);
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { finish(); }

  /// Reports that `done` items are complete; redraws at most 10 times a second on a terminal
  /// and every 5 seconds otherwise.
  void update(std::int64_t done) {
    done_ = done;
    const auto now = clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if ((mode_ == mode::bar && since >= 0.1) || (mode_ == mode::plain && since >= 5.0)) {
      last_ = now;
      draw(false);
    }
  }
  void finish() {
    if (finished_) return;
    finished_ = true;
    draw(true);
  }

 private:
  using clock = std::chrono::steady_clock;
  void draw(bool final_line) {
    if (mode_ == mode::quiet) return;
    const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    if (mode_ == mode::bar) {
      std::fprintf(out_, "\r%s\033[K%s", format_progress(label_, done_, total_, elapsed, unit_, 30).c_str(),
                   final_line ? "\n" : "");
    } else {
      std::fprintf(out_, "%s\n", format_progress(label_, done_, total_, elapsed, unit_, 0).c_str());
    }
    std::fflush(out_);
  }

  std::string label_, unit_;
  std::int64_t total_ = 0, done_ = 0;
  std::FILE* out_;
  mode mode_;
  clock::time_point start_, last_;
  bool finished_ = false;
};

}  // namespace smlm::cli
