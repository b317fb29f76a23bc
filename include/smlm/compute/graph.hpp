// A network as a flat list of inference ops over numbered values, built from a compile-time
// layer tree (nn::Sequential, nn::SkipConcat, the U-Net family's blocks) with batch norm folded
// into the convolutions: the host half of the OpenCL backend, independent of OpenCL.
//
// Value 0 is the network's input; each op reads one value (concat: two) and writes a new one;
// the last op's output is the network's output. Shapes are per sample (C, H, W) and follow from
// the input's (infer_shapes).
//
// Folding, exactly as nn::ConvBnAct does in inference (in double, then rounded to float):
//   w'[o] = w[o]·γ[o]/√(var[o] + ε),   b'[o] = β[o] + (b[o] − mean[o])·γ[o]/√(var[o] + ε).
// Layers the backend has no kernel for (instance norm, transposed convolution, bilinear
// up-sampling) make the graph's status errc::unsupported naming the layer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <vector>

#include <smlm/core/status.hpp>
#include <smlm/nn/unet.hpp>

namespace smlm::compute {

enum class OpKind { conv, affine, activation, max_pool, upsample, pixel_shuffle, concat };

struct Op {
  OpKind kind = OpKind::conv;
  int input = 0, second = -1, output = 0;  ///< value ids (second: concat's other operand)
  int in_channels = 0, out_channels = 0;   ///< conv, affine (out_channels = in_channels)
  int k = 1, stride = 1;                    ///< conv
  nn::Padding padding = nn::Padding::same;  ///< conv
  int factor = 1;                           ///< upsample, pixel_shuffle
  nn::Activation act = nn::Activation::identity;
  float slope = 0;
  std::vector<float> weights;  ///< conv: [C_out, C_in, k, k] (folded); affine: scale per channel
  std::vector<float> bias;     ///< conv: per output channel (zeros without bias); affine: shift
};

struct ValueShape {
  std::ptrdiff_t c = 0, h = 0, w = 0;
  std::ptrdiff_t size() const noexcept { return c * h * w; }
  friend bool operator==(const ValueShape&, const ValueShape&) = default;
};

struct Graph {
  std::vector<Op> ops;
  int values = 1;        ///< value ids 0 .. values − 1
  int in_channels = 1;
  Status status;         ///< errc::unsupported when a layer has no kernel here

  int output() const noexcept { return ops.empty() ? 0 : ops.back().output; }

  /// Every value's shape for an input of c × h × w per sample, or an error naming the op whose
  /// input does not fit it (pooling an odd size, concatenating different sizes).
  Expected<std::vector<ValueShape>> infer_shapes(ValueShape input) const {
    std::vector<ValueShape> s(static_cast<std::size_t>(values));
    s[0] = input;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      const ValueShape x = s[static_cast<std::size_t>(op.input)];
      ValueShape y = x;
      switch (op.kind) {
        case OpKind::conv: {
          if (x.c != op.in_channels)
            return make_error(errc::invalid_argument, "compute: op ", i, " (conv) gets ", x.c, " channels, expects ",
                              op.in_channels);
          const nn::ConvGeometry g = nn::conv2d_geometry(nn::Shape{1, x.c, x.h, x.w},
                                                         nn::Shape{op.out_channels, op.in_channels, op.k, op.k},
                                                         op.stride, op.padding);
          y = {g.out_c, g.out_h, g.out_w};
          break;
        }
        case OpKind::affine:
          if (x.c != op.in_channels)
            return make_error(errc::invalid_argument, "compute: op ", i, " (batch norm) gets ", x.c,
                              " channels, expects ", op.in_channels);
          break;
        case OpKind::activation: break;
        case OpKind::max_pool:
          if (x.h % 2 != 0 || x.w % 2 != 0)
            return make_error(errc::invalid_argument, "compute: op ", i, " (2x2 max pooling) gets ", x.h, " x ", x.w,
                              ", not even sizes");
          y = {x.c, x.h / 2, x.w / 2};
          break;
        case OpKind::upsample: y = {x.c, x.h * op.factor, x.w * op.factor}; break;
        case OpKind::pixel_shuffle:
          if (x.c % (op.factor * op.factor) != 0)
            return make_error(errc::invalid_argument, "compute: op ", i, " (pixel shuffle) gets ", x.c,
                              " channels, not a multiple of ", op.factor * op.factor);
          y = {x.c / (op.factor * op.factor), x.h * op.factor, x.w * op.factor};
          break;
        case OpKind::concat: {
          const ValueShape b = s[static_cast<std::size_t>(op.second)];
          if (b.h != x.h || b.w != x.w)
            return make_error(errc::invalid_argument, "compute: op ", i, " (concat) joins ", x.h, " x ", x.w, " and ",
                              b.h, " x ", b.w);
          y = {x.c + b.c, x.h, x.w};
          break;
        }
      }
      if (y.size() <= 0)
        return make_error(errc::invalid_argument, "compute: op ", i, " produces an empty ", y.c, " x ", y.h, " x ", y.w,
                          " output");
      s[static_cast<std::size_t>(op.output)] = y;
    }
    return s;
  }
};

namespace detail {

/// Walks a layer tree and appends its ops to a Graph; T is the layers' scalar.
template <class T>
class GraphBuilder {
 public:
  Graph graph;

