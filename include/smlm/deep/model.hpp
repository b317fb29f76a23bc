// Localization models on disk: the network (a compile-time preset of nn/unet.hpp) with
// everything needed to use it — its architecture configuration, input normalization, the
// imaging conditions it was trained for, the target it learned and the decoding parameters
// chosen on validation data — in one model file (nn/model_file.hpp; the keys are listed in
// docs/formats.md). A checkpoint is the same file plus the Adam state and the training state, so
// training resumes from it.
//
// A file names its preset ("arch") and stores the preset's whole UNetConfig as numbers
// ("arch.config"); loading into a build whose preset of that name differs (or into another
// preset) is an error naming both, so a model never runs on weights laid out for another network.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <smlm/core/status.hpp>
#include <smlm/deep/decode.hpp>
#include <smlm/nn/cgan.hpp>
#include <smlm/nn/model_file.hpp>
#include <smlm/nn/normalization.hpp>
#include <smlm/nn/trainer.hpp>
#include <smlm/nn/unet.hpp>
#include <smlm/sim/target_maps.hpp>
#include <smlm/sim/training_pairs.hpp>

namespace smlm::deep {

/// The presets a model file may name.
inline constexpr const char* architectures[] = {"deep_storm", "sub_pixel", "cell_storm", "cell_storm_shuffle"};

/// Default output-grid factor of each preset: Deep-STORM's ×8; the sub-pixel head ×8 too;
/// cellSTORM's ×4 for both of its generators.
inline int default_upsample(const std::string& arch) noexcept { return arch.starts_with("cell_storm") ? 4 : 8; }
/// Whether a preset is one of cellSTORM's generators (tanh output, spikes of 1, the cGAN loss).
inline bool is_cell_storm(const std::string& arch) noexcept { return arch.starts_with("cell_storm"); }

/// Everything a model file holds besides the weights.
struct ModelInfo {
  std::string arch = "sub_pixel";
  int upsample = 8;
  nn::InputNormalization normalization;
  sim::TrainingConditions conditions;  ///< what it was trained on (imaging conditions, scenes, patch size)
  std::string camera = "ideal";        ///< camera model of the training frames
  sim::TargetOptions target;
  DecodeOptions decode;
  double tolerance_nm = 100;           ///< matching radius the threshold was chosen at
  double validation_jaccard = std::numeric_limits<double>::quiet_NaN();
  double validation_rmse_nm = std::numeric_limits<double>::quiet_NaN();
  std::int64_t batch = 16;
  double lr = 1e-3;                    ///< Adam's initial learning rate (cosine decay to 5 %)
  std::int64_t validate_every = 200;   ///< steps between validations
  std::int64_t validation_batches = 8;
  std::uint64_t seed = 1;
  nn::TrainState training;
  nn::TrainBudget budget;
  /// The conditional-GAN training (nn/cgan.hpp): content loss, weights and schedule;
  /// adversarial_weight 0 (the default of every preset but cell_storm) trains without a
  /// discriminator. judge_scale is not stored: training derives it from the target.
  nn::CganOptions gan = nn::CganOptions::off();
  std::string command;                 ///< the command line that trained it
};

/// A UNetConfig as numbers (field order of the struct).
template <nn::UNetConfig C>
std::vector<double> config_numbers() {
  std::vector<double> v{double(C.depth)};
  for (int w : C.widths) v.push_back(w);
  for (double x : {double(C.skips), double(C.down), double(C.up), double(C.norm), double(C.encoder_act),
                   double(C.decoder_act), double(C.leaky_slope), double(C.encoder_convs), double(C.decoder_convs),
                   double(C.dropout), double(C.output_act), double(C.resolution), double(C.in_channels),
                   double(C.out_channels), double(C.kernel)})
    v.push_back(x);
  return v;
}

/// Calls f(net) with a freshly built network of preset `arch` (DeepStorm, SubPixel, CellStorm or
/// CellStormShuffle) and returns what f returns (a Status); an unknown name is an error naming it.
template <class F>
Status with_network(const std::string& arch, int upsample, F&& f) {
  if (upsample < 1 || upsample > 16)
    return make_error(errc::invalid_argument, "upsample = ", upsample, " must be in 1..16");
  if (arch == "deep_storm") {
    nn::DeepStorm net(upsample);
    return f(net);
  }
  if (arch == "sub_pixel") {
    nn::SubPixel net(upsample);
    return f(net);
  }
  if (arch == "cell_storm") {
    nn::CellStorm net(upsample);
    return f(net);
  }
  if (arch == "cell_storm_shuffle") {
    nn::CellStormShuffle net(upsample);
    return f(net);
  }
  return make_error(errc::invalid_argument, "unknown architecture \"", arch,
                    "\" (known: deep_storm, sub_pixel, cell_storm, cell_storm_shuffle)");
}

namespace detail {
inline std::vector<double> range_numbers(const sim::ValueRange& r) { return {r.lo, r.hi}; }
inline Expected<sim::ValueRange> range_of(const nn::ModelFile& f, const char* key) {
  auto v = f.get_doubles(key);
  if (!v) return v.status();
  if (v->size() != 2)
    return make_error(errc::format_error, f.source, ": metadata key \"", key, "\" holds ", v->size(),
                      " numbers, expected 2 (lo, hi)");
  return sim::ValueRange{(*v)[0], (*v)[1]};
}
}  // namespace detail

/// Writes `info` into the file's metadata (the network's tensors are store_network's part).
template <class Net>
void store_info(const ModelInfo& info, nn::ModelFile& f) {
  f.set("arch", info.arch);
  f.set("arch.config", config_numbers<Net::config>());
  f.set("upsample", std::int64_t(info.upsample));
  f.set("norm.quantile", info.normalization.quantile);
  f.set("norm.mean", info.normalization.mean);
  f.set("norm.sd", info.normalization.sd);
  const auto& c = info.conditions;
  f.set("cond.pixel_nm", c.pixel_nm);
  f.set("cond.sigma_nm", detail::range_numbers(c.sigma_nm));
  f.set("cond.photons", detail::range_numbers(c.photons));
  f.set("cond.photon_spread", c.photon_spread);
  f.set("cond.background_photons", detail::range_numbers(c.background_photons));
  f.set("cond.density_per_um2", detail::range_numbers(c.density_per_um2));
  f.set("cond.quality", detail::range_numbers(c.quality));
  f.set("cond.patch_px", std::int64_t(c.patch_px));
  f.set("cond.codec_gop_frames", std::int64_t(c.codec_gop_frames));
  f.set("cond.codec_grid_offset", std::int64_t(c.codec_grid_offset));
  f.set("cond.codec_deblock", std::int64_t(c.codec_deblock));
  f.set("cond.scene_weights", std::vector<double>(c.scene_weights.begin(), c.scene_weights.end()));
  f.set("cond.max_local_density_per_um2", c.max_local_density_per_um2);
  f.set("cond.augment", std::int64_t(c.augment));
  f.set("cond.persistence_nm", c.persistence_nm);
  f.set("cond.label_sd_nm", c.label_sd_nm);
  f.set("cond.bundle_separation_nm", detail::range_numbers(c.bundle_separation_nm));
  f.set("cond.cluster_radius_nm", detail::range_numbers(c.cluster_radius_nm));
  f.set("cond.camera", info.camera);
  f.set("target.kind", std::string(sim::to_string(info.target.kind)));
  f.set("target.spike_value", info.target.spike_value);
  f.set("target.alpha", info.target.alpha);
  f.set("target.d_max_px", info.target.d_max_px);
  f.set("decode.threshold", info.decode.threshold);
  f.set("decode.neighbourhood_px", std::int64_t(info.decode.neighbourhood_px));
  f.set("decode.refine_px", std::int64_t(info.decode.refine_px));
  f.set("decode.min_distance_px", info.decode.min_distance_px);
  f.set("decode.split_factor", info.decode.split_factor);
  f.set("decode.single_mass", info.decode.single_mass);
  f.set("decode.single_var_px2", info.decode.single_var_px2);
  f.set("decode.count_radius_px", std::int64_t(info.decode.count_radius_px));
  f.set("decode.tolerance_nm", info.tolerance_nm);
  f.set("validation.jaccard", info.validation_jaccard);
  f.set("validation.rmse_nm", info.validation_rmse_nm);
  f.set("train.batch", info.batch);
  f.set("train.lr", info.lr);
  f.set("train.validate_every", info.validate_every);
  f.set("train.validation_batches", info.validation_batches);
  f.set("train.seed", std::int64_t(info.seed));
  f.set("train.steps", info.training.step);
  f.set("train.minutes", info.training.minutes);
  f.set("train.best_validation_loss", info.training.best_validation_loss);
  f.set("train.best_step", info.training.best_step);
  f.set("train.budget_steps", info.budget.steps);
  f.set("train.budget_minutes", info.budget.minutes);
  f.set("train.command", info.command);
  f.set("gan.weight", info.gan.adversarial_weight);
  f.set("gan.l1_weight", info.gan.generator.l1_weight);
  f.set("gan.sparsity_weight", info.gan.generator.sparsity_weight);
  f.set("gan.warmup_steps", info.gan.warmup_steps);
  f.set("gan.every", info.gan.every);
  f.set("gan.content", std::int64_t(info.gan.content));
}

/// Reads the metadata store_info wrote (architecture not yet checked: see load_model).
inline Expected<ModelInfo> read_info(const nn::ModelFile& f) {
  ModelInfo info;
#define SMLM_READ(dst, expr)        \
  do {                              \
    auto v_ = (expr);               \
    if (!v_) return v_.status();    \
    dst = std::move(*v_);           \
  } while (0)
  SMLM_READ(info.arch, f.get_string("arch"));
  std::int64_t up = 0;
  SMLM_READ(up, f.get_int("upsample"));
  if (up < 1 || up > 16) return make_error(errc::format_error, f.source, ": upsample = ", up, " is outside 1..16");
  info.upsample = static_cast<int>(up);
  SMLM_READ(info.normalization.quantile, f.get_double("norm.quantile"));
  SMLM_READ(info.normalization.mean, f.get_double("norm.mean"));
  SMLM_READ(info.normalization.sd, f.get_double("norm.sd"));
  if (!info.normalization.valid())
    return make_error(errc::format_error, f.source, ": the input normalization (quantile ", info.normalization.quantile,
                      ", mean ", info.normalization.mean, ", sd ", info.normalization.sd, ") is not usable");
  auto& c = info.conditions;
  SMLM_READ(c.pixel_nm, f.get_double("cond.pixel_nm"));
  SMLM_READ(c.sigma_nm, detail::range_of(f, "cond.sigma_nm"));
  SMLM_READ(c.photons, detail::range_of(f, "cond.photons"));
  c.photon_spread = 0;  // older files drew every emitter's photons independently
  if (f.find("cond.photon_spread") != nullptr) SMLM_READ(c.photon_spread, f.get_double("cond.photon_spread"));
  SMLM_READ(c.background_photons, detail::range_of(f, "cond.background_photons"));
  SMLM_READ(c.density_per_um2, detail::range_of(f, "cond.density_per_um2"));
  SMLM_READ(c.quality, detail::range_of(f, "cond.quality"));
  SMLM_READ(c.patch_px, f.get_int("cond.patch_px"));
  // Coded sequences came with cell_storm: older files coded every patch as an aligned I-frame.
  c.codec_gop_frames = 1;
  c.codec_grid_offset = c.codec_deblock = false;
  if (f.find("cond.codec_gop_frames") != nullptr) {
    std::int64_t v = 0;
    SMLM_READ(v, f.get_int("cond.codec_gop_frames"));
    if (v < 1 || v > 64)
      return make_error(errc::format_error, f.source, ": cond.codec_gop_frames ", v, " is outside 1 .. 64");
    c.codec_gop_frames = static_cast<int>(v);
    SMLM_READ(v, f.get_int("cond.codec_grid_offset"));
    c.codec_grid_offset = v != 0;
    SMLM_READ(v, f.get_int("cond.codec_deblock"));
    c.codec_deblock = v != 0;
  }
  std::vector<double> weights;
  SMLM_READ(weights, f.get_doubles("cond.scene_weights"));
  if (weights.size() != c.scene_weights.size())
    return make_error(errc::format_error, f.source, ": metadata key \"cond.scene_weights\" holds ", weights.size(),
                      " numbers, expected ", c.scene_weights.size());
  std::copy(weights.begin(), weights.end(), c.scene_weights.begin());
  SMLM_READ(c.max_local_density_per_um2, f.get_double("cond.max_local_density_per_um2"));
  std::int64_t augment = 0;
  SMLM_READ(augment, f.get_int("cond.augment"));
  c.augment = augment != 0;
  SMLM_READ(c.persistence_nm, f.get_double("cond.persistence_nm"));
  SMLM_READ(c.label_sd_nm, f.get_double("cond.label_sd_nm"));
  SMLM_READ(c.bundle_separation_nm, detail::range_of(f, "cond.bundle_separation_nm"));
  SMLM_READ(c.cluster_radius_nm, detail::range_of(f, "cond.cluster_radius_nm"));
  SMLM_READ(info.camera, f.get_string("cond.camera"));
  std::string kind;
  SMLM_READ(kind, f.get_string("target.kind"));
  if (kind != "spikes" && kind != "distance")
    return make_error(errc::format_error, f.source, ": target.kind \"", kind, "\" is not spikes or distance");
  info.target.kind = kind == "spikes" ? sim::TargetKind::spikes : sim::TargetKind::distance;
  SMLM_READ(info.target.spike_value, f.get_double("target.spike_value"));
  SMLM_READ(info.target.alpha, f.get_double("target.alpha"));
  SMLM_READ(info.target.d_max_px, f.get_double("target.d_max_px"));
  SMLM_READ(info.decode.threshold, f.get_double("decode.threshold"));
  std::int64_t n = 0;
  SMLM_READ(n, f.get_int("decode.neighbourhood_px"));
  info.decode.neighbourhood_px = static_cast<int>(n);
  SMLM_READ(n, f.get_int("decode.refine_px"));
  info.decode.refine_px = static_cast<int>(n);
  SMLM_READ(info.decode.min_distance_px, f.get_double("decode.min_distance_px"));
  // Counting by mass came later: files without these keys decode without it.
  info.decode.split_factor = 0;
  info.decode.single_mass = 0;
  info.decode.single_var_px2 = 0;
  info.decode.count_radius_px = std::max(1, info.upsample);
  if (f.find("decode.split_factor") != nullptr) {
    SMLM_READ(info.decode.split_factor, f.get_double("decode.split_factor"));
    SMLM_READ(info.decode.single_mass, f.get_double("decode.single_mass"));
    SMLM_READ(info.decode.single_var_px2, f.get_double("decode.single_var_px2"));
    SMLM_READ(n, f.get_int("decode.count_radius_px"));
    if (n < 1 || n > 1024)
      return make_error(errc::format_error, f.source, ": decode.count_radius_px ", n, " is outside 1 .. 1024");
    info.decode.count_radius_px = static_cast<int>(n);
  }
  if (!info.decode.valid() || info.decode.neighbourhood_px > 64 || info.decode.refine_px > 64)
    return make_error(errc::format_error, f.source, ": the decoding parameters (threshold ", info.decode.threshold,
                      ", neighbourhood ", info.decode.neighbourhood_px, ", refine ", info.decode.refine_px,
                      ", split factor ", info.decode.split_factor, ", single-molecule mass ", info.decode.single_mass,
                      ", variance ", info.decode.single_var_px2,
                      ") are not usable");
  SMLM_READ(info.tolerance_nm, f.get_double("decode.tolerance_nm"));
  // The cGAN settings came with cell_storm: files without them trained without a discriminator.
  info.gan = nn::CganOptions::off();
  if (f.find("gan.weight") != nullptr) {
    SMLM_READ(info.gan.adversarial_weight, f.get_double("gan.weight"));
    SMLM_READ(info.gan.generator.l1_weight, f.get_double("gan.l1_weight"));
    SMLM_READ(info.gan.generator.sparsity_weight, f.get_double("gan.sparsity_weight"));
    SMLM_READ(info.gan.warmup_steps, f.get_int("gan.warmup_steps"));
    SMLM_READ(info.gan.every, f.get_int("gan.every"));
    if (f.find("gan.content") != nullptr) {  // older files: cellSTORM's L1
      std::int64_t content = 0;
      SMLM_READ(content, f.get_int("gan.content"));
      if (content != 0 && content != 1)
        return make_error(errc::format_error, f.source, ": gan.content ", content, " is neither 0 (l1) nor 1 (blurred_mse)");
      info.gan.content = static_cast<nn::CganContent>(content);
    }
    if (Status s = info.gan.validate(); !s.ok()) return make_error(errc::format_error, f.source, ": ", s.message());
  }
  SMLM_READ(info.validation_jaccard, f.get_double("validation.jaccard"));
  SMLM_READ(info.validation_rmse_nm, f.get_double("validation.rmse_nm"));
  SMLM_READ(info.batch, f.get_int("train.batch"));
  SMLM_READ(info.lr, f.get_double("train.lr"));
  SMLM_READ(info.validate_every, f.get_int("train.validate_every"));
  SMLM_READ(info.validation_batches, f.get_int("train.validation_batches"));
  if (info.batch < 1 || !(info.lr > 0) || info.validate_every < 1 || info.validation_batches < 1)
    return make_error(errc::format_error, f.source, ": the training settings (batch ", info.batch, ", lr ", info.lr,
                      ", validate_every ", info.validate_every, ", validation_batches ", info.validation_batches,
                      ") are not usable");
  std::int64_t seed = 0;
  SMLM_READ(seed, f.get_int("train.seed"));
  info.seed = static_cast<std::uint64_t>(seed);
  SMLM_READ(info.training.step, f.get_int("train.steps"));
  SMLM_READ(info.training.minutes, f.get_double("train.minutes"));
  SMLM_READ(info.training.best_validation_loss, f.get_double("train.best_validation_loss"));
  SMLM_READ(info.training.best_step, f.get_int("train.best_step"));
  SMLM_READ(info.budget.steps, f.get_int("train.budget_steps"));
  SMLM_READ(info.budget.minutes, f.get_double("train.budget_minutes"));
  SMLM_READ(info.command, f.get_string("train.command"));
#undef SMLM_READ
  if (Status s = info.conditions.validate(); !s.ok())
    return make_error(errc::format_error, f.source, ": the stored imaging conditions are not usable: ", s.message());
  return info;
}

/// Checks that `f` holds a network of Net's preset and configuration.
template <class Net>
Status check_architecture(const nn::ModelFile& f, const std::string& arch) {
  auto stored = f.get_doubles("arch.config");
  if (!stored) return stored.status();
  if (*stored != config_numbers<Net::config>())
    return make_error(errc::format_error, f.source, ": the network configuration stored for \"", arch,
                      "\" differs from this build's preset of that name (another architecture or version)");
  return {};
}

/// Saves `net` with `info` to `path` (atomically: a temporary file renamed at the end). With
/// optimizer state it is a checkpoint that training can resume from. `add(file)` may put more
/// into the file first (a discriminator's tensors under a prefix, nn::store_network).
template <class Net, class Add>
Status save_model(const std::string& path, const ModelInfo& info, Net& net, bool with_optimizer_state, Add&& add) {
  nn::ModelFile f;
  store_info<Net>(info, f);
  nn::store_network(net, f, with_optimizer_state);
  add(f);
  return nn::save_model_file(path, f);
}
template <class Net>
Status save_model(const std::string& path, const ModelInfo& info, Net& net, bool with_optimizer_state = false) {
  return save_model(path, info, net, with_optimizer_state, [](nn::ModelFile&) {});
}

/// Loads the weights of a file whose info was read already into `net` (the preset info.arch).
template <class Net>
Status load_weights(const nn::ModelFile& f, const ModelInfo& info, Net& net, bool with_optimizer_state = false) {
  SMLM_TRY(check_architecture<Net>(f, info.arch));
  return nn::restore_network(net, f, with_optimizer_state);
}

}  // namespace smlm::deep
