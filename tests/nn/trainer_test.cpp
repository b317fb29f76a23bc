// trainer.hpp: the loop learns, spends exactly its step budget, is bit-identical on 1 and 2
// threads and with or without prefetching, resumes through a model file to the same weights as
// an uninterrupted run, and stops at the first non-finite value naming the step and tensor.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <smlm/nn/model_file.hpp>
#include <smlm/nn/nn.hpp>
#include <smlm/nn/trainer.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;

namespace {

/// Batches of a fixed 3×3 filter of random inputs: a pure function of the step.
struct FilterSource {
  std::ptrdiff_t batch = 4, size = 10;
  std::int64_t nan_at = -1;  ///< step whose input holds a NaN
  Shape input_shape() const { return {batch, 1, size, size}; }
  Shape target_shape() const { return input_shape(); }
  void fill(std::uint64_t step, TensorView<float> x, TensorView<float> t) const {
    smlm::Philox4x32 rng(77, static_cast<std::uint32_t>(step), smlm::rng_purpose::user);
    for (auto& v : x) v = smlm::normal<float>(rng);
    if (static_cast<std::int64_t>(step) == nan_at) x[5] = std::numeric_limits<float>::quiet_NaN();
    const float k[9] = {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.4f, 0.2f, 0.1f, -0.1f};
    const auto g = conv2d_geometry(x.shape(), {1, 1, 3, 3}, 1, Padding::same);
    conv2d_forward_ref(g, batch, static_cast<const float*>(x.data()), k, static_cast<const float*>(nullptr), t.data());
  }
};
static_assert(BatchSource<FilterSource>);

using Net = Sequential<ConvBnAct<float>, Conv2d<float>>;
Net make_net() {
  Net n(conv_bn_act<float>(1, 6, 3), Conv2d<float>(6, 1, 3, {}, true));
  std::uint32_t stream = 0;
  n.init(3, stream);
  return n;
}
auto mse_loss = [](Tape<float>& tape, const Var<float>& y, const Var<float>& t) { return mse(tape, y, t); };

std::vector<std::pair<Tensor<float>, Tensor<float>>> validation_set(const FilterSource& s) {
  std::vector<std::pair<Tensor<float>, Tensor<float>>> v;
  Tensor<float> x(s.input_shape()), t(s.target_shape());
  s.fill(1000000, x.view(), t.view());
  v.emplace_back(std::move(x), std::move(t));
  return v;
}

std::vector<float> weights(Net& n) {
  std::vector<float> w;
  n.for_each_parameter([&](Parameter<float>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
  for_each_buffer(n, [&](Tensor<float>& b) { w.insert(w.end(), b.begin(), b.end()); });
  return w;
}

struct Recorder {
  int progress_calls = 0, validations = 0, bests = 0, finishes = 0;
  void progress(const TrainProgress&) { ++progress_calls; }
  smlm::Status validated(const TrainState&, bool best) {
    ++validations;
    bests += best;
    return {};
  }
  smlm::Status finished(const TrainState&) {
    ++finishes;
    return {};
  }
};

}  // namespace

TEST_CASE("trainer: learns a filter, spends its step budget exactly, calls its hooks") {
  FilterSource src;
  Net net = make_net();
  const auto val = validation_set(src);
  TrainerOptions opt;
  opt.budget.steps = 150;
  opt.adam.lr = 1e-2;
  opt.validate_every = 50;
  TrainState state;
  Tape<float> scratch_tape;
  const double before = validation_loss(net, scratch_tape, val, mse_loss);
  Recorder rec;
  const auto report = train(net, src, mse_loss, val, opt, state, rec, nullptr, 0.0);
  REQUIRE(report);
  CHECK(report->steps == 150);
  CHECK(state.step == 150);
  CHECK(rec.validations == 3);
  CHECK(rec.bests >= 1);
  CHECK(rec.finishes == 1);
  CHECK(rec.progress_calls >= 150);
  CHECK(state.best_validation_loss < before / 10);
  MESSAGE("validation loss " << before << " -> " << state.best_validation_loss);
}

TEST_CASE("trainer: bit-identical weights on 1 and 2 threads, with and without prefetching") {
  FilterSource src;
  const auto val = validation_set(src);
  auto run = [&](int threads, bool prefetch) {
    WorkerPool pool(threads);
    Net net = make_net();
    TrainerOptions opt;
    opt.budget.steps = 12;
    opt.prefetch = prefetch;
    TrainState state;
    REQUIRE(train(net, src, mse_loss, val, opt, state, NoHooks{}, &pool));
    return weights(net);
  };
  const auto a = run(1, true), b = run(2, true), c = run(2, false);
  CHECK(a == b);
  CHECK(a == c);
}

TEST_CASE("trainer: the final loss is the mean of the last steps' losses, whatever the progress window") {
  FilterSource src;
  const auto val = validation_set(src);
  constexpr int window = TrainReport::final_loss_window;
  // A progress call after every step (progress_seconds = 0) sees each step's own loss.
  struct PerStep {
    std::vector<double> losses;
    std::int64_t last_step = 0;
    void progress(const TrainProgress& p) {
      if (p.step != last_step) losses.push_back(p.loss);
      last_step = p.step;
    }
  };
  for (const int steps : {10, window + 13}) {
    CAPTURE(steps);
    TrainerOptions opt;
    opt.budget.steps = steps;
    Net a = make_net(), b = make_net();
    TrainState sa, sb;
    PerStep rec;
    const auto ra = train(a, src, mse_loss, val, opt, sa, rec, nullptr, 0.0);
    const auto rb = train(b, src, mse_loss, val, opt, sb, NoHooks{}, nullptr, 1e9);
    REQUIRE(ra);
    REQUIRE(rb);
    REQUIRE(rec.losses.size() == static_cast<std::size_t>(steps));
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(steps), window);
    double sum = 0;
    for (std::size_t i = rec.losses.size() - n; i < rec.losses.size(); ++i) sum += rec.losses[i];
    CHECK(ra->final_loss == doctest::Approx(sum / double(n)).epsilon(1e-12));
    CHECK(ra->final_loss == rb->final_loss);  // bit-identical: no hooks and one report at the end
  }
}

TEST_CASE("trainer: a run resumed from a checkpoint ends with the weights of an uninterrupted run") {
  FilterSource src;
  const auto val = validation_set(src);
  TrainerOptions opt;
  opt.budget.steps = 10;
  opt.validate_every = 3;
  Net whole = make_net();
  TrainState ws;
  REQUIRE(train(whole, src, mse_loss, val, opt, ws));

  // Interrupted after 6 steps, then through a model file with the Adam state into a fresh network.
  Net first = make_net();
  TrainState s1;
  struct StopAt6 {
    const TrainState& s;
    bool stop_requested() const { return s.step == 6; }
  };
  REQUIRE(train(first, src, mse_loss, val, opt, s1, StopAt6{s1}));
  REQUIRE(s1.step == 6);
  ModelFile file;
  store_network(first, file, /*with_optimizer_state=*/true);
  std::stringstream bytes;
  REQUIRE(write_model_file(bytes, file).ok());
  const auto back = read_model_file(bytes);
  REQUIRE(back);
  Net second(conv_bn_act<float>(1, 6, 3), Conv2d<float>(6, 1, 3, {}, true));
  std::uint32_t stream = 0;
  second.init(99, stream);  // other weights: all must come from the file
  REQUIRE(restore_network(second, *back, true).ok());
  REQUIRE(train(second, src, mse_loss, val, opt, s1));
  CHECK(s1.step == 10);
  CHECK(weights(second) == weights(whole));
}

TEST_CASE("trainer: stops at the first non-finite value, naming the step and the tensor") {
  FilterSource src;
  src.nan_at = 3;
  const auto val = validation_set(src);
  Net net = make_net();
  TrainerOptions opt;
  opt.budget.steps = 10;
  TrainState state;
  const auto r = train(net, src, mse_loss, val, opt, state);
  REQUIRE(!r);
  CHECK(r.message().find("step 4") != std::string::npos);
  CHECK(r.message().find("loss") != std::string::npos);
  CHECK(state.step == 3);  // the steps before it were done and counted

  // A finite loss whose backward pass puts an infinity into the output's gradient: named by
  // the first parameter it reaches.
  Net net2 = make_net();
  TrainState s2;
  auto huge = [](Tape<float>& tape, const Var<float>& y, const Var<float>& t) {
    const Var<float> l = mse(tape, y, t);
    Var<float> out = tape.make({1, 1, 1, 1}, true);
    out.value[0] = l.value[0];
    tape.record([=] {
      l.grad[0] += out.grad[0];
      y.grad[0] += std::numeric_limits<float>::infinity();
    });
    return out;
  };
  FilterSource ok;
  const auto r2 = train(net2, ok, huge, val, opt, s2);
  REQUIRE(!r2);
  CHECK(r2.message().find("step 1") != std::string::npos);
  CHECK(r2.message().find("param.") != std::string::npos);
}

TEST_CASE("trainer: option errors and a time budget") {
  FilterSource src;
  const auto val = validation_set(src);
  Net net = make_net();
  TrainState state;
  TrainerOptions opt;
  const auto none = train(net, src, mse_loss, val, opt, state);
  REQUIRE(!none);
  CHECK(none.message().find("budget") != std::string::npos);
  opt.budget.minutes = 0.002;  // 120 ms
  const auto timed = train(net, src, mse_loss, val, opt, state);
  REQUIRE(timed);
  CHECK(timed->steps >= 1);
  CHECK(state.minutes >= 0.002);
  // The budget counts over runs: a second call with the same budget does nothing more.
  const std::int64_t steps = state.step;
  const auto again = train(net, src, mse_loss, val, opt, state);
  REQUIRE(again);
  CHECK(state.step == steps);
}

TEST_CASE("trainer: a loss that takes four arguments gets the network's input, in training and validation") {
  FilterSource src;
  Net net = make_net();
  const auto val = validation_set(src);
  TrainerOptions opt;
  opt.budget.steps = 3;
  opt.validate_every = 2;
  opt.prefetch = false;
  TrainState state;
  int training_calls = 0, validation_calls = 0;
  Tensor<float> first(src.input_shape()), expected(src.input_shape()), unused(src.target_shape());
  src.fill(0, expected.view(), unused.view());
  auto loss = [&](Tape<float>& tape, const Var<float>& y, const Var<float>& t, const Var<float>& x) {
    CHECK(x.shape() == src.input_shape());
    if (tape.recording()) {
      if (training_calls++ == 0) std::copy(x.value.begin(), x.value.end(), first.begin());
    } else {
      ++validation_calls;
      CHECK(std::equal(x.value.begin(), x.value.end(), val.front().first.begin()));
    }
    return mse(tape, y, t);
  };
  REQUIRE(train(net, src, loss, val, opt, state));
  CHECK(training_calls == 3);
  CHECK(validation_calls == 2);  // after step 2 and at the end
  CHECK(std::equal(first.begin(), first.end(), expected.begin()));  // step 0's batch
}
