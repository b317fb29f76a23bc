// The layer interface (nn::Layer) and the layers networks are composed from at compile time.
//
// A Layer is a type with
//   using scalar = float;                                     (or double)
//   Var<scalar> forward(Tape<scalar>&, const Var<scalar>& x);  the ops of this layer on the tape
//   void for_each_parameter(F&& f);                            f(Parameter<scalar>&) for each
// and, optionally (detected with `requires`),
//   void init(std::uint64_t seed, std::uint32_t& stream);      seeded initialisation; consumes
//                                                              one stream per parameter tensor
//   void for_each_buffer(F&& f);                               f(Tensor<scalar>&) for each state
//                                                              tensor that is not trained but is
//                                                              part of the model (batch-norm
//                                                              running statistics)
// nn::for_each_buffer(layer, f) visits a layer's buffers (none when it declares no hook); model
// files save, load and count them beside the parameters, in visiting order.
// A layer's training/inference behaviour follows tape.mode(). Sequential<L...> chains layers,
// SkipConcat<L> is y = concat(x, L(x)) (a U-Net level's skip connection, tied to its level by
// construction). Because composition is by type, a whole network is one type whose forward is
// inlined end to end; there is no virtual call and no registry.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/init.hpp>
#include <smlm/nn/norm.hpp>
#include <smlm/nn/pool.hpp>
#include <smlm/nn/resample.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

namespace detail {
template <class L>
concept declares_scalar = requires { typename L::scalar; };
template <class L>
concept has_forward = requires(L& l, Tape<typename L::scalar>& t, const Var<typename L::scalar>& x) {
  { l.forward(t, x) } -> std::same_as<Var<typename L::scalar>>;
};
template <class L>
concept has_for_each_parameter_of = requires(L& l) {
  l.for_each_parameter([](Parameter<typename L::scalar>&) {});
};
template <class L>
concept has_init = requires(L& l, std::uint32_t& stream) { l.init(std::uint64_t{}, stream); };
template <class L>
concept has_for_each_buffer = requires(L& l) { l.for_each_buffer([](Tensor<typename L::scalar>&) {}); };
}  // namespace detail

template <class L>
concept Layer = detail::declares_scalar<L> && detail::has_forward<L> && detail::has_for_each_parameter_of<L>;

/// true when L is a Layer; otherwise fails to compile with a sentence naming what L lacks.
template <class L>
consteval bool check_layer() {
  static_assert(detail::declares_scalar<L>, "nn::Layer: the type must declare `using scalar = float;` (or double)");
  if constexpr (detail::declares_scalar<L>) {
    static_assert(detail::has_forward<L>,
                  "nn::Layer: missing member `Var<scalar> forward(Tape<scalar>&, const Var<scalar>&)`");
    static_assert(detail::has_for_each_parameter_of<L>,
                  "nn::Layer: missing member `void for_each_parameter(F&&)` calling F with each Parameter<scalar>&");
  }
  return Layer<L>;
}

/// Calls f(Tensor<scalar>&) for each buffer of the layer (running statistics), in a fixed order.
template <class L, class F>
void for_each_buffer(L& layer, F&& f) {
  if constexpr (detail::has_for_each_buffer<L>) layer.for_each_buffer(f);
}

/// Initialises a layer's parameters from (seed, stream, stream+1, ...) if it has any to initialise.
template <class L>
void init_layer(L& layer, std::uint64_t seed, std::uint32_t& stream) {
  if constexpr (detail::has_init<L>) layer.init(seed, stream);
}

// --- layers with parameters -------------------------------------------------------------------

template <class T = float>
struct Conv2d {
  using scalar = T;
  Parameter<T> weight;
  Parameter<T> bias;  ///< empty when built without bias
  Conv2dOptions options;

  Conv2d(std::ptrdiff_t in_channels, std::ptrdiff_t out_channels, std::ptrdiff_t k, Conv2dOptions opt = {},
         bool with_bias = false)
      : weight({out_channels, in_channels, k, k}), options(opt) {
    if (with_bias) bias = Parameter<T>({1, out_channels, 1, 1});
  }
  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    return conv2d(tape, x, tape.param(weight), bias.value.empty() ? Var<T>{} : tape.param(bias), options);
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(weight);
    if (!bias.value.empty()) f(bias);
  }
  /// He-normal weights, zero bias.
  void init(std::uint64_t seed, std::uint32_t& stream) {
    he_normal(weight, seed, stream++);
    fill(bias.value.view(), T(0));
  }
};

template <class T = float>
struct BatchNorm2d {
  using scalar = T;
  Parameter<T> gamma, beta;
  Tensor<T> running_mean, running_var;
  double momentum = 0.1, eps = 1e-5;

