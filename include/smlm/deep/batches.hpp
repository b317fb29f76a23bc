// Training batches for localization networks: simulated camera patches (sim/training_pairs.hpp),
// normalized as the model will normalize real frames (nn/normalization.hpp), with their
// ground-truth maps on the network's output grid (sim/target_maps.hpp). A model of
// nn::BatchSource: batch s holds patches s·B … s·B + B − 1 of the generator, so it is a pure
// function of (seed, s).
//
// The validation set comes from the same generator with another seed (seed + 1, never used for
// training), so the network never sees its patches; its ground truth is kept as a localization
// table (frame k + 1 = patch k, nanometres) for choosing the decoding threshold.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/nn/normalization.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>
#include <smlm/sim/target_maps.hpp>
#include <smlm/sim/training_pairs.hpp>

namespace smlm::deep {

/// Validation patches, their targets and their ground truth.
struct ValidationSet {
  std::vector<std::pair<nn::Tensor<float>, nn::Tensor<float>>> batches;  ///< (input, target) per batch
  LocalizationTable truth;  ///< frame k + 1 = patch k (in batch order), nm in patch coordinates
  std::ptrdiff_t patches = 0;
};

/// The network's output maps of the validation patches (inference mode, nothing recorded), map k
/// for patch k (frame k + 1 of the truth): what deep::tune_threshold chooses the decoding on.
template <class Net>
std::vector<Image<float>> validation_maps(Net& net, const ValidationSet& validation, nn::WorkerPool* pool = nullptr) {
  std::vector<Image<float>> maps;
  nn::Tape<float> tape(pool);
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  for (const auto& [x, t] : validation.batches) {
    tape.reset();
    const nn::Var<float> y = net.forward(tape, tape.input(x.view()));
    const std::ptrdiff_t h = y.shape().h, w = y.shape().w;
    for (std::ptrdiff_t n = 0; n < y.shape().n; ++n) {
      Image<float> m(h, w);
      std::copy_n(y.data() + n * h * w, h * w, m.data());
      maps.push_back(std::move(m));
    }
  }
  return maps;
}

template <camera::Model Camera>
class TrainingBatches {
 public:
  TrainingBatches(sim::TrainingConditions conditions, Camera camera, std::uint64_t seed, std::ptrdiff_t batch_size,
                  int upsample, sim::TargetOptions target, nn::InputNormalization normalization)
      : generator_(conditions, camera, seed),
        validation_generator_(conditions, std::move(camera), seed + 1),
        batch_(batch_size), upsample_(upsample), target_(target), normalization_(normalization) {}

  nn::Shape input_shape() const noexcept { return {batch_, 1, patch(), patch()}; }
  nn::Shape target_shape() const noexcept { return {batch_, 1, patch() * upsample_, patch() * upsample_}; }
  std::ptrdiff_t patch() const noexcept { return generator_.conditions().patch_px; }
  const nn::InputNormalization& normalization() const noexcept { return normalization_; }
  void set_normalization(const nn::InputNormalization& n) noexcept { normalization_ = n; }
  const sim::TrainingConditions& conditions() const noexcept { return generator_.conditions(); }

  /// Batch `step` (nn::BatchSource).
  void fill(std::uint64_t step, nn::TensorView<float> input, nn::TensorView<float> target) const {
    fill_from(generator_, step * static_cast<std::uint64_t>(batch_), input, target, nullptr);
  }

  /// Fits the normalization's mean and sd on `patches` training patches (indices past any batch
  /// a run of 2^40 patches would use, so they are not trained on twice by accident).
  nn::InputNormalization fit_normalization(std::ptrdiff_t patches, double quantile = 0.995) const {
    nn::NormalizationFit fit(quantile);
    sim::TrainingPatch p;
    std::vector<float> scratch;
    for (std::ptrdiff_t i = 0; i < patches; ++i) {
      generator_.generate((std::uint64_t(1) << 40) + static_cast<std::uint64_t>(i), p);
      scratch.resize(static_cast<std::size_t>(p.frame.size()));
      fit.add(p.frame.data(), p.frame.size(), scratch.data());
    }
    return fit.result();
  }

  /// `batches` validation batches from the validation generator.
  ValidationSet validation(std::ptrdiff_t batches) const {
    ValidationSet v;
    for (std::ptrdiff_t b = 0; b < batches; ++b) {
      nn::Tensor<float> x(input_shape()), t(target_shape());
      fill_from(validation_generator_, static_cast<std::uint64_t>(b * batch_), x.view(), t.view(), &v.truth);
      v.batches.emplace_back(std::move(x), std::move(t));
    }
    v.patches = batches * batch_;
    return v;
  }

 private:
  void fill_from(const sim::TrainingPairGenerator<Camera>& gen, std::uint64_t first, nn::TensorView<float> input,
                 nn::TensorView<float> target, LocalizationTable* truth) const {
    SMLM_ASSERT(input.shape() == input_shape() && target.shape() == target_shape(),
                "deep::TrainingBatches::fill: tensors of the wrong shape");
    sim::TrainingPatch p;
    std::vector<float> scratch(static_cast<std::size_t>(patch() * patch()));
    const std::ptrdiff_t fine = patch() * upsample_;
    for (std::ptrdiff_t b = 0; b < batch_; ++b) {
      const std::uint64_t index = first + static_cast<std::uint64_t>(b);
      gen.generate(index, p);
      nn::normalize_frame(p.frame.data(), p.frame.size(), normalization_, input.sample(b).data(), scratch.data());
      sim::render_target(std::span<const Emitter<double>>(p.emitters), upsample_, target_,
                         make_view(target.sample(b).data(), fine, fine));
      if (truth) {
        for (const auto& e : p.emitters) {
          Emitter<double> row = e;
          row.frame = static_cast<std::int32_t>(index + 1);
          truth->push_back(row, conditions().pixel_nm);
        }
      }
    }
  }

  sim::TrainingPairGenerator<Camera> generator_;
  sim::TrainingPairGenerator<Camera> validation_generator_;
  std::ptrdiff_t batch_;
  int upsample_;
  sim::TargetOptions target_;
  nn::InputNormalization normalization_;
};

}  // namespace smlm::deep
