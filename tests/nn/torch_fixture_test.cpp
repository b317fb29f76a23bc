// A small conv–BN–ReLU–pool–upsample–concat network against PyTorch: output, Deep-STORM loss,
// every parameter gradient, batch-norm running statistics and three Adam steps, from the
// committed fixture written by fixtures/make_torch_fixture.py (PyTorch float64). No PyTorch is
// needed to run this test.
//
// Tolerances (relative to the largest magnitude of each compared block): double 1e-9 (the
// summation orders differ); float 2e-5 for forward values and gradients, and 1e-4 of the
// weights' scale after Adam steps (Adam divides by √v, which amplifies float rounding of small
// gradients).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <smlm/nn/nn.hpp>
#include <string>
#include <vector>

using namespace smlm::nn;

namespace {
std::map<std::string, std::vector<double>> read_fixture() {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "fixtures" / "torch_small_net.txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::map<std::string, std::vector<double>> blocks;
  std::string name;
  while (in >> name) {
    if (name[0] == '#') {
      std::getline(in, name);
      continue;
    }
    std::size_t n = 0;
    in >> n;
    std::vector<double> v(n);
    for (auto& x : v) in >> x;
    REQUIRE_MESSAGE(in.good(), path << ": block " << name << " is truncated");
    blocks[name] = std::move(v);
  }
  return blocks;
}

template <class T>
using Net = Sequential<ConvBnAct<T>,
                       SkipConcat<Sequential<MaxPool2<T>, Conv2d<T>, Act<T>, UpsampleNearest<T>>>, Conv2d<T>>;

template <class T>
Net<T> make_net() {
  return Net<T>(conv_bn_act<T>(2, 4),
                SkipConcat<Sequential<MaxPool2<T>, Conv2d<T>, Act<T>, UpsampleNearest<T>>>{
                    Sequential(MaxPool2<T>{}, Conv2d<T>(4, 6, 3, {}, true), Act<T>{Activation::relu}, UpsampleNearest<T>{2})},
                Conv2d<T>(10, 1, 1, {}, true));
}

const char* const param_names[] = {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                   "conv2.bias",   "conv3.weight", "conv3.bias"};

template <class T>
void check_close(const T* got, const std::vector<double>& want, double rel, const std::string& what) {
  double scale = 0, err = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(double(got[i]) - want[i]));
  INFO(what << ": max error " << err << " of scale " << scale);
  CHECK(err <= rel * scale);
}
}  // namespace

TEST_CASE_TEMPLATE("small network matches PyTorch: output, loss, gradients, BN statistics, 3 Adam steps", T, float,
                   double) {
  const auto fx = read_fixture();
  const bool is_float = sizeof(T) == 4;
  const double tol = is_float ? 2e-5 : 1e-9, adam_tol = is_float ? 1e-4 : 1e-9;
  Net<T> net = make_net<T>();
  std::vector<Parameter<T>*> params;
  net.for_each_parameter([&](Parameter<T>& p) { params.push_back(&p); });
  REQUIRE(params.size() == 7);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& v = fx.at(std::string("init.") + param_names[i]);
    REQUIRE(static_cast<std::ptrdiff_t>(v.size()) == params[i]->value.size());
    for (std::size_t j = 0; j < v.size(); ++j) params[i]->value[j] = T(v[j]);
  }
  Tensor<T> x({2, 2, 8, 8}), target({2, 1, 8, 8});
  for (std::ptrdiff_t i = 0; i < x.size(); ++i) x[i] = T(fx.at("input")[i]);
  for (std::ptrdiff_t i = 0; i < target.size(); ++i) target[i] = T(fx.at("target")[i]);
  DeepStormLossOptions loss_opt;
  loss_opt.l1_weight = 0.1;

  Tape<T> tape;
  Adam<T> adam({.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
  for (int step = 1; step <= 3; ++step) {
    CAPTURE(step);
    tape.reset();
    zero_grad(params);
    const auto y = net.forward(tape, tape.input(x.view()));
    const auto loss = deep_storm_loss(tape, y, tape.input(target.view()), loss_opt);
    tape.backward(loss);
    if (step == 1) {
      check_close(y.data(), fx.at("output"), tol, "output");
      check_close(loss.data(), fx.at("loss"), tol, "loss");
      for (std::size_t i = 0; i < params.size(); ++i)
        check_close(params[i]->grad.data(), fx.at(std::string("grad.") + param_names[i]), tol, param_names[i]);
      const auto& bn = std::get<0>(net.layers).bn;
      check_close(bn.running_mean.data(), fx.at("bn1.running_mean"), tol, "running mean");
      check_close(bn.running_var.data(), fx.at("bn1.running_var"), tol, "running var");
    } else {
      check_close(loss.data(), fx.at("adam" + std::to_string(step) + ".loss"), adam_tol, "loss after Adam");
    }
    adam.step(params);
    for (std::size_t i = 0; i < params.size(); ++i)
      check_close(params[i]->value.data(), fx.at("adam" + std::to_string(step) + "." + param_names[i]), adam_tol,
                  std::string("Adam ") + param_names[i]);
  }
}
