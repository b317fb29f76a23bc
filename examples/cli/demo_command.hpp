// `smlm demo [-o DIR] [--train] [-q]`: the end-to-end run on built-in defaults (DESIGN.md's CLI
// contract; docs/demo.md). It wires the other commands' code, in-process:
//   1. simulate (simulate_command.hpp) a smartphone dSTORM acquisition: blinking emitters on
//      filaments, the cellphone CMOS camera (cmos-phone), the H.264-style codec at --quality; the
//      defaults are the conditions the shipped phone model was trained for (docs/cellstorm.md:
//      80 nm pixels, σ 96 nm, 1.5 emitters/µm² per frame, background 5, quality 60, 500 photons,
//      300 frames of 128 × 128);
//   2. with --train, train (train_command.hpp) a fresh sub_pixel ×4 model for exactly these
//      conditions for --train-minutes, with its progress bar; otherwise use --model or the
//      shipped model for cmos-phone (models_command.hpp);
//   3. reconstruct the movie with the network (reconstruct_command.hpp) and localize it with the
//      classic wavelet + Gaussian MLE pipeline (localize_command.hpp --camera cmos-phone);
//   4. evaluate both against the ground truth at 50, 100 and 250 nm (eval, as `smlm evaluate`);
//   5. write the report folder DIR (default demo-out/):
//        index.html            pictures and metrics table; opens from the file system
//        metrics.json          per method ("network", "classic") and tolerance ("50", "100",
//                              "250"): jaccard, precision, recall, f1, rmse_nm, tp, fp, fn
//                              (demo_report.hpp)
//        widefield.png, truth.png, classic.png, network.png, network_sum.png
//                              the same field at the same scale (pixel/4), scale bar, inset of
//                              the densest region (demo_render.hpp)
//        frame_raw.png, frame_network.png
//                              one compressed frame and the network's output for it
//        truth.csv, network.csv, classic.csv   ThunderSTORM localization tables
//        stack.tif             the simulated 8-bit movie; model.smlm (+ checkpoints) with --train
// and print, after the commands' own summary lines, one line per method and where the report is:
//   network jaccard@50=<j> jaccard@100=<j> jaccard@250=<j> precision@100=<p> recall@100=<r> rmse_nm@100=<e> localizations=<n> seconds=<s>
//   classic ...
//   report=<DIR>/index.html
// Every flag is checked, and the model file read, before anything is written.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/deep/model.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/nn/model_file.hpp>

#include "cli_common.hpp"
#include "demo_render.hpp"
#include "demo_report.hpp"
#include "localize_command.hpp"
#include "models_command.hpp"
#include "reconstruct_command.hpp"
#include "simulate_command.hpp"
#include "train_command.hpp"

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
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The movie's conditions as `smlm simulate` takes them.
inline SimulateOptions demo_simulation(const DemoOptions& o, const std::string& dir) {
  SimulateOptions s;
  s.output = dir + "stack.tif";
  s.truth = dir + "truth.csv";
  s.frames = o.frames;
  s.size = o.size;
  s.pixel_nm = o.pixel_nm;
  s.structure = "filaments";
  s.density = o.density;
  s.photons = o.photons;
  s.sigma_nm = o.sigma_nm;
  s.background = o.background;
  s.camera = "cmos-phone";
  s.quality = o.quality;
  s.seed = o.seed;
  s.threads = o.threads;
  return s;
}

/// A note on stderr for each condition of the movie outside the model's training range.
inline void note_outside(const DemoOptions& o, const std::string& model, const sim::TrainingConditions& c) {
  const NumberRange photons = parse_range("--photons", o.photons, RangeBound::non_negative);
  auto note = [&](const char* flag, double lo, double hi, const sim::ValueRange& r) {
    if (lo < r.lo - 1e-9 || hi > r.hi + 1e-9)
      std::fprintf(stderr, "smlm demo: note: %s %g%s%s is outside what %s was trained for (%s); --train trains for it\n",
                   flag, lo, lo == hi ? "" : ":", lo == hi ? "" : format_number(hi).c_str(), model.c_str(),
                   range_text(r, "-").c_str());
  };
  note("--sigma-nm", o.sigma_nm, o.sigma_nm, c.sigma_nm);
  note("--photons", photons.lo, photons.hi, c.photons);
  note("--background", o.background, o.background, c.background_photons);
  if (c.coded()) note("--quality", o.quality, o.quality, c.quality);
}

