// The training loop: Adam with a cosine learning-rate schedule over a budget of steps or
// wall-clock minutes, batches prepared on a background thread while the step before runs, a
// fixed validation set, hooks for checkpoints and progress, resume, and a stop at the first
// non-finite value that says where it appeared.
//
// The loss is called as loss(tape, output, target), or loss(tape, output, target, input) when it
// takes four arguments (a conditional GAN's loss: nn/cgan.hpp); on the validation set with the
// tape in inference mode and not recording.
//
// A batch source is anything with
//   Shape input_shape() const;  Shape target_shape() const;   (the whole batch, N first)
//   void fill(std::uint64_t step, TensorView<float> input, TensorView<float> target) const;
// where fill is a pure function of `step` (it may run on another thread than the caller's). The
// batch of step s is therefore the same on any number of threads and after a resume, and with a
// step budget the trained weights are bit-identical for a seed on 1 and 2 threads (the engine's
// kernels are, see docs/nn.md).
//
// Schedule. lr(p) = lr_min + (lr − lr_min)·(1 + cos(π·p))/2 with lr_min = final_lr_fraction·lr and
// p ∈ [0, 1] the fraction of the budget used: steps done / steps, or minutes used / minutes
// (the larger when both are set). A time budget makes the run depend on the machine's speed;
// give steps for reproducible runs.
//
// Non-finite values. After each backward pass the loss and every parameter gradient are checked,
// after each Adam step every parameter; the first non-finite one ends training with an error
// naming the step and the tensor ("param.<i>", the model-file name of the i-th parameter in
// visiting order). Nothing is written after that: the last good checkpoint stays the last one.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <smlm/core/status.hpp>
#include <smlm/nn/layer.hpp>
#include <smlm/nn/optimizer.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

template <class S>
concept BatchSource = requires(const S& s, std::uint64_t step, TensorView<float> a, TensorView<float> b) {
  { s.input_shape() } -> std::same_as<Shape>;
  { s.target_shape() } -> std::same_as<Shape>;
  s.fill(step, a, b);
};

/// Whichever limit is reached first ends training; at least one must be > 0.
struct TrainBudget {
  std::int64_t steps = 0;
  double minutes = 0;
};

struct TrainerOptions {
  TrainBudget budget;
  AdamOptions adam{.lr = 1e-3};
  double final_lr_fraction = 0.05;   ///< the cosine schedule ends at lr · this
  std::int64_t validate_every = 200; ///< steps between validations (and best-checkpoint checks)
  double clip_grad_norm = 0;         ///< 0: no clipping
  bool prefetch = true;              ///< prepare the next batch on a background thread

  Status validate() const {
    if (!(budget.steps > 0 || budget.minutes > 0) || budget.steps < 0 || !(budget.minutes >= 0) ||
        !std::isfinite(budget.minutes))
      return make_error(errc::invalid_argument, "nn::TrainerOptions: the budget needs steps > 0 or minutes > 0 (steps = ",
                        budget.steps, ", minutes = ", budget.minutes, ")");
    if (!(adam.lr > 0) || !std::isfinite(adam.lr))
      return make_error(errc::invalid_argument, "nn::TrainerOptions: lr = ", adam.lr, " must be finite and > 0");
    if (!(final_lr_fraction >= 0 && final_lr_fraction <= 1))
      return make_error(errc::invalid_argument, "nn::TrainerOptions: final_lr_fraction = ", final_lr_fraction,
                        " must be in [0, 1]");
    if (validate_every < 1)
      return make_error(errc::invalid_argument, "nn::TrainerOptions: validate_every = ", validate_every, " must be >= 1");
    return {};
  }
};

/// What a run has done so far; saved in checkpoints so that a resumed run continues it.
struct TrainState {
  std::int64_t step = 0;           ///< optimizer steps done
  double minutes = 0;              ///< wall-clock minutes spent in earlier runs
  double best_validation_loss = std::numeric_limits<double>::infinity();
  std::int64_t best_step = -1;
  double last_validation_loss = std::numeric_limits<double>::quiet_NaN();
};

struct TrainProgress {
  std::int64_t step = 0;
  std::int64_t total_steps = 0;  ///< 0: a time budget only
  double fraction = 0;           ///< of the budget used
  double loss = 0;               ///< mean training loss since the last report
  double validation_loss = std::numeric_limits<double>::quiet_NaN();
  double best_validation_loss = std::numeric_limits<double>::quiet_NaN();
  double lr = 0;
  double steps_per_s = 0;
  double elapsed_s = 0;          ///< this run
  double eta_s = -1;
  double data_wait_s = 0;        ///< time the loop waited for batches (this run)
};

struct TrainReport {
  std::int64_t steps = 0;           ///< steps of this run
  double elapsed_s = 0;
  double data_wait_s = 0;           ///< of which waiting for batches
  double data_s = 0;                ///< time spent preparing batches (on the background thread)
  /// Mean training loss over the last `final_loss_window` steps of this run (fewer when the run
  /// had fewer): a function of the steps alone, so the same seed and steps give the same value
  /// on any machine and thread count (the progress loss is a mean over a wall-clock window).
  double final_loss = std::numeric_limits<double>::quiet_NaN();
  static constexpr int final_loss_window = 32;
};

