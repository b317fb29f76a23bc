// `smlm demo [-o DIR] [--train | --sweep] [-q]`: the end-to-end run on built-in defaults (DESIGN.md's CLI
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
//        overview.png          widefield, truth, classic and network at half the size, side by
//                              side with their Jaccard@100 (the README's picture)
//        truth.csv, network.csv, classic.csv   ThunderSTORM localization tables
//        stack.tif             the simulated 8-bit movie; model.smlm (+ checkpoints) with --train
// and print, after the commands' own summary lines, one line per method and where the report is:
//   network jaccard@50=<j> jaccard@100=<j> jaccard@250=<j> precision@100=<p> recall@100=<r> rmse_nm@100=<e> localizations=<n> seconds=<s>
//   classic ...
//   report=<DIR>/index.html
// `smlm demo --sweep` runs cellSTORM's comparison over photons × video quality instead
// (demo_sweep.hpp). Every flag is checked, and the model file read, before anything is written.
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
#include "demo_runs.hpp"
#include "demo_sweep.hpp"
#include "localize_command.hpp"
#include "models_command.hpp"
#include "reconstruct_command.hpp"
#include "simulate_command.hpp"
#include "train_command.hpp"

namespace smlm::cli {

namespace detail {

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
  const SimulateOptions sim_options =
      detail::demo_simulation(opt, dir + "stack.tif", dir + "truth.csv", opt.photons, opt.quality);
  validate_simulate(sim_options);
  const demo::SweepPlan sweep = opt.sweep ? demo::parse_sweep(opt) : demo::SweepPlan{};
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
    if (opt.sweep) {
      detail::note_outside(opt, "--sweep-photons", sweep.photons_range(), "--sweep-qualities", sweep.coded_quality_lo(),
                           sweep.coded_quality_hi(), model_path, info.conditions);
    } else {
      detail::note_outside(opt, "--photons", opt.photons, "--quality", opt.quality, opt.quality, model_path, info.conditions);
    }
  }
  std::error_code ec, ec_dir;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec_dir))
    throw cli_error("-o " + opt.out_dir + ": cannot create the report folder" + (ec ? ": " + ec.message() : std::string()));
  if (opt.sweep) {
    demo::run_sweep(opt, sweep, dir, model_path);
    return;
  }

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
  Image<float> network_sum;
  network.seconds =
      detail::run_network(model_path, sim_options.output, dir + "network.csv", opt.threads, opt.quiet, true, &network_sum);

  step("classic: wavelet detection + Gaussian MLE (--camera cmos-phone) -> " + dir + "classic.csv");
  classic.seconds = detail::run_classic(opt, sim_options.output, dir + "classic.csv", true);

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
  // The four main panels at half the size, side by side (README's picture).
  const demo::Layout half = demo::make_layout({0, 0, field_nm, field_nm}, opt.pixel_nm / 2, truth);
  auto jaccard_caption = [](const char* name, const demo::MethodResult& m) {
    return std::string(name) + " J@100 " + demo::fixed(m.at(100).jaccard, 3);
  };
  demo::write_rgb_png(dir + "overview.png",
                      demo::side_by_side({{"WIDEFIELD", demo::panel(demo::resampled(widefield, opt.pixel_nm), half, grey)},
                                          {"TRUTH", demo::panel(demo::gaussian_of(truth), half, hot)},
                                          {jaccard_caption("CLASSIC", classic), demo::panel(demo::gaussian_of(classic_locs), half, hot)},
                                          {jaccard_caption("NETWORK", network), demo::panel(demo::gaussian_of(network_locs), half, hot)}}));

  run.total_seconds = detail::seconds_since(start);
  write_text_file(dir + "metrics.json", demo::metrics_json(run, methods));
  write_text_file(dir + "index.html", demo::index_html(run, methods));
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
  auto* train = cmd->add_flag("--train", opt->train, "train a fresh model for these conditions first, and use it")->excludes(model);
  cmd->add_flag("--sweep", opt->sweep,
                "instead of the one movie: cellSTORM's comparison over --sweep-photons x --sweep-qualities "
                "(sweep.html, sweep.csv, sweep.md, sweep.png)")
      ->excludes(train);
  cmd->add_option("--sweep-photons", opt->sweep_photons, "with --sweep: photons per emitter, comma-separated")
      ->capture_default_str();
  cmd->add_option("--sweep-qualities", opt->sweep_qualities,
                  "with --sweep: codec qualities 0..100 or none (uncompressed), comma-separated")
      ->capture_default_str();
  cmd->add_flag("--keep-stacks", opt->keep_stacks, "with --sweep: keep each condition's movie (sweep/NAME.tif)");
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
