// layer.hpp: the Layer concept, composition, learning a toy regression, and identical weights
// on 1 and 2 threads.
#include <doctest/doctest.h>

#include <smlm/nn/nn.hpp>
#include <vector>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::random_tensor;

namespace {
struct NotALayer {
  using scalar = float;
};
using Small = Sequential<Conv2d<float>, Act<float>, Conv2d<float>>;
Small make_small() {
  return Small(Conv2d<float>(1, 8, 3, {}, true), Act<float>{Activation::relu}, Conv2d<float>(8, 1, 3, {}, true));
}
}  // namespace

static_assert(Layer<Conv2d<float>>);
static_assert(Layer<BatchNorm2d<double>>);
static_assert(Layer<Sequential<Conv2d<float>, Relu<float>, MaxPool2<float>>>);
static_assert(Layer<SkipConcat<Sequential<MaxPool2<float>, UpsampleNearest<float>>>>);
static_assert(!Layer<NotALayer>);
static_assert(check_layer<Small>());

TEST_CASE("Sequential and SkipConcat: shapes, parameter enumeration, seeded init") {
  auto net = Sequential(conv_bn_act<float>(1, 4), SkipConcat<Sequential<MaxPool2<float>, Conv2d<float>, UpsampleNearest<float>>>{
                                                     Sequential(MaxPool2<float>{}, Conv2d<float>(4, 6, 3), UpsampleNearest<float>{2})},
                        Conv2d<float>(10, 1, 1));
  int count = 0;
  std::ptrdiff_t values = 0;
  net.for_each_parameter([&](Parameter<float>& p) { ++count, values += p.value.size(); });
  CHECK(count == 5);  // conv, gamma, beta, conv, conv
  CHECK(values == 4 * 9 + 4 + 4 + 6 * 4 * 9 + 10);
  std::uint32_t stream = 0;
  net.init(1, stream);
  CHECK(stream == 3);  // one stream per conv weight
  Tensor<float> x({2, 1, 8, 8}, 1.0f);
  Tape<float> tape;
  const auto y = net.forward(tape, tape.input(x.view()));
  CHECK(y.shape() == Shape{2, 1, 8, 8});
}

TEST_CASE("a tiny network learns a toy regression (loss falls by more than 100x)") {
  // Target: a fixed 3x3 filter of the input. conv3x3(1→8, bias) → ReLU → conv3x3(8→1, bias) can
  // represent it exactly (relu(z) − relu(−z) = z), so Adam should drive the MSE far down.
  auto x = random_tensor<float>({4, 1, 12, 12}, 2024, 1);
  Tensor<float> target(x.shape());
  const float k[9] = {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.4f, 0.2f, 0.1f, -0.1f};
  const auto g = conv2d_geometry(x.shape(), {1, 1, 3, 3}, 1, Padding::same);
  conv2d_forward_ref(g, 4, x.data(), k, static_cast<const float*>(nullptr), target.data());
  Small net = make_small();
  std::uint32_t stream = 0;
  net.init(99, stream);
  Adam<float> adam({.lr = 1e-2});
  Tape<float> tape;
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    tape.reset();
    zero_grad(net);
    const auto loss = mse(tape, net.forward(tape, tape.input(x.view())), tape.input(target.view()));
    tape.backward(loss);
    adam.step(net);
    if (step == 0) first = loss.value[0];
    last = loss.value[0];
  }
  MESSAGE("toy regression: loss " << first << " -> " << last);
  CHECK(last < first / 100);
}

