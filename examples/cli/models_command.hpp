// The default models that smlmkit ships (models/ in the source tree; docs/model-card.md has their
// recipes and measured accuracy) and `smlm models`, which lists them:
//   name=<file> cameras=<a,b> arch=<a> upsample=<r> pixel_nm=<p> sigma_nm=<lo:hi> photons=<lo:hi>
//   background=<lo:hi> quality=<lo:hi|none> trained_on=<camera> val_jaccard=<j> path=<file path>
// one line per model. `smlm reconstruct STACK -o DIR --camera C` (no MODEL) uses the shipped
// model that serves camera C.
//
// The folder: --models-dir, else the environment variable SMLM_MODELS, else the source tree's
// models/ (SMLM_DEFAULT_MODELS_DIR, compiled in).
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include <smlm/deep/model.hpp>
#include <smlm/nn/model_file.hpp>

#include "cli_common.hpp"

#ifndef SMLM_DEFAULT_MODELS_DIR
#define SMLM_DEFAULT_MODELS_DIR "models"
#endif

namespace smlm::cli {

/// One shipped model: its file under the models folder and the cameras (`--camera` names) it is
/// the default for.
struct ShippedModel {
  std::string_view file;
  std::string_view cameras;  ///< comma-separated
  std::string_view summary;
};

/// The shipped defaults. The EMCCD model was trained on an ideal camera: the input normalization
/// (nn/normalization.hpp) removes gain and offset, and its accuracy is measured on the
/// ThunderSTORM EMCCD stack of ../shared/data (docs/model-card.md).
inline constexpr std::array<ShippedModel, 2> shipped_models{{
    {"sub_pixel_emccd.smlm", "emccd,scmos,ideal",
     "sub_pixel x8, 100 nm pixels, sigma 105-116 nm, 2,000-2,500 photons, background 20 (the reference stack)"},
    {"sub_pixel_phone.smlm", "cmos-phone",
     "sub_pixel x4, phone video: 80 nm pixels, sigma 96 nm, 50-1,500 photons, background 5, codec quality 60-95"},
}};

/// The models folder (see the header).
inline std::string models_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("SMLM_MODELS"); env != nullptr && *env != '\0') return env;
  return SMLM_DEFAULT_MODELS_DIR;
}

/// The path of the shipped model that serves `camera`; throws naming the camera or the missing
/// file.
inline std::string default_model_for(const std::string& camera, const std::string& dir) {
  for (const ShippedModel& m : shipped_models) {
    std::string_view list = m.cameras;
    while (!list.empty()) {
      const auto comma = list.find(',');
      if (list.substr(0, comma) == camera) {
        const std::string path = dir + "/" + std::string(m.file);
        if (!std::filesystem::is_regular_file(path))
          throw cli_error(path + ": the shipped model for --camera " + camera +
                          " is missing (set --models-dir or SMLM_MODELS, or run make models)");
        return path;
      }
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  throw cli_error("--camera " + camera + ": no shipped model serves this camera (smlm models lists them)");
}

namespace detail {
/// "lo" or "lo<sep>hi" (":" as the flags take ranges, "-" in prose).
inline std::string range_text(const sim::ValueRange& r, const char* sep = ":") {
  return r.lo == r.hi ? format_number(r.lo) : format_number(r.lo) + sep + format_number(r.hi);
}
}  // namespace detail

struct ModelsOptions {
  std::string dir;
};

inline void run_models(const ModelsOptions& o) {
  const std::string dir = models_dir(o.dir);
  for (const ShippedModel& m : shipped_models) {
    const std::string path = dir + "/" + std::string(m.file);
    if (!std::filesystem::is_regular_file(path))
      throw cli_error(path + ": shipped model missing (set --models-dir or SMLM_MODELS, or run make models)");
    const nn::ModelFile file = unwrap(nn::load_model_file(path));
    const deep::ModelInfo info = unwrap(deep::read_info(file));
    const sim::TrainingConditions& c = info.conditions;
    std::printf("name=%s cameras=%s arch=%s upsample=%d pixel_nm=%g sigma_nm=%s photons=%s background=%s quality=%s "
                "trained_on=%s val_jaccard=%.4f path=%s\n",
                std::string(m.file).c_str(), std::string(m.cameras).c_str(), info.arch.c_str(), info.upsample, c.pixel_nm,
                detail::range_text(c.sigma_nm).c_str(), detail::range_text(c.photons).c_str(),
                detail::range_text(c.background_photons).c_str(),
                c.coded() ? detail::range_text(c.quality).c_str() : "none", info.camera.c_str(), info.validation_jaccard,
                path.c_str());
  }
}

inline void register_models(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("models", "the shipped default models and their imaging conditions");
  auto opt = std::make_shared<ModelsOptions>();
  cmd->add_option("--models-dir", opt->dir, "folder of the shipped models (default: $SMLM_MODELS, else the source tree's models/)");
  cmd->callback([opt, &exit_code] {
    run_models(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