/// The network's output map of one camera frame.
inline Image<float> network_map(const nn::ModelFile& file, const deep::ModelInfo& info, const Image<float>& frame, int threads) {
  Image<float> map(frame.rows() * info.upsample, frame.cols() * info.upsample);
  check(deep::with_network(info.arch, info.upsample, [&](auto& net) -> Status {
    SMLM_TRY(deep::load_weights(file, info, net));
    nn::WorkerPool pool(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    deep::Reconstructor<std::remove_reference_t<decltype(net)>> rec(net, info.normalization, info.upsample, {}, &pool);
    const std::array<ConstImageView<float>, 1> in{const_view(frame)};
    const std::array<ImageView<float>, 1> out{make_view(map)};
    rec.run(in, out);
    return {};
  }));
  return map;
}

inline std::string headline(const demo::MethodResult& m) {
  const eval::DetectionMetrics &j50 = m.at(50), &j100 = m.at(100), &j250 = m.at(250);
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%s jaccard@50=%.4f jaccard@100=%.4f jaccard@250=%.4f precision@100=%.4f recall@100=%.4f rmse_nm@100=%.2f "
                "localizations=%zu seconds=%.2f\n",
                m.name.c_str(), j50.jaccard, j100.jaccard, j250.jaccard, j100.precision, j100.recall, j100.rmse_lateral_nm,
                m.localizations, m.seconds);
  return buf;
}

}  // namespace detail

