// `smlm train -o MODEL --arch deep_storm|sub_pixel|cell_storm[_shuffle] [...]`: trains a localization network on
// simulated patches (deep/batches.hpp) for a budget of steps or minutes and writes a model file
// (deep/model.hpp) with the decoding threshold chosen on a validation set.
//
// Files: MODEL (the weights with the lowest validation loss, threshold tuned), MODEL.best.ckpt
// and MODEL.last.ckpt (checkpoints with the Adam state: `--resume MODEL.last.ckpt` continues the
// run until its budget, counted over all runs, is spent, with the checkpoint's imaging conditions
// and training settings — only --steps/--minutes, --threads and -q are taken from the command
// line). Every file is written under a temporary name and renamed when complete.
//
// Ranges: every imaging flag takes a number or A:B (drawn uniformly per patch; photons: per
// emitter, around a level drawn per patch, --photon-spread; sim/training_pairs.hpp, step 4).
// Output: progress on stderr (a bar on a terminal, a line every 10 s otherwise, none with -q)
// and one summary line on stdout:
//   arch=<a> upsample=<r> steps=<n> minutes=<m> loss=<l> val_loss=<v> best_step=<s> threshold=<t>
//   min_distance_px=<d> val_jaccard=<j> val_rmse_nm=<e> steps_per_s=<x> data_wait_s=<w> split_factor=<f>
//   adversarial_steps=<n>
// (split_factor 0: the decoder does not count molecules by output mass, deep/decode.hpp;
// adversarial_steps: this run's cGAN steps, nn/cgan.hpp)
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/deep/batches.hpp>
#include <smlm/deep/decode.hpp>
#include <smlm/deep/model.hpp>
#include <smlm/nn/loss.hpp>
#include <smlm/nn/patchgan.hpp>
#include <smlm/nn/trainer.hpp>

#include "cli_common.hpp"
#include "progress.hpp"

namespace smlm::cli {

struct TrainOptions {
  std::string output;
  std::string arch = "sub_pixel";
  int upsample = 0;  // 0: the preset's default
  double pixel_nm = 100;
  std::string sigma_nm = "110";
  std::string photons = "2000:2500";
  double photon_spread = 2;  // emitters of a patch within ×2 of its level; 0: independent
  std::string density = "6";
  std::string background = "20";
  std::string camera = "ideal";
  std::string quality;  // empty: no codec
  int gop = 8;          // with --quality: patches are frame 1..gop of a coded sequence
  bool grid_offset = true;
  bool deblock = false;
  double minutes = 0;
  std::int64_t steps = 0;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string resume;
  std::int64_t batch = 16;
  std::int64_t patch = 0;  // 0: the preset's default
  double lr = 1e-3;
  std::string target = "spikes";
  std::int64_t validate_every = 200;
  std::int64_t validation_batches = 8;
  double tolerance_nm = 100;
  double gan_weight = std::nan("");  // NaN: 3 for cell_storm (0 elsewhere)
  std::string content_loss;          // empty: l1 for cell_storm, blurred_mse elsewhere
  double l1_weight = 100;
  double sparsity_weight = 100;
  std::int64_t gan_warmup = 500;
  std::int64_t gan_every = 1;
  bool quiet = false;
  std::string command;  // the command line, stored in the model
};

/// A range flag as the training conditions take it.
inline sim::ValueRange parse_value_range(const std::string& flag, const std::string& text,
                                         RangeBound bound = RangeBound::any,
                                         double max = std::numeric_limits<double>::infinity()) {
  const NumberRange r = parse_range(flag, text, bound, max);
  return {r.lo, r.hi};
}

/// Calls f(camera) with the training camera of that name (patch × patch sensor for sCMOS).
template <class F>
void with_training_camera(const std::string& name, std::ptrdiff_t patch, F&& f) {
  if (name == "ideal") {
    f(camera::Ideal<float>{});
  } else if (name == "emccd") {
    f(camera::FastEmccd<float>{});
  } else if (name == "cmos-phone") {
    f(camera::CmosPhone<float>{});
  } else {
    // Uniform maps with the CLI's sCMOS defaults (cli_common.hpp).
    const Image<float> offset = Image<float>::Constant(patch, patch, static_cast<float>(ScmosDefaults::offset_adu));
    const Image<float> gain = Image<float>::Constant(patch, patch, static_cast<float>(ScmosDefaults::e_per_adu));
    const Image<float> variance = Image<float>::Constant(patch, patch, static_cast<float>(ScmosDefaults::read_variance_adu2));
    f(camera::Scmos<float>(offset, gain, variance, static_cast<float>(ScmosDefaults::qe)));
  }
}

/// Progress of a training run on one line: a bar on a terminal, plain lines every 10 s otherwise.
class TrainProgressPrinter {
 public:
  explicit TrainProgressPrinter(bool quiet) : quiet_(quiet), bar_(isatty(fileno(stderr)) != 0) {}
  void operator()(const nn::TrainProgress& p) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!bar_ && std::chrono::duration<double>(now - last_).count() < 10 && p.fraction < 1) return;
    last_ = now;
    char buf[256];
    std::string bar;
    if (bar_) {
      const int filled = static_cast<int>(std::min(1.0, p.fraction) * 24);
      bar = " [" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(24 - filled), '.') + "]";
    }
    std::snprintf(buf, sizeof buf, "train%s %3d%% step %lld loss %.4g val %.4g lr %.2g %.2f steps/s ETA %s",
                  bar.c_str(), static_cast<int>(std::min(1.0, p.fraction) * 100), static_cast<long long>(p.step), p.loss,
                  p.validation_loss, p.lr, p.steps_per_s, format_duration(p.eta_s).c_str());
    if (bar_) {
      std::fprintf(stderr, "\r%s\033[K%s", buf, p.fraction >= 1 ? "\n" : "");
    } else {
      std::fprintf(stderr, "%s\n", buf);
    }
    std::fflush(stderr);
  }

 private:
  bool quiet_, bar_;
  std::chrono::steady_clock::time_point last_{};
};

