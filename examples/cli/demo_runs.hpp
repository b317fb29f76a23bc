// The steps `smlm demo` and `smlm demo --sweep` share (demo_command.hpp, demo_sweep.hpp): the
// demo's options, the simulation of one phone-video movie, and the two ways of localizing it —
// the network (`smlm reconstruct`'s code) and classic fitting (`smlm localize`'s code).
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <smlm/core/image.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/sim/training_pairs.hpp>

#include "cli_common.hpp"
#include "localize_command.hpp"
#include "reconstruct_command.hpp"
#include "simulate_command.hpp"

namespace smlm::cli {

struct DemoOptions {
  std::string out_dir = "demo-out";
  std::ptrdiff_t frames = 300;
  std::ptrdiff_t size = 128;
  double pixel_nm = 80;
  double sigma_nm = 96;
  double density = 1.5;
  std::string photons = "500";
  double background = 5;
  int quality = 60;
  std::uint64_t seed = 7;  ///< a stream the shipped model's training never read
  std::string model;       ///< empty: the shipped cmos-phone model
  std::string models_dir;  ///< empty: models_command.hpp's default
  bool train = false;
  double train_minutes = 5;
  std::int64_t train_steps = 0;  ///< > 0: a step budget instead of --train-minutes
  int threads = 0;
  bool quiet = false;
  // --sweep (demo_sweep.hpp)
  bool sweep = false;
  std::string sweep_photons = "50,100,500,1000";
  std::string sweep_qualities = "60,80,95,none";
  bool keep_stacks = false;
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The movie's conditions as `smlm simulate` takes them; `quality` < 0: uncompressed phone frames.
inline SimulateOptions demo_simulation(const DemoOptions& o, const std::string& stack, const std::string& truth,
                                       const std::string& photons, int quality) {
  SimulateOptions s;
  s.output = stack;
  s.truth = truth;
  s.frames = o.frames;
  s.size = o.size;
  s.pixel_nm = o.pixel_nm;
  s.structure = "filaments";
  s.density = o.density;
  s.photons = photons;
  s.sigma_nm = o.sigma_nm;
  s.background = o.background;
  s.camera = "cmos-phone";
  s.quality = quality;
  s.seed = o.seed;
  s.threads = o.threads;
  return s;
}

/// A note on stderr for each condition of the movie outside the model's training range: photons
/// `photons_text` (A or A:B, given by `photons_flag`) and codec qualities `quality_lo`..`quality_hi`
/// (given by `quality_flag`; `quality_lo` < 0: uncompressed only, nothing to note).
inline void note_outside(const DemoOptions& o, const char* photons_flag, const std::string& photons_text,
                         const char* quality_flag, int quality_lo, int quality_hi, const std::string& model,
                         const sim::TrainingConditions& c) {
  const NumberRange photons = parse_range(photons_flag, photons_text, RangeBound::non_negative);
  auto note = [&](const char* flag, double lo, double hi, const sim::ValueRange& r) {
    if (lo < r.lo - 1e-9 || hi > r.hi + 1e-9)
      std::fprintf(stderr, "smlm demo: note: %s %g%s%s is outside what %s was trained for (%s); --train trains for it\n",
                   flag, lo, lo == hi ? "" : ":", lo == hi ? "" : format_number(hi).c_str(), model.c_str(),
                   range_text(r, "-").c_str());
  };
  note("--sigma-nm", o.sigma_nm, o.sigma_nm, c.sigma_nm);
  note(photons_flag, photons.lo, photons.hi, c.photons);
  note("--background", o.background, o.background, c.background_photons);
  if (c.coded() && quality_lo >= 0) note(quality_flag, quality_lo, quality_hi, c.quality);
}

/// Reconstructs `stack` with `model` (`smlm reconstruct`'s code) and moves its localizations to
/// `csv`; `sum`, when given, receives the network's output maps of all frames added up. Returns
/// the seconds it took.
inline double run_network(const std::string& model, const std::string& stack, const std::string& csv, int threads,
                          bool quiet, bool summary, Image<float>* sum = nullptr) {
  namespace fs = std::filesystem;
  ReconstructOptions ro;
  ro.positional = {model, stack};
  ro.output = csv + ".dir.tmp";
  ro.threads = threads;
  ro.quiet = quiet;
  ro.summary = summary;
  const auto t0 = std::chrono::steady_clock::now();
  run_reconstruct(ro);
  std::fflush(stdout);
  const double seconds = seconds_since(t0);
  std::error_code ec;
  fs::rename(ro.output + "/localizations.csv", csv, ec);
  if (ec) throw cli_error(csv + ": cannot move the network's localizations into place: " + ec.message());
  if (sum) {
    io::TiffReader reader = unwrap(io::TiffReader::open(ro.output + "/image.tif"));
    check(reader.read_frame(0, *sum));
  }
  fs::remove_all(ro.output, ec);
  return seconds;
}

/// Localizes `stack` with the classic wavelet + Gaussian MLE pipeline and the phone camera's noise
/// model (`smlm localize --camera cmos-phone`) into `csv`. Returns the seconds it took.
inline double run_classic(const DemoOptions& o, const std::string& stack, const std::string& csv, bool summary) {
  LocalizeOptions lo;
  lo.input = stack;
  lo.output = csv;
  lo.pixel_nm = o.pixel_nm;
  lo.sigma_nm = o.sigma_nm;
  lo.camera = "cmos-phone";
  lo.summary = summary;
  const auto t0 = std::chrono::steady_clock::now();
  run_localize(lo);
  std::fflush(stdout);
  return seconds_since(t0);
}

}  // namespace detail

}  // namespace smlm::cli