TEST_CASE("the same seed gives identical weights after 10 steps on 1 and 2 threads") {
  auto run = [](int threads) {
    WorkerPool pool(threads);
    auto net = Sequential(conv_bn_act<float>(1, 8), MaxPool2<float>{}, conv_bn_act<float>(8, 16), UpsampleNearest<float>{2},
                          Conv2d<float>(16, 1, 1));
    std::uint32_t stream = 0;
    net.init(7, stream);
    auto x = random_tensor<float>({6, 1, 16, 16}, 7, 1);
    auto t = random_tensor<float>({6, 1, 16, 16}, 7, 2);
    Adam<float> adam({.lr = 1e-3});
    Tape<float> tape(&pool);
    for (int step = 0; step < 10; ++step) {
      tape.reset();
      zero_grad(net);
      tape.backward(deep_storm_loss(tape, net.forward(tape, tape.input(x.view())), tape.input(t.view())));
      adam.step(net);
    }
    std::vector<float> w;
    net.for_each_parameter([&](Parameter<float>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    return w;
  };
  const auto one = run(1), two = run(2);
  REQUIRE(one.size() == two.size());
  std::size_t same = 0;
  for (std::size_t i = 0; i < one.size(); ++i) same += one[i] == two[i];
  CHECK(same == one.size());
}

TEST_CASE("ConvBnAct: the folded inference path equals conv → batch norm → activation") {
  auto block = conv_bn_act<double>(3, 5, 3, Activation::leaky_relu);
  std::uint32_t stream = 0;
  block.init(4, stream);
  auto gm = random_tensor({1, 5, 1, 1}, 4, 10), bt = random_tensor({1, 5, 1, 1}, 4, 11);
  auto mean = random_tensor({1, 5, 1, 1}, 4, 12), var = smlm::testing::uniform_tensor({1, 5, 1, 1}, 4, 13, 0.5, 2.0);
  for (int c = 0; c < 5; ++c) {
    block.bn.gamma.value[c] = gm[c], block.bn.beta.value[c] = bt[c];
    block.bn.running_mean[c] = mean[c], block.bn.running_var[c] = var[c];
  }
  auto x = random_tensor({2, 3, 7, 6}, 4, 14);
  Tape<double> tape;
  tape.set_mode(Mode::inference);
  const auto unfused = block.forward(tape, tape.input(x.view()));  // recording: the three ops
  CHECK(tape.records() == 3);
  tape.set_recording(false);
  const auto fused = block.forward(tape, tape.input(x.view()));
  REQUIRE(fused.shape() == unfused.shape());
  for (std::ptrdiff_t i = 0; i < fused.value.size(); ++i) CHECK(fused.value[i] == doctest::Approx(unfused.value[i]).epsilon(1e-12));
}

namespace {
// y = s · x with a backward that forgets x in ∂L/∂s: check_layer_gradients must catch it.
struct WrongScaleGradient {
  using scalar = double;
  Parameter<double> s{{1, 1, 1, 1}};
  Var<double> forward(Tape<double>& tape, const Var<double>& x) {
    const Var<double> sv = tape.param(s);
    Var<double> y = tape.make(x.shape(), tape.needs_grad(x) || tape.needs_grad(sv));
    for (std::ptrdiff_t i = 0; i < x.value.size(); ++i) y.value[i] = sv.value[0] * x.value[i];
    if (y.requires_grad())
      tape.record([=] {
        for (std::ptrdiff_t i = 0; i < x.value.size(); ++i) {
          if (x.grad) x.grad[i] += sv.value[0] * y.grad[i];
          if (sv.grad) sv.grad[0] += y.grad[i];  // should be x.value[i] * y.grad[i]
        }
      });
    return y;
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(s);
  }
};
}  // namespace

TEST_CASE("check_layer_gradients: input and parameter gradients of a layer; a wrong one fails") {
  using Net = Sequential<Conv2d<double>, Act<double>, Conv2d<double>>;
  Net net(Conv2d<double>(2, 3, 3, {}, true), Act<double>{Activation::tanh}, Conv2d<double>(3, 2, 3, {}, true));
  std::uint32_t stream = 0;
  net.init(5, stream);
  const auto report = smlm::testing::check_layer_gradients(net, random_tensor({2, 2, 6, 5}, 5, 9), 5);
  SMLM_CHECK_REPORT(report);
  CHECK(report.checks.size() == 5);  // the input, two weights, two biases

  WrongScaleGradient wrong;
  wrong.s.value[0] = 1.7;
  const auto bad = smlm::testing::check_layer_gradients(wrong, random_tensor({1, 2, 3, 3}, 6, 1), 6);
  REQUIRE(bad.checks.size() == 2);
  CHECK(bad.checks[0].passed);  // the input's gradient is right
  CHECK_FALSE(bad.checks[1].passed);
  CHECK(bad.checks[1].name.starts_with("gradient <double> [layer] parameter 0"));
}