inline void run_demo(const DemoOptions& opt) {
  namespace fs = std::filesystem;
  const auto start = std::chrono::steady_clock::now();
  std::string dir = opt.out_dir;
  if (dir.empty()) throw CLI::ValidationError("-o", "the report folder name is empty");
  if (dir.back() != '/') dir += '/';
  const SimulateOptions sim_options = detail::demo_simulation(opt, dir);
  validate_simulate(sim_options);
  auto step = [&](const std::string& text) {
    if (opt.quiet) return;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  };

  // The model, unless trained below: read now, so that a bad file fails before any work.
  std::string model_path;
  std::unique_ptr<nn::ModelFile> model_file;
  deep::ModelInfo info;
  if (!opt.train) {
    model_path = opt.model.empty() ? default_model_for("cmos-phone", models_dir(opt.models_dir)) : opt.model;
    model_file = std::make_unique<nn::ModelFile>(unwrap(nn::load_model_file(model_path)));
    info = unwrap(deep::read_info(*model_file));
    const double model_pixel = info.conditions.pixel_nm;
    if (std::abs(model_pixel - opt.pixel_nm) > 1e-6 * model_pixel)
      throw CLI::ValidationError("--pixel-nm", "value " + format_number(opt.pixel_nm) + ": the model " + model_path +
                                                   " was trained for " + format_number(model_pixel) +
                                                   " nm pixels (--train trains one for these)");
    detail::note_outside(opt, model_path, info.conditions);
  }
  std::error_code ec, ec_dir;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec_dir))
    throw cli_error("-o " + opt.out_dir + ": cannot create the report folder" + (ec ? ": " + ec.message() : std::string()));

  demo::RunDescription run;
  run.frames = opt.frames;
  run.size_px = opt.size;
  run.pixel_nm = opt.pixel_nm;
  run.sigma_nm = opt.sigma_nm;
  run.density_per_um2 = opt.density;
  run.background_photons = opt.background;
  run.photons = opt.photons;
  run.quality = opt.quality;
  run.seed = opt.seed;

  step("simulate: " + std::to_string(opt.frames) + " frames of " + std::to_string(opt.size) + "x" + std::to_string(opt.size) +
       " phone video (filaments, " + opt.photons + " photons, quality " + std::to_string(opt.quality) + ") -> " +
       sim_options.output);
  auto t0 = std::chrono::steady_clock::now();
  run_simulate(sim_options);
  std::fflush(stdout);
  run.simulate_seconds = detail::seconds_since(t0);

  if (opt.train) {
    TrainOptions t;
    t.output = dir + "model.smlm";
    t.arch = "sub_pixel";
    t.upsample = 4;
    t.pixel_nm = opt.pixel_nm;
    t.sigma_nm = format_number(opt.sigma_nm);
    t.photons = opt.photons;
    t.density = format_number(opt.density);
    t.background = format_number(opt.background);
    t.camera = "cmos-phone";
    t.quality = std::to_string(opt.quality);
    if (opt.train_steps > 0) {
      t.steps = opt.train_steps;
      // A quick check's model: validated (and its threshold tuned) on one batch instead of 8.
      if (opt.train_steps < 200) t.validation_batches = 1;
    } else {
      t.minutes = opt.train_minutes;
    }
    t.threads = opt.threads;
    t.quiet = opt.quiet;
    t.command = "smlm demo --train (sub_pixel x4 for the demo's conditions)";
    step("train: a fresh sub_pixel x4 model for these conditions, " +
         (opt.train_steps > 0 ? std::to_string(opt.train_steps) + " steps" : format_number(opt.train_minutes) + " minutes") +
         " -> " + t.output);
    t0 = std::chrono::steady_clock::now();
    run_train(t);
    std::fflush(stdout);
    run.train_seconds = detail::seconds_since(t0);
    model_path = t.output;
    model_file = std::make_unique<nn::ModelFile>(unwrap(nn::load_model_file(model_path)));
    info = unwrap(deep::read_info(*model_file));
  }
  run.model = model_path;
  run.trained = opt.train;
  run.model_note = info.arch + " ×" + std::to_string(info.upsample) + ", trained on " + info.camera + " frames: " +
                   format_number(info.conditions.pixel_nm) + " nm pixels, σ " + detail::range_text(info.conditions.sigma_nm, "-") +
                   " nm, " + detail::range_text(info.conditions.photons, "-") + " photons" +
                   (info.conditions.coded() ? ", quality " + detail::range_text(info.conditions.quality, "-") : std::string());

  std::vector<demo::MethodResult> methods(2);
  demo::MethodResult& network = methods[0];
  demo::MethodResult& classic = methods[1];
  network.name = "network", network.title = "network", network.csv = "network.csv";
  classic.name = "classic", classic.title = "classic", classic.csv = "classic.csv";

  step("network: " + model_path + " -> " + dir + "network.csv");
  ReconstructOptions ro;
  ro.positional = {model_path, sim_options.output};
  ro.output = dir + "network.tmp";
  ro.threads = opt.threads;
  ro.quiet = opt.quiet;
  t0 = std::chrono::steady_clock::now();
  run_reconstruct(ro);
  std::fflush(stdout);
  network.seconds = detail::seconds_since(t0);
  fs::rename(ro.output + "/localizations.csv", dir + "network.csv", ec);
  if (ec) throw cli_error(dir + "network.csv: cannot move the network's localizations into place: " + ec.message());
  Image<float> network_sum;
  {
    io::TiffReader reader = unwrap(io::TiffReader::open(ro.output + "/image.tif"));
    check(reader.read_frame(0, network_sum));
  }
  fs::remove_all(ro.output, ec);

  step("classic: wavelet detection + Gaussian MLE (--camera cmos-phone) -> " + dir + "classic.csv");
  LocalizeOptions lo;
  lo.input = sim_options.output;
  lo.output = dir + "classic.csv";
  lo.pixel_nm = opt.pixel_nm;
  lo.sigma_nm = opt.sigma_nm;
  lo.camera = "cmos-phone";
  t0 = std::chrono::steady_clock::now();
  run_localize(lo);
  std::fflush(stdout);
  classic.seconds = detail::seconds_since(t0);

  const LocalizationTable truth = unwrap(io::read_localizations_csv(sim_options.truth));
  const LocalizationTable network_locs = unwrap(io::read_localizations_csv(dir + "network.csv"));
  const LocalizationTable classic_locs = unwrap(io::read_localizations_csv(dir + "classic.csv"));
  demo::evaluate_method(truth, network_locs, network);
  demo::evaluate_method(truth, classic_locs, classic);
  run.truth_rows = truth.size();

  // The widefield sum, and the frame with the most emitters on (the first of equals).
  std::vector<std::size_t> per_frame(static_cast<std::size_t>(opt.frames), 0);
  for (const std::int32_t f : truth.frame)
    if (f >= 1 && f <= opt.frames) ++per_frame[static_cast<std::size_t>(f - 1)];
  const auto shown = static_cast<std::ptrdiff_t>(std::max_element(per_frame.begin(), per_frame.end()) - per_frame.begin());
  run.shown_frame = shown + 1;
  Image<float> widefield = Image<float>::Zero(opt.size, opt.size), frame, shown_frame;
  {
    io::TiffReader reader = unwrap(io::TiffReader::open(sim_options.output));
    for (std::ptrdiff_t f = 0; f < reader.frames(); ++f) {
      check(reader.read_frame(f, frame));
      widefield += frame;
      if (f == shown) shown_frame = frame;
    }
  }
  const Image<float> shown_map = detail::network_map(*model_file, info, shown_frame, opt.threads);

  step("report: evaluate at 50, 100, 250 nm and render -> " + dir);
  const double field_nm = double(opt.size) * opt.pixel_nm;
  const demo::Layout layout = demo::make_layout({0, 0, field_nm, field_nm}, opt.pixel_nm / 4, truth);
  run.pixel_render_nm = layout.pixel_nm;
  run.inset_pixel_nm = layout.inset_pixel_nm;
  run.bar_nm = layout.bar_nm;
  run.inset_bar_nm = layout.inset_bar_nm;
  run.zoom = layout.zoom;
  run.region_px = layout.inset_px / layout.zoom;
  const demo::Style hot{render::colormap::hot, true}, grey{render::colormap::grey, false};
  const double map_pixel_nm = info.conditions.pixel_nm / info.upsample;
  demo::write_rgb_png(dir + "widefield.png", demo::panel(demo::resampled(widefield, opt.pixel_nm), layout, grey));
  demo::write_rgb_png(dir + "truth.png", demo::panel(demo::gaussian_of(truth), layout, hot));
  demo::write_rgb_png(dir + "classic.png", demo::panel(demo::gaussian_of(classic_locs), layout, hot));
  demo::write_rgb_png(dir + "network.png", demo::panel(demo::gaussian_of(network_locs), layout, hot));
  demo::write_rgb_png(dir + "network_sum.png", demo::panel(demo::resampled(network_sum, map_pixel_nm), layout, hot));
  demo::write_rgb_png(dir + "frame_raw.png", demo::plain_panel(demo::resampled(shown_frame, opt.pixel_nm), layout, grey));
  render::RgbImage frame_network = demo::plain_panel(demo::resampled(shown_map, map_pixel_nm), layout, hot);
  const double ring_px = std::max(3.0, 1.5 * opt.sigma_nm / layout.pixel_nm);
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth.frame[i] == run.shown_frame)
      demo::draw_circle(frame_network, truth.x_nm[i] / layout.pixel_nm, truth.y_nm[i] / layout.pixel_nm, ring_px, {0, 230, 0});
  demo::write_rgb_png(dir + "frame_network.png", frame_network);

  run.total_seconds = detail::seconds_since(start);
  demo::write_text_file(dir + "metrics.json", demo::metrics_json(run, methods));
  demo::write_text_file(dir + "index.html", demo::index_html(run, methods));
  for (const demo::MethodResult& m : methods) std::fputs(detail::headline(m).c_str(), stdout);
  std::printf("report=%sindex.html seconds=%.1f\n", dir.c_str(), run.total_seconds);
}