  explicit BatchNorm2d(std::ptrdiff_t channels)
      : gamma({1, channels, 1, 1}), beta({1, channels, 1, 1}), running_mean({1, channels, 1, 1}),
        running_var({1, channels, 1, 1}, T(1)) {
    fill(gamma.value.view(), T(1));
  }
  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    return batch_norm(tape, x, tape.param(gamma), tape.param(beta),
                      BatchNormStats<T>{running_mean.data(), running_var.data(), momentum, eps});
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(gamma);
    f(beta);
  }
  template <class F>
  void for_each_buffer(F&& f) {
    f(running_mean);
    f(running_var);
  }
};

/// Transposed convolution (PyTorch's ConvTranspose2d): weights [C_in, C_out, k, k], optional bias.
template <class T = float>
struct ConvTranspose2d {
  using scalar = T;
  Parameter<T> weight;
  Parameter<T> bias;  ///< empty when built without bias
  ConvTranspose2dOptions options;

  ConvTranspose2d(std::ptrdiff_t in_channels, std::ptrdiff_t out_channels, std::ptrdiff_t k,
                  ConvTranspose2dOptions opt = {}, bool with_bias = false)
      : weight({in_channels, out_channels, k, k}), options(opt) {
    if (with_bias) bias = Parameter<T>({1, out_channels, 1, 1});
  }
  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    return conv_transpose2d(tape, x, tape.param(weight), bias.value.empty() ? Var<T>{} : tape.param(bias), options);
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(weight);
    if (!bias.value.empty()) f(bias);
  }
  /// He-normal weights with PyTorch's fan-in of a transposed convolution (C_out·k²), zero bias.
  void init(std::uint64_t seed, std::uint32_t& stream) {
    he_normal(weight, seed, stream++);
    fill(bias.value.view(), T(0));
  }
};

/// Instance norm with a per-channel affine part (γ = 1, β = 0 initially); no running statistics.
template <class T = float>
struct InstanceNorm2d {
  using scalar = T;
  Parameter<T> gamma, beta;
  double eps = 1e-5;

  explicit InstanceNorm2d(std::ptrdiff_t channels) : gamma({1, channels, 1, 1}), beta({1, channels, 1, 1}) {
    fill(gamma.value.view(), T(1));
  }
  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    return instance_norm(tape, x, tape.param(gamma), tape.param(beta), eps);
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(gamma);
    f(beta);
  }
};

// --- stateless layers ---------------------------------------------------------------------

template <class T = float>
struct Act {
  using scalar = T;
  Activation function = Activation::relu;
  T slope = T(0.01);
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return activate(tape, x, function, slope); }
  template <class F>
  void for_each_parameter(F&&) {}
};
template <class T = float>
struct Relu : Act<T> {};

/// y = x (a placeholder where a configuration asks for nothing, e.g. no normalization).
template <class T = float>
struct Identity {
  using scalar = T;
  Var<T> forward(Tape<T>&, const Var<T>& x) { return x; }
  template <class F>
  void for_each_parameter(F&&) {}
};

/// [N, C·r², H, W] → [N, C, H·r, W·r] (sub-pixel convolution's rearrangement).
template <class T = float>
struct PixelShuffle {
  using scalar = T;
  std::ptrdiff_t factor = 2;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return pixel_shuffle(tape, x, factor); }
  template <class F>
  void for_each_parameter(F&&) {}
};

template <class T = float>
struct MaxPool2 {
  using scalar = T;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return max_pool2x2(tape, x); }
  template <class F>
  void for_each_parameter(F&&) {}
};

template <class T = float>
struct UpsampleNearest {
  using scalar = T;
  std::ptrdiff_t factor = 2;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return upsample_nearest(tape, x, factor); }
  template <class F>
  void for_each_parameter(F&&) {}
};

template <class T = float>
struct UpsampleBilinear {
  using scalar = T;
  std::ptrdiff_t factor = 2;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return upsample_bilinear(tape, x, factor); }
  template <class F>
  void for_each_parameter(F&&) {}
};

/// Dropout whose mask stream advances by one per training forward: (seed, calls).
template <class T = float>
struct Dropout {
  using scalar = T;
  double p = 0.5;
  std::uint64_t seed = 0;
  std::uint32_t calls = 0;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    return tape.training() ? dropout(tape, x, p, seed, calls++) : x;
  }
  template <class F>
  void for_each_parameter(F&&) {}
};

// --- composition --------------------------------------------------------------------------

template <Layer... Ls>
struct Sequential {
  static_assert(sizeof...(Ls) > 0, "Sequential needs at least one layer");
  using scalar = typename std::tuple_element_t<0, std::tuple<Ls...>>::scalar;
  static_assert((std::is_same_v<scalar, typename Ls::scalar> && ...), "Sequential: layers disagree on the scalar type");
  std::tuple<Ls...> layers;