/// The loss of a preset and target kind: Deep-STORM's blurred MSE + L1 for spikes, MSE for
/// distance maps, and for cell_storm (tanh output, spikes of 1) cellSTORM's L1 to the blurred
/// target + sparsity (nn::cell_storm_loss; with a discriminator, nn::CganLoss adds the
/// adversarial term).
struct TargetLoss {
  sim::TargetKind kind = sim::TargetKind::spikes;
  bool cell_storm = false;
  nn::DeepStormLossOptions options{};
  nn::CellStormLossOptions cell_storm_options{};
  const float* kernel = nullptr;  ///< deep_storm_kernel or cell_storm_kernel of the options, kept alive by the caller
  std::ptrdiff_t kernel_size() const noexcept { return cell_storm ? cell_storm_options.kernel_size : options.kernel_size; }
  void fill_kernel(float* k) const {
    if (cell_storm) {
      nn::cell_storm_kernel(k, cell_storm_options);
    } else {
      nn::deep_storm_kernel(k, options);
    }
  }
  nn::Var<float> operator()(nn::Tape<float>& tape, const nn::Var<float>& y, const nn::Var<float>& t) const {
    if (kind == sim::TargetKind::distance) return nn::mse(tape, y, t);
    if (cell_storm) return nn::cell_storm_loss(tape, y, t, cell_storm_options, kernel);
    const nn::Var<float> blurred = nn::fixed_conv2d(tape, t, nn::TensorView<const float>(kernel, {1, 1, options.kernel_size, options.kernel_size}));
    return nn::deep_storm_loss(tape, y, blurred, options, kernel);
  }
};

