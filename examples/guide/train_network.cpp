// Training a localization network for your own imaging conditions, from C++: simulated training
// patches (deep::TrainingBatches), Deep-STORM's loss, nn::train, the decoding threshold chosen on
// validation patches, and a model file that guide_reconstruct_movie and `smlm reconstruct` read.
//
//   guide_train_network [OUT.smlm] [STEPS]
//
// Defaults: model.smlm, 30 steps (seconds; a useful model takes thousands, see
// docs/model-card.md: the shipped one had 10,504 steps in 30 minutes on 2 cores).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/deep/batches.hpp>
#include <smlm/deep/decode.hpp>
#include <smlm/deep/model.hpp>
#include <smlm/nn/loss.hpp>
#include <smlm/nn/trainer.hpp>

// A whole number from the command line: true when all of `text` is one.
bool parse_whole_number(const char* text, long& value) {
  const char* end = text + std::strlen(text);
  return end != text && std::from_chars(text, end, value).ptr == end;
}

// One line on stderr naming what failed, and the exit status for it.
int fail(const std::string& message) {
  std::fprintf(stderr, "train_network: %s\n", message.c_str());
  return 1;
}

// nn::train calls the members it finds (all optional); this one reports progress on stderr.
struct PrintProgress {
  void progress(const smlm::nn::TrainProgress& p) {
    std::fprintf(stderr, "step %lld/%lld loss %.4g", static_cast<long long>(p.step),
                 static_cast<long long>(p.total_steps), p.loss);
    if (std::isfinite(p.validation_loss)) std::fprintf(stderr, " validation loss %.4g", p.validation_loss);
    std::fprintf(stderr, "\n");
  }
};

int main(int argc, char** argv) {
  const std::string output = argc > 1 ? argv[1] : "model.smlm";
  long steps = 30;
  if (argc > 2 && !(parse_whole_number(argv[2], steps) && steps > 0))
    return fail(std::string("STEPS \"") + argv[2] + "\" is not a positive whole number");

  // Everything a model file records: the network preset, the imaging conditions, the target.
  smlm::deep::ModelInfo info;
  info.arch = "sub_pixel";  // must name the preset of `net` below
  info.upsample = 4;        // output pixels of 100 nm / 4 = 25 nm
  info.camera = "emccd";
  auto& conditions = info.conditions;  // the microscope of guide_simulate_custom_psf
  conditions.pixel_nm = 100;
  conditions.sigma_nm = {90, 130};         // each range is drawn from per training patch
  conditions.photons = {1500, 2500};
  conditions.background_photons = {15, 25};
  conditions.density_per_um2 = {1, 6};
  conditions.patch_px = 16;                // small patches: quick steps
  info.target = {.kind = smlm::sim::TargetKind::spikes, .spike_value = 100};  // Deep-STORM's
  info.batch = 4;
  info.validation_batches = 2;
  info.budget.steps = steps;
  if (auto s = conditions.validate(); !s.ok()) return fail(s.message());

  // Training patches are a pure function of (conditions, camera, seed, index): reproducible on any
  // number of threads. The input normalization is fitted on 256 of them and stored in the model.
  const smlm::camera::Emccd<float> camera;  // the camera model of the patches (defaults: gain 100)
  smlm::deep::TrainingBatches batches(conditions, camera, info.seed, info.batch, info.upsample, info.target, {});
  info.normalization = batches.fit_normalization(256);
  batches.set_normalization(info.normalization);
  const smlm::deep::ValidationSet validation = batches.validation(info.validation_batches);

  smlm::nn::SubPixel net(info.upsample);
  net.init(info.seed);

  // Deep-STORM's loss: the output and the spike target, both blurred by a small Gaussian, compared
  // by MSE, plus an L1 term (weight spike_value / 100) that keeps the output sparse.
  smlm::nn::DeepStormLossOptions loss_options;
  loss_options.l1_weight = info.target.spike_value / 100;
  const std::ptrdiff_t k = loss_options.kernel_size;
  std::vector<float> kernel(static_cast<std::size_t>(k * k));
  smlm::nn::deep_storm_kernel(kernel.data(), loss_options);
  const smlm::nn::TensorView<const float> blur(kernel.data(), {1, 1, k, k});
  auto loss = [&](smlm::nn::Tape<float>& tape, const smlm::nn::Var<float>& output, const smlm::nn::Var<float>& target) {
    return smlm::nn::deep_storm_loss(tape, output, smlm::nn::fixed_conv2d(tape, target, blur), loss_options,
                                     kernel.data());
  };

  smlm::nn::WorkerPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  smlm::nn::TrainerOptions options;
  options.budget = info.budget;
  options.adam.lr = info.lr;
  options.validate_every = info.validate_every;
  auto report = smlm::nn::train(net, batches, loss, validation.batches, options, info.training, PrintProgress{}, &pool);
  if (!report) return fail(report.message());

  // The decoding (threshold, suppression radius) that gives the best Jaccard index on the
  // validation patches, whose emitters are known.
  const std::vector<smlm::Image<float>> maps = smlm::deep::validation_maps(net, validation, &pool);
  const auto decode = smlm::deep::DecodeOptions::for_upsample(info.upsample);
  const double r = info.upsample;  // suppression radii of 0, ¼ and ½ camera pixel, in output pixels
  const smlm::deep::ThresholdChoice choice = smlm::deep::tune_threshold(
      maps, validation.truth, conditions.pixel_nm, info.upsample, decode, info.tolerance_nm, {0, r / 4, r / 2});
  info.decode = choice.apply(decode);
  info.validation_jaccard = choice.metrics.jaccard;
  info.validation_rmse_nm = choice.metrics.rmse_lateral_nm;

  if (auto s = smlm::deep::save_model(output, info, net); !s.ok()) return fail(s.message());
  std::printf("steps=%lld loss=%.4g threshold=%.4g val_jaccard=%.3f val_rmse_nm=%.1f -> %s\n",
              static_cast<long long>(info.training.step), report->final_loss, choice.threshold, choice.metrics.jaccard,
              choice.metrics.rmse_lateral_nm, output.c_str());
  return 0;
}