  explicit Sequential(Ls... ls) : layers(std::move(ls)...) {}
  Var<scalar> forward(Tape<scalar>& tape, const Var<scalar>& x) {
    return std::apply([&](auto&... l) {
      Var<scalar> h = x;
      ((h = l.forward(tape, h)), ...);
      return h;
    }, layers);
  }
  template <class F>
  void for_each_parameter(F&& f) {
    std::apply([&](auto&... l) { (l.for_each_parameter(f), ...); }, layers);
  }
  template <class F>
  void for_each_buffer(F&& f) {
    std::apply([&](auto&... l) { (nn::for_each_buffer(l, f), ...); }, layers);
  }
  void init(std::uint64_t seed, std::uint32_t& stream) {
    std::apply([&](auto&... l) { (init_layer(l, seed, stream), ...); }, layers);
  }
  template <std::size_t I>
  auto& get() noexcept { return std::get<I>(layers); }
};

/// y = concat(x, inner(x)): x's channels first.
template <Layer L>
struct SkipConcat {
  using scalar = typename L::scalar;
  L inner;
  Var<scalar> forward(Tape<scalar>& tape, const Var<scalar>& x) { return concat(tape, x, inner.forward(tape, x)); }
  template <class F>
  void for_each_parameter(F&& f) { inner.for_each_parameter(f); }
  template <class F>
  void for_each_buffer(F&& f) { nn::for_each_buffer(inner, f); }
  void init(std::uint64_t seed, std::uint32_t& stream) { init_layer(inner, seed, stream); }
};

/// conv k×k → batch norm → activation, the block of Deep-STORM and most U-Nets. In training,
/// or whenever the tape records, it is the three ops in sequence. In inference without
/// recording it folds the batch norm into the convolution — w'[o] = w[o]·γ[o]/√(var[o] + ε),
/// b'[o] = β[o] + (b[o] − mean[o])·γ[o]/√(var[o] + ε) — and applies the activation in place:
/// one pass over the output instead of three, and one activation buffer instead of three.
template <class T = float>
struct ConvBnAct {
  using scalar = T;
  Conv2d<T> conv;
  BatchNorm2d<T> bn;
  Act<T> act;

  Var<T> forward(Tape<T>& tape, const Var<T>& x) {
    if (tape.training() || tape.recording()) return act.forward(tape, bn.forward(tape, conv.forward(tape, x)));
    const Shape ws = conv.weight.shape();
    const ConvGeometry g = conv2d_geometry(x.shape(), ws, conv.options.stride, conv.options.padding);
    T* w = tape.scratch(static_cast<std::size_t>(ws.size()));
    T* b = tape.scratch(static_cast<std::size_t>(g.out_c));
    fold(w, b);
    Var<T> y = tape.make({x.shape().n, g.out_c, g.out_h, g.out_w}, false);
    T* scratch = tape.scratch(conv_forward_scratch<T>(g, x.shape().n, tape.threads()));
    conv2d_forward(g, x.shape().n, x.data(), w, b, y.value.data(), scratch, tape.pool());
    T* yd = y.value.data();
    const Activation f = act.function;
    const T slope = act.slope;
    tape.parallel_range(y.value.size(), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      activation_forward(f, hi - lo, yd + lo, yd + lo, slope);
    });
    return y;
  }
  /// The folded convolution of inference (see above): w[out_c · in_c · k · k], b[out_c].
  template <class U>
  void fold(U* w, U* b) const noexcept {
    const Shape ws = conv.weight.shape();
    const std::ptrdiff_t depth = ws.c * ws.h * ws.w;
    for (std::ptrdiff_t o = 0; o < ws.n; ++o) {
      const double a = double(bn.gamma.value[o]) / std::sqrt(double(bn.running_var[o]) + bn.eps);
      for (std::ptrdiff_t i = 0; i < depth; ++i) w[o * depth + i] = U(a * double(conv.weight.value[o * depth + i]));
      const double bias = conv.bias.value.empty() ? 0.0 : double(conv.bias.value[o]);
      b[o] = U(double(bn.beta.value[o]) + (bias - double(bn.running_mean[o])) * a);
    }
  }
  template <class F>
  void for_each_parameter(F&& f) {
    conv.for_each_parameter(f);
    bn.for_each_parameter(f);
  }
  template <class F>
  void for_each_buffer(F&& f) { bn.for_each_buffer(f); }
  void init(std::uint64_t seed, std::uint32_t& stream) { conv.init(seed, stream); }
};

template <class T = float>
ConvBnAct<T> conv_bn_act(std::ptrdiff_t in_channels, std::ptrdiff_t out_channels, std::ptrdiff_t k = 3,
                         Activation f = Activation::relu) {
  return ConvBnAct<T>{Conv2d<T>(in_channels, out_channels, k), BatchNorm2d<T>(out_channels), Act<T>{f, T(0.01)}};
}

}  // namespace smlm::nn