namespace detail {

template <class Net, class Camera>
void train_with(const TrainOptions& o, Net& net, const Camera& cam, deep::ModelInfo info, const nn::ModelFile* checkpoint) {
  nn::WorkerPool pool(o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  deep::TrainingBatches<Camera> batches(info.conditions, cam, info.seed, info.batch, info.upsample, info.target,
                                        info.normalization);
  nn::TrainState state;
  if (checkpoint) {
    check(deep::load_weights(*checkpoint, info, net, /*with_optimizer_state=*/true));
    state = info.training;
  } else {
    info.normalization = batches.fit_normalization(256);
    batches.set_normalization(info.normalization);
    net.init(info.seed);
  }
  const deep::ValidationSet validation = batches.validation(info.validation_batches);

  nn::TrainerOptions topt;
  topt.budget = info.budget;
  topt.adam.lr = info.lr;
  topt.validate_every = info.validate_every;
  TargetLoss loss;
  loss.kind = info.target.kind;
  loss.cell_storm = deep::is_cell_storm(info.arch) && info.gan.content == nn::CganContent::l1;
  loss.cell_storm_options = info.gan.generator;
  // Deep-STORM's balance for any spike height h: the blurred MSE grows as h², the sparsity term
  // as h, so λ = h / 100 keeps the ratio of its spikes of 100 with λ = 1 (cell_storm's tanh output
  // holds spikes of 1: λ = 0.01; with λ = 1 there, zero output is the optimum).
  loss.options.l1_weight = info.target.spike_value / 100;
  info.gan.blurred_mse = loss.options;
  std::vector<float> kernel(static_cast<std::size_t>(loss.kernel_size() * loss.kernel_size()));
  loss.fill_kernel(kernel.data());
  loss.kernel = kernel.data();
  // With the blurred MSE the discriminator sees blurred maps scaled so that a molecule on its own
  // peaks at 1 (nn/cgan.hpp).
  if (info.gan.content == nn::CganContent::blurred_mse)
    info.gan.judge_scale = 1 / (info.target.spike_value * double(*std::max_element(kernel.begin(), kernel.end())));
  // The discriminator (nn/cgan.hpp): resumed with its Adam state from the checkpoint.
  std::optional<nn::PatchGan<float>> disc;
  if (info.gan.adversarial_weight > 0) {
    disc.emplace(2, 32);
    if (checkpoint) {
      check(nn::restore_network(*disc, *checkpoint, /*with_optimizer_state=*/true, "disc."));
    } else {
      disc->init(info.seed ^ 0xD15C0ull);
    }
  }
  const auto add_disc = [&](nn::ModelFile& f) {
    if (disc) nn::store_network(*disc, f, true, "disc.");
  };

  const std::string best_path = o.output + ".best.ckpt", last_path = o.output + ".last.ckpt";
  // MODEL is built from the best weights of all runs so far. A run resumed under another -o finds
  // them beside its checkpoint (X.best.ckpt for X.last.ckpt), or in the checkpoint itself when its
  // step was the best; they are copied to this run's best checkpoint before training.
  if (checkpoint && state.best_step >= 0 && !std::filesystem::exists(best_path)) {
    const std::string last_suffix = ".last.ckpt";
    const std::string beside = o.resume.ends_with(last_suffix)
                                   ? o.resume.substr(0, o.resume.size() - last_suffix.size()) + ".best.ckpt"
                                   : std::string();
    bool copied = false;
    if (!beside.empty() && std::filesystem::exists(beside)) {
      const nn::ModelFile earlier = unwrap(nn::load_model_file(beside));
      if (unwrap(deep::read_info(earlier)).training.step == state.best_step) {
        check(nn::save_model_file(best_path, earlier));
        copied = true;
      }
    }
    if (!copied) {
      if (state.best_step != state.step)
        throw cli_error(o.resume + ": the best weights so far (step " + std::to_string(state.best_step) + ") are in no " +
                        (beside.empty() ? std::string("best checkpoint found") : beside) +
                        "; resume with -o naming the first run's MODEL");
      check(deep::save_model(best_path, info, net, true, add_disc));
    }
  }
  TrainProgressPrinter printer(o.quiet);
  struct Hooks {
    deep::ModelInfo& info;
    Net& net;
    const std::string &best, &last;
    TrainProgressPrinter& printer;
    const decltype(add_disc)& add;
    void progress(const nn::TrainProgress& p) { printer(p); }
    Status validated(const nn::TrainState& s, bool improved) {
      if (!improved) return {};
      info.training = s;
      return deep::save_model(best, info, net, true, add);
    }
    Status finished(const nn::TrainState& s) {
      info.training = s;
      return deep::save_model(last, info, net, true, add);
    }
  } hooks{info, net, best_path, last_path, printer, add_disc};
  std::int64_t adversarial_steps = 0;
  const nn::TrainReport report = [&] {
    if (!disc) return unwrap(nn::train(net, batches, loss, validation.batches, topt, state, hooks, &pool));
    nn::CganLoss<nn::PatchGan<float>> gan(*disc, info.gan, kernel.data(), state.step, &pool);
    const nn::TrainReport r = unwrap(nn::train(net, batches, gan, validation.batches, topt, state, hooks, &pool));
    adversarial_steps = gan.adversarial_steps();
    return r;
  }();
  info.training = state;

  // The best weights, then the threshold that maximizes the validation Jaccard.
  if (state.best_step >= 0) {
    const nn::ModelFile best = unwrap(nn::load_model_file(best_path));
    check(deep::load_weights(best, info, net));
  }
  const std::vector<Image<float>> maps = deep::validation_maps(net, validation, &pool);
  info.decode = deep::DecodeOptions::for_upsample(info.upsample);
  // Suppression radii of 0, ¼, ½ and ¾ camera pixel (output pixels).
  const double r = info.upsample;
  // Counting by mass at 1.2 .. 2 times the median blob (deep/decode.hpp): splitting kept only
  // where it raises the validation Jaccard.
  const deep::ThresholdChoice choice =
      deep::tune_threshold(maps, validation.truth, info.conditions.pixel_nm, info.upsample, info.decode, info.tolerance_nm,
                           {0.0, r / 4, r / 2, 3 * r / 4}, 48, {1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0});
  info.decode = choice.apply(info.decode);
  info.validation_jaccard = choice.metrics.jaccard;
  info.validation_rmse_nm = choice.metrics.rmse_lateral_nm;
  check(deep::save_model(o.output, info, net));
  std::printf("arch=%s upsample=%d steps=%lld minutes=%.2f loss=%.5g val_loss=%.5g best_step=%lld threshold=%.5g "
              "min_distance_px=%g val_jaccard=%.4f val_rmse_nm=%.2f steps_per_s=%.3f data_wait_s=%.2f split_factor=%g "
              "adversarial_steps=%lld\n",
              info.arch.c_str(), info.upsample, static_cast<long long>(state.step), state.minutes, report.final_loss,
              state.best_validation_loss, static_cast<long long>(state.best_step), choice.threshold, choice.min_distance_px,
              choice.metrics.jaccard,
              choice.metrics.rmse_lateral_nm, report.elapsed_s > 0 ? double(report.steps) / report.elapsed_s : 0.0,
              report.data_wait_s, choice.split_factor, static_cast<long long>(adversarial_steps));
}

}  // namespace detail

inline void run_train(const TrainOptions& o) {
  deep::ModelInfo info;
  std::unique_ptr<nn::ModelFile> checkpoint;
  if (!o.resume.empty()) {
    checkpoint = std::make_unique<nn::ModelFile>(unwrap(nn::load_model_file(o.resume)));
    info = unwrap(deep::read_info(*checkpoint));
    if (o.steps > 0 || o.minutes > 0) info.budget = {o.steps, o.minutes};
  } else {
    if (o.steps <= 0 && o.minutes <= 0) throw CLI::ValidationError("--steps/--minutes", "one of them is required (> 0)");
    info.arch = o.arch;
    info.upsample = o.upsample > 0 ? o.upsample : deep::default_upsample(o.arch);
    auto& c = info.conditions;
    c.pixel_nm = o.pixel_nm;
    c.sigma_nm = parse_value_range("--sigma-nm", o.sigma_nm, RangeBound::positive);
    c.photons = parse_value_range("--photons", o.photons, RangeBound::non_negative);
    if (!(o.photon_spread == 0 || (o.photon_spread >= 1 && std::isfinite(o.photon_spread))))
      throw CLI::ValidationError("--photon-spread", "value " + std::to_string(o.photon_spread) +
                                                        " must be 0 (independent emitters) or a finite factor >= 1");
    c.photon_spread = o.photon_spread;
    c.density_per_um2 = parse_value_range("--density", o.density, RangeBound::non_negative);
    c.background_photons = parse_value_range("--background", o.background, RangeBound::non_negative);
    c.quality = o.quality.empty() ? sim::ValueRange{-1, -1} : parse_value_range("--quality", o.quality, RangeBound::non_negative, 100);
    if (c.coded() && std::ceil(c.quality.lo) > std::floor(c.quality.hi))
      throw CLI::ValidationError("--quality", "value " + o.quality + " holds no integer quality");
    c.codec_gop_frames = o.gop;
    c.codec_grid_offset = o.grid_offset;
    c.codec_deblock = o.deblock;
    // Patches of 128 × 128 network pixels for deep_storm (×8), 64 × 64 for cell_storm (×4: its
    // full-resolution decoder costs ≈ 1 GFLOP forward per 16 × 16 patch), 32 × 32 camera pixels
    // for sub_pixel and cell_storm_shuffle (convolutions at camera resolution).
    c.patch_px = o.patch > 0 ? o.patch : (o.arch == "sub_pixel" || o.arch == "cell_storm_shuffle" ? 32 : 16);
    check(c.validate());
    info.camera = o.camera;
    info.target.kind = o.target == "distance" ? sim::TargetKind::distance : sim::TargetKind::spikes;
    // Deep-STORM scales its spikes by 100 so that the blurred MSE outweighs the L1 term (the L1
    // optimum shrinks a perfect output by ≈ 1.6/spike_value).
    // cell_storm's tanh output holds spikes of 1 (blurred to blobs of height 1 by its loss).
    info.target.spike_value = deep::is_cell_storm(o.arch) ? 1 : 100;
    const double gan_weight = std::isnan(o.gan_weight) ? (deep::is_cell_storm(o.arch) ? 3.0 : 0.0) : o.gan_weight;
    if (gan_weight > 0 && info.target.kind != sim::TargetKind::spikes)
      throw CLI::ValidationError("--gan-weight", "value " + std::to_string(gan_weight) +
                                                     ": the discriminator judges spike maps; --target distance trains without one");
    const std::string content = o.content_loss.empty() ? (deep::is_cell_storm(o.arch) ? "l1" : "blurred_mse") : o.content_loss;
    if (content == "l1" && !deep::is_cell_storm(o.arch))
      throw CLI::ValidationError("--content-loss", "value l1: only --arch cell_storm and cell_storm_shuffle (tanh output, "
                                                   "spikes of 1) train with cellSTORM's L1 loss");
    info.gan.content = content == "l1" ? nn::CganContent::l1 : nn::CganContent::blurred_mse;
    info.gan.adversarial_weight = gan_weight;
    info.gan.generator.l1_weight = o.l1_weight;
    info.gan.generator.sparsity_weight = o.sparsity_weight;
    info.gan.warmup_steps = o.gan_warmup;
    info.gan.every = o.gan_every;
    info.batch = o.batch;
    info.lr = o.lr;
    info.validate_every = o.validate_every;
    info.validation_batches = o.validation_batches;
    info.tolerance_nm = o.tolerance_nm;
    info.seed = o.seed;
    info.budget = {o.steps, o.minutes};
    info.command = o.command;
  }
  check(deep::with_network(info.arch, info.upsample, [&](auto& net) -> Status {
    using Net = std::remove_reference_t<decltype(net)>;
    if (info.conditions.patch_px % Net::size_multiple(info.upsample) != 0)
      throw CLI::ValidationError("--patch", std::to_string(info.conditions.patch_px) + " must be a multiple of " +
                                                std::to_string(Net::size_multiple(info.upsample)) + " for " + info.arch);
    with_training_camera(info.camera, info.conditions.patch_px,
                         [&](const auto& cam) { detail::train_with(o, net, cam, info, checkpoint.get()); });
    return {};
  }));
}

inline void register_train(CLI::App& app, int& exit_code, std::string command_line) {
  auto* cmd = app.add_subcommand("train", "train a localization network on simulated frames");
  auto opt = std::make_shared<TrainOptions>();
  opt->command = std::move(command_line);
  cmd->add_option("-o,--output", opt->output, "model file to write")->required();
  cmd->add_option("--arch", opt->arch, "network preset")->capture_default_str()->check(CLI::IsMember({"deep_storm", "sub_pixel", "cell_storm", "cell_storm_shuffle"}));
  cmd->add_option("--upsample", opt->upsample, "output grid factor r (default 8; 4 for cell_storm and cell_storm_shuffle)")->check(CLI::Range(1, 16));
  cmd->add_option("--pixel-nm", opt->pixel_nm, "camera pixel size, nm")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--sigma-nm", opt->sigma_nm, "PSF sd, nm (A or A:B)")->capture_default_str();
  cmd->add_option("--photons", opt->photons, "photons per emitter (A or A:B)")->capture_default_str();
  cmd->add_option("--photon-spread", opt->photon_spread,
                  "a patch's emitters within this factor of a level drawn log-uniformly in --photons; 0: each "
                  "emitter uniform in --photons")
      ->capture_default_str();
  cmd->add_option("--density", opt->density, "emitters per µm² per frame (A or A:B)")->capture_default_str();
  cmd->add_option("--background", opt->background, "background photons per pixel (A or A:B)")->capture_default_str();
  cmd->add_option("--camera", opt->camera, "camera of the training frames")
      ->capture_default_str()
      ->check(CLI::IsMember({"ideal", "emccd", "scmos", "cmos-phone"}));
  cmd->add_option("--quality", opt->quality, "codec quality 0..100 (A or A:B): train on compressed frames");
  cmd->add_option("--gop", opt->gop,
                  "with --quality: each patch is frame g of a coded sequence (I, then P-frames), g uniform in 1..this")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--grid-offset,!--no-grid-offset", opt->grid_offset,
                "with --quality: the codec's block grid at a random offset against each patch (default on)");
  cmd->add_flag("--deblock", opt->deblock, "with --quality: the codec's in-loop deblocking filter");
  auto* minutes = cmd->add_option("--minutes", opt->minutes, "wall-clock budget, minutes")->check(CLI::PositiveNumber);
  cmd->add_option("--steps", opt->steps, "budget in optimizer steps")->check(CLI::PositiveNumber)->excludes(minutes);
  cmd->add_option("--seed", opt->seed, "random seed (weights, data)")->capture_default_str();
  cmd->add_option("--threads", opt->threads, "threads (0: all)")->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_option("--resume", opt->resume, "continue from a checkpoint (MODEL.last.ckpt)")->check(CLI::ExistingFile);
  cmd->add_option("--batch", opt->batch, "patches per step")->capture_default_str()->check(CLI::Range(2, 1024));
  cmd->add_option("--patch", opt->patch, "patch side, camera pixels (default 16 deep_storm, 32 sub_pixel)")->check(CLI::Range(4, 512));
  cmd->add_option("--lr", opt->lr, "Adam learning rate (cosine decay to 5 %)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--target", opt->target, "spikes (Deep-STORM) or distance (Yee et al.)")
      ->capture_default_str()
      ->check(CLI::IsMember({"spikes", "distance"}));
  cmd->add_option("--validate-every", opt->validate_every, "steps between validations")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--validation-batches", opt->validation_batches, "validation batches")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--tolerance-nm", opt->tolerance_nm, "matching radius for the threshold choice")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--gan-weight", opt->gan_weight,
                  "weight of the adversarial term (default 3 for cell_storm as in cellSTORM, 0 elsewhere); 0 trains "
                  "without a discriminator")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--content-loss", opt->content_loss,
                  "the generator's content loss: l1 (cellSTORM's L1 to the blurred target + sparsity; cell_storm's "
                  "default) or blurred_mse (Deep-STORM's; the others' and their only choice)")
      ->check(CLI::IsMember({"l1", "blurred_mse"}));
  cmd->add_option("--l1-weight", opt->l1_weight, "cell_storm: weight of L1 to the blurred target")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--sparsity-weight", opt->sparsity_weight, "cell_storm: weight of mean |output|")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--gan-warmup", opt->gan_warmup, "cell_storm: steps before the adversarial term starts")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  cmd->add_option("--gan-every", opt->gan_every, "cell_storm: then an adversarial step every this many steps")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress output");
  cmd->callback([opt, &exit_code] {
    run_train(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