  template <class... Ls>
  int emit(const nn::Sequential<Ls...>& s, int x) {
    std::apply([&](const auto&... l) { ((x = emit(l, x)), ...); }, s.layers);
    return x;
  }
  template <class L>
  int emit(const nn::SkipConcat<L>& s, int x) {
    pinned_.push_back(x);
    const int inner = emit(s.inner, x);
    pinned_.pop_back();
    Op op;
    op.kind = OpKind::concat;
    op.input = x, op.second = inner;
    return add(std::move(op));
  }
  int emit(const nn::ConvBnAct<T>& b, int x) {
    Op op = conv_op(b.conv);
    // Tape inference's fold (ConvBnAct::fold, in T), then to the device's float.
    std::vector<T> w(op.weights.size()), bias(op.bias.size());
    b.fold(w.data(), bias.data());
    std::transform(w.begin(), w.end(), op.weights.begin(), [](T v) { return static_cast<float>(v); });
    std::transform(bias.begin(), bias.end(), op.bias.begin(), [](T v) { return static_cast<float>(v); });
    op.act = b.act.function, op.slope = static_cast<float>(b.act.slope);
    op.input = x;
    return add(std::move(op));
  }
  template <nn::Norm N>
  int emit(const nn::ConvNormAct<T, N>& b, int x) {
    return emit(b.act, emit(b.norm, emit(b.conv, x)));
  }
  int emit(const nn::Conv2d<T>& c, int x) {
    Op op = conv_op(c);
    op.input = x;
    return add(std::move(op));
  }
  int emit(const nn::BatchNorm2d<T>& bn, int x) {
    Op op;
    op.kind = OpKind::affine;
    op.input = x;
    const std::ptrdiff_t channels = bn.gamma.value.size();
    op.in_channels = op.out_channels = static_cast<int>(channels);
    for (std::ptrdiff_t c = 0; c < channels; ++c) {
      const double a = double(bn.gamma.value[c]) / std::sqrt(double(bn.running_var[c]) + bn.eps);
      op.weights.push_back(static_cast<float>(a));
      op.bias.push_back(static_cast<float>(double(bn.beta.value[c]) - double(bn.running_mean[c]) * a));
    }
    return add(std::move(op));
  }
  int emit(const nn::Act<T>& a, int x) {
    if (a.function == nn::Activation::identity) return x;
    // Fused into the convolution or batch norm that produced x when nothing else reads x.
    if (!graph.ops.empty() && graph.ops.back().output == x && graph.ops.back().act == nn::Activation::identity &&
        std::find(pinned_.begin(), pinned_.end(), x) == pinned_.end() &&
        (graph.ops.back().kind == OpKind::conv || graph.ops.back().kind == OpKind::affine)) {
      graph.ops.back().act = a.function, graph.ops.back().slope = static_cast<float>(a.slope);
      return x;
    }
    Op op;
    op.kind = OpKind::activation;
    op.input = x;
    op.act = a.function, op.slope = static_cast<float>(a.slope);
    return add(std::move(op));
  }
  int emit(const nn::Identity<T>&, int x) { return x; }
  int emit(const nn::Dropout<T>&, int x) { return x; }  // inference: dropout is the identity
  int emit(const nn::MaxPool2<T>&, int x) {
    Op op;
    op.kind = OpKind::max_pool;
    op.input = x;
    return add(std::move(op));
  }
  int emit(const nn::UpsampleNearest<T>& u, int x) { return resample(OpKind::upsample, u.factor, x); }
  int emit(const nn::PixelShuffle<T>& p, int x) { return resample(OpKind::pixel_shuffle, p.factor, x); }
  int emit(const nn::InstanceNorm2d<T>&, int x) { return unsupported("instance norm", x); }
  int emit(const nn::ConvTranspose2d<T>&, int x) { return unsupported("transposed convolution", x); }
  int emit(const nn::UpsampleBilinear<T>&, int x) { return unsupported("bilinear up-sampling", x); }

 private:
  std::vector<int> pinned_;  ///< values a SkipConcat being emitted reads again

  int add(Op op) {
    op.output = graph.values++;
    graph.ops.push_back(std::move(op));
    return graph.ops.back().output;
  }
  int resample(OpKind kind, std::ptrdiff_t factor, int x) {
    if (factor == 1) return x;
    Op op;
    op.kind = kind;
    op.input = x, op.factor = static_cast<int>(factor);
    return add(std::move(op));
  }
  int unsupported(const char* what, int x) {
    if (graph.status.ok())
      graph.status = make_error(errc::unsupported, "compute: the OpenCL backend has no kernel for ", what);
    return x;
  }
  static Op conv_op(const nn::Conv2d<T>& c) {
    const nn::Shape ws = c.weight.shape();
    Op op;
    op.kind = OpKind::conv;
    op.out_channels = static_cast<int>(ws.n), op.in_channels = static_cast<int>(ws.c);
    op.k = static_cast<int>(ws.h), op.stride = static_cast<int>(c.options.stride), op.padding = c.options.padding;
    op.weights.resize(static_cast<std::size_t>(ws.size()));
    for (std::ptrdiff_t i = 0; i < ws.size(); ++i) op.weights[static_cast<std::size_t>(i)] = static_cast<float>(c.weight.value[i]);
    op.bias.assign(static_cast<std::size_t>(ws.n), 0.0f);
    if (!c.bias.value.empty())
      for (std::ptrdiff_t o = 0; o < ws.n; ++o) op.bias[static_cast<std::size_t>(o)] = static_cast<float>(c.bias.value[o]);
    return op;
  }
};

}  // namespace detail

/// The inference graph of a U-Net (nn/unet.hpp) with its current weights and running statistics.
template <nn::UNetConfig C, class T>
Graph make_graph(const nn::UNet<C, T>& net) {
  detail::GraphBuilder<T> b;
  b.graph.in_channels = C.in_channels;
  b.emit(net.layers(), 0);
  return std::move(b.graph);
}

}  // namespace smlm::compute