/// Hooks the loop calls; every member is optional (detected with requires).
///   void progress(const TrainProgress&);               at most every `progress_seconds`, and at the end
///   Status validated(const TrainState&, bool best);     after each validation; `best` when it improved
///   Status finished(const TrainState&);                 after the last step (save the last checkpoint)
///   bool stop_requested();                              checked after each step: true ends the run
///                                                       early (an interrupt); it can be resumed
struct NoHooks {};

namespace detail {
inline double cosine_lr(double lr, double fraction_final, double p) noexcept {
  p = std::min(1.0, std::max(0.0, p));
  const double lo = lr * fraction_final;
  return lo + (lr - lo) * (1 + std::cos(std::numbers::pi * p)) / 2;
}
template <class T>
bool all_finite(const Tensor<T>& t) noexcept {
  for (const T v : t)
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace detail

namespace detail {
/// loss(tape, y, t, x) when the loss takes the network's input too (a conditional GAN's
/// discriminator sees it), else loss(tape, y, t).
template <class LossFn>
Var<float> apply_loss(LossFn& loss, Tape<float>& tape, const Var<float>& y, const Var<float>& t, const Var<float>& x) {
  if constexpr (std::is_invocable_v<LossFn&, Tape<float>&, const Var<float>&, const Var<float>&, const Var<float>&>) {
    return loss(tape, y, t, x);
  } else {
    return loss(tape, y, t);
  }
}
}  // namespace detail

/// Mean loss over a fixed validation set (inference mode, no recording).
template <class Net, class LossFn>
double validation_loss(Net& net, Tape<float>& tape, const std::vector<std::pair<Tensor<float>, Tensor<float>>>& set,
                       LossFn&& loss) {
  if (set.empty()) return std::numeric_limits<double>::quiet_NaN();
  const Mode mode = tape.mode();
  const bool rec = tape.recording();
  tape.set_mode(Mode::inference);
  tape.set_recording(false);
  double sum = 0;
  for (const auto& [x, t] : set) {
    tape.reset();
    const Var<float> in = tape.input(x.view());
    const Var<float> y = net.forward(tape, in);
    sum += double(detail::apply_loss(loss, tape, y, tape.input(t.view()), in).value[0]);
  }
  tape.reset();
  tape.set_mode(mode);
  tape.set_recording(rec);
  return sum / double(set.size());
}

/// Trains `net` from `state` on until the budget (counted over all runs, so a resumed run ends
/// where the interrupted one would have) is spent. Errors: invalid options, a non-finite value
/// (see the header), or the first error a hook returns.
template <class Net, BatchSource Source, class LossFn, class Hooks = NoHooks>
Expected<TrainReport> train(Net& net, const Source& source, LossFn&& loss,
                            const std::vector<std::pair<Tensor<float>, Tensor<float>>>& validation,
                            const TrainerOptions& options, TrainState& state, Hooks&& hooks = {},
                            WorkerPool* pool = nullptr, double progress_seconds = 1.0) {
  SMLM_TRY(options.validate());
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto seconds_since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
  const TrainBudget& budget = options.budget;
  auto fraction = [&](std::int64_t step, double minutes) {
    double p = 0;
    if (budget.steps > 0) p = std::max(p, double(step) / double(budget.steps));
    if (budget.minutes > 0) p = std::max(p, minutes / budget.minutes);
    return p;
  };
  auto minutes_used = [&] { return state.minutes + seconds_since(start) / 60; };
  auto done = [&] {
    return (budget.steps > 0 && state.step >= budget.steps) || (budget.minutes > 0 && minutes_used() >= budget.minutes);
  };

  Tape<float> tape(pool);
  Adam<float> adam(options.adam);
  std::vector<Parameter<float>*> params;
  net.for_each_parameter([&](Parameter<float>& p) { params.push_back(&p); });

  // Two batch buffers: the step runs on one while the background thread fills the other.
  Tensor<float> inputs[2] = {Tensor<float>(source.input_shape()), Tensor<float>(source.input_shape())};
  Tensor<float> targets[2] = {Tensor<float>(source.target_shape()), Tensor<float>(source.target_shape())};
  TrainReport report;
  double data_s = 0;
  auto fill = [&](std::int64_t step, int slot) {
    const auto t0 = clock::now();
    source.fill(static_cast<std::uint64_t>(step), inputs[slot].view(), targets[slot].view());
    data_s += seconds_since(t0);
  };

  TrainProgress prog;
  prog.total_steps = budget.steps;
  double window_loss = 0;
  std::int64_t window_steps = 0;
  std::array<double, TrainReport::final_loss_window> recent_losses{};  // ring of the last losses
  auto last_report = start;
  auto report_progress = [&](bool force) {
    if constexpr (requires { hooks.progress(prog); }) {
      if (!force && seconds_since(last_report) < progress_seconds) return;
      last_report = clock::now();
      prog.step = state.step;
      prog.fraction = std::min(1.0, fraction(state.step, minutes_used()));
      if (window_steps > 0) prog.loss = window_loss / double(window_steps);
      prog.validation_loss = state.last_validation_loss;
      prog.best_validation_loss = state.best_validation_loss;
      prog.elapsed_s = seconds_since(start);
      prog.steps_per_s = prog.elapsed_s > 0 ? double(report.steps) / prog.elapsed_s : 0;
      prog.eta_s = prog.fraction > 0 && report.steps > 0 ? prog.elapsed_s * (1 - prog.fraction) /
                                                               (prog.fraction - fraction(state.step - report.steps, state.minutes))
                                                         : -1;
      prog.data_wait_s = report.data_wait_s;
      hooks.progress(prog);
      window_loss = 0;
      window_steps = 0;
    } else {
      (void)force;
    }
  };
  auto validate_now = [&]() -> Status {
    const double v = validation_loss(net, tape, validation, loss);
    state.last_validation_loss = v;
    const bool best = std::isfinite(v) && v < state.best_validation_loss;
    if (best) {
      state.best_validation_loss = v;
      state.best_step = state.step;
    }
    if constexpr (requires { { hooks.validated(state, best) } -> std::same_as<Status>; }) SMLM_TRY(hooks.validated(state, best));
    return {};
  };

  int slot = 0;
  if (!done()) fill(state.step, slot);
  while (!done()) {
    const std::int64_t step = state.step;
    std::thread producer;
    const bool more = budget.steps == 0 || step + 1 < budget.steps;
    if (more && options.prefetch) producer = std::thread([&, step, slot] { fill(step + 1, 1 - slot); });

    const double lr = detail::cosine_lr(options.adam.lr, options.final_lr_fraction, fraction(step, minutes_used()));
    adam.set_lr(lr);
    prog.lr = lr;
    tape.reset();
    tape.set_mode(Mode::training);
    tape.set_recording(true);
    for (auto* p : params) p->zero_grad();
    const Var<float> x = tape.input(inputs[slot].view());
    const Var<float> y = net.forward(tape, x);
    const Var<float> l = detail::apply_loss(loss, tape, y, tape.input(targets[slot].view()), x);
    const double lv = l.value[0];
    Status bad;
    if (!std::isfinite(lv)) {
      bad = make_error(errc::out_of_range, "training stopped at step ", step + 1, ": the loss is ", lv);
    } else {
      tape.backward(l);
      for (std::size_t i = 0; i < params.size() && bad.ok(); ++i)
        if (!detail::all_finite(params[i]->grad))
          bad = make_error(errc::out_of_range, "training stopped at step ", step + 1, ": the gradient of param.", i,
                           " has a non-finite value");
      if (bad.ok()) {
        if (options.clip_grad_norm > 0) clip_grad_norm(params, options.clip_grad_norm);
        adam.step(params);
        for (std::size_t i = 0; i < params.size() && bad.ok(); ++i)
          if (!detail::all_finite(params[i]->value))
            bad = make_error(errc::out_of_range, "training stopped at step ", step + 1, ": param.", i,
                             " has a non-finite value after the Adam step");
      }
    }
    if (producer.joinable()) {
      const auto t0 = clock::now();
      producer.join();
      report.data_wait_s += seconds_since(t0);
    }
    if (!bad.ok()) return bad;
    ++state.step;
    ++report.steps;
    window_loss += lv;
    ++window_steps;
    recent_losses[static_cast<std::size_t>((report.steps - 1) % TrainReport::final_loss_window)] = lv;
    if (!options.prefetch && !done()) {
      const auto t0 = clock::now();
      fill(state.step, 1 - slot);
      report.data_wait_s += seconds_since(t0);
    }
    slot = 1 - slot;
    if (state.step % options.validate_every == 0) SMLM_TRY(validate_now());
    report_progress(false);
    if constexpr (requires { { hooks.stop_requested() } -> std::convertible_to<bool>; })
      if (hooks.stop_requested()) break;
  }
  if (state.step % options.validate_every != 0 || report.steps == 0) SMLM_TRY(validate_now());
  report.elapsed_s = seconds_since(start);
  report.data_s = data_s;
  state.minutes += report.elapsed_s / 60;
  if (report.steps > 0) {
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(report.steps, TrainReport::final_loss_window));
    double sum = 0;  // summed oldest-first, so the value does not depend on where the ring wraps
    for (std::size_t i = 0; i < n; ++i)
      sum += recent_losses[static_cast<std::size_t>((report.steps - std::int64_t(n) + std::int64_t(i)) %
                                                    TrainReport::final_loss_window)];
    report.final_loss = sum / double(n);
  }
  report_progress(true);
  if constexpr (requires { { hooks.finished(state) } -> std::same_as<Status>; }) SMLM_TRY(hooks.finished(state));
  return report;
}

}  // namespace smlm::nn
