// Learning-rate schedules. Each is a small value type; the caller reads the rate and hands it to
// the optimizer (opt.set_lr(schedule.lr(step))), so schedules and optimizers stay independent.
//
//   ReduceOnPlateau  torch.optim.lr_scheduler.ReduceLROnPlateau in mode 'min' with a relative
//                    threshold: after more than `patience` epochs without a metric below
//                    best·(1 − threshold), lr ← max(lr·factor, min_lr). Defaults: factor 0.1,
//                    patience 5, min_lr 5e-5 (the Deep-STORM training recipe), threshold 1e-4.
//   StepDecay        lr = base · gamma^⌊epoch / step_size⌋.
//   CosineDecay      lr = min_lr + (base − min_lr)·(1 + cos(π·min(t, period)/period))/2.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

#include <smlm/core/config.hpp>

namespace smlm::nn {

struct ReduceOnPlateau {
  double lr = 1e-3;
  double factor = 0.1;
  int patience = 5;
  double min_lr = 5e-5;
  double threshold = 1e-4;
  double best = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;

  /// Reports one epoch's metric (lower is better); returns the learning rate to use next.
  double update(double metric) noexcept {
    if (metric < best * (1 - threshold)) {
      best = metric;
      bad_epochs = 0;
    } else if (++bad_epochs > patience) {
      lr = std::max(lr * factor, min_lr);
      bad_epochs = 0;
    }
    return lr;
  }
};

struct StepDecay {
  double base_lr = 1e-3;
  std::int64_t step_size = 10;
  double gamma = 0.1;
  double lr(std::int64_t epoch) const SMLM_NOEXCEPT {
    SMLM_ASSERT(step_size > 0 && epoch >= 0, "StepDecay: step_size > 0 and epoch ≥ 0");
    return base_lr * std::pow(gamma, double(epoch / step_size));
  }
};

struct CosineDecay {
  double base_lr = 1e-3;
  std::int64_t period = 100;
  double min_lr = 0;
  double lr(std::int64_t t) const SMLM_NOEXCEPT {
    SMLM_ASSERT(period > 0 && t >= 0, "CosineDecay: period > 0 and t ≥ 0");
    const double f = double(std::min(t, period)) / double(period);
    return min_lr + (base_lr - min_lr) * (1 + std::cos(std::numbers::pi * f)) / 2;
  }
};

}  // namespace smlm::nn