inline void register_demo(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "demo", "end-to-end run: simulate phone dSTORM video, reconstruct with the shipped network and with classic fitting, "
              "evaluate; writes a report folder (index.html, metrics.json, PNGs)");
  auto opt = std::make_shared<DemoOptions>();
  cmd->add_option("-o,--output", opt->out_dir, "report folder")->capture_default_str();
  cmd->add_option("--frames", opt->frames, "frames of the movie")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--size", opt->size, "frame width and height, camera pixels")->capture_default_str()->check(CLI::Range(16, 512));
  cmd->add_option("--pixel-nm", opt->pixel_nm, "camera pixel size in nm (the model's, unless --train)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sigma-nm", opt->sigma_nm, "PSF standard deviation, nm")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--density", opt->density, "emitters on per frame per µm²")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--photons", opt->photons, "photons per emitter per frame, A or A:B")->capture_default_str();
  cmd->add_option("--background", opt->background, "background, photons per pixel per frame")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--quality", opt->quality, "codec quality 0..100")->capture_default_str()->check(CLI::Range(0, 100));
  cmd->add_option("--seed", opt->seed, "random seed of the movie")->capture_default_str();
  auto* model = cmd->add_option("--model", opt->model, "network model file (default: the shipped model for cmos-phone)")
                    ->check(CLI::ExistingFile);
  cmd->add_option("--models-dir", opt->models_dir, "folder of the shipped models (default: $SMLM_MODELS, else models/)");
  cmd->add_flag("--train", opt->train, "train a fresh model for these conditions first, and use it")->excludes(model);
  cmd->add_option("--train-minutes", opt->train_minutes, "with --train: training budget, minutes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--train-steps", opt->train_steps,
                  "with --train: a budget in optimizer steps instead of minutes (under 200: validated on one batch, "
                  "for quick checks)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", opt->threads, "threads (0: all)")->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress output");
  cmd->callback([opt, &exit_code] {
    run_demo(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
