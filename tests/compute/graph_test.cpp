// graph.hpp: the presets as op lists (kernels each needs, activations fused), batch norm folded as
// nn::ConvBnAct folds it, shapes inferred as the CPU network's, and layers without a kernel.
#include <doctest/doctest.h>

#include <cmath>

#include <smlm/compute/graph.hpp>
#include <smlm/nn/unet.hpp>

using namespace smlm;
using namespace smlm::compute;

namespace {
int count(const Graph& g, OpKind kind) {
  int n = 0;
  for (const Op& op : g.ops) n += op.kind == kind;
  return n;
}
ValueShape output_of(const Graph& g, ValueShape in) {
  auto shapes = g.infer_shapes(in);
  REQUIRE_MESSAGE(shapes.has_value(), shapes.message());
  return (*shapes)[static_cast<std::size_t>(g.output())];
}
}  // namespace

TEST_CASE("deep_storm: 8 convolutions with their activations fused, 3 pools, ×8 input and 3 ×2 up-samplings") {
  nn::DeepStorm net(8);
  const Graph g = make_graph(net);
  REQUIRE(g.status.ok());
  CHECK(count(g, OpKind::conv) == 8);
  CHECK(count(g, OpKind::max_pool) == 3);
  CHECK(count(g, OpKind::upsample) == 4);
  CHECK(count(g, OpKind::activation) == 0);
  CHECK(count(g, OpKind::concat) == 0);
  CHECK(g.ops.front().kind == OpKind::upsample);
  CHECK(g.ops.front().factor == 8);
  CHECK(g.ops.back().kind == OpKind::conv);
  CHECK(g.ops.back().k == 1);
  CHECK(g.ops.back().act == nn::Activation::identity);
  CHECK(output_of(g, {1, 5, 7}) == ValueShape{1, 40, 56});
}

TEST_CASE("sub_pixel and cell_storm: skips become concats, the heads shuffle or end in tanh") {
  nn::SubPixel sp(4);
  const Graph a = make_graph(sp);
  REQUIRE(a.status.ok());
  CHECK(count(a, OpKind::concat) == 2);
  CHECK(count(a, OpKind::pixel_shuffle) == 1);
  CHECK(a.ops.back().kind == OpKind::pixel_shuffle);
  CHECK(output_of(a, {1, 8, 12}) == ValueShape{1, 32, 48});

  nn::CellStorm cs(4);
  const Graph b = make_graph(cs);
  REQUIRE(b.status.ok());
  CHECK(count(b, OpKind::concat) == 3);
  CHECK(count(b, OpKind::max_pool) == 0);
  int strided = 0;
  for (const Op& op : b.ops) strided += op.kind == OpKind::conv && op.stride == 2;
  CHECK(strided == 3);
  // The tanh output follows the 1×1 head, which has an identity activation: fused into it.
  CHECK(b.ops.back().kind == OpKind::conv);
  CHECK(b.ops.back().act == nn::Activation::tanh);
  const auto* enc = &b.ops[1];
  CHECK(enc->act == nn::Activation::leaky_relu);
  CHECK(enc->slope == doctest::Approx(0.2));
}

TEST_CASE("batch norm is folded into the convolution as nn::ConvBnAct folds it") {
  nn::ConvBnAct<float> block = nn::conv_bn_act<float>(2, 3, 3, nn::Activation::relu);
  std::uint32_t stream = 0;
  block.init(7, stream);
  for (int o = 0; o < 3; ++o) {
    block.bn.gamma.value[o] = 0.5f + 0.25f * float(o);
    block.bn.beta.value[o] = -0.1f * float(o);
    block.bn.running_mean[o] = 0.2f * float(o) - 0.1f;
    block.bn.running_var[o] = 1.5f + float(o);
  }
  compute::detail::GraphBuilder<float> b;
  CHECK(b.emit(block, 0) == 1);
  REQUIRE(b.graph.ops.size() == 1);
  const Op& op = b.graph.ops[0];
  for (int o = 0; o < 3; ++o) {
    const double a = double(block.bn.gamma.value[o]) / std::sqrt(double(block.bn.running_var[o]) + 1e-5);
    for (int i = 0; i < 18; ++i)
      CHECK(op.weights[static_cast<std::size_t>(o * 18 + i)] == float(a * double(block.conv.weight.value[o * 18 + i])));
    CHECK(op.bias[static_cast<std::size_t>(o)] ==
          float(double(block.bn.beta.value[o]) - double(block.bn.running_mean[o]) * a));
  }
  CHECK(op.act == nn::Activation::relu);
}

TEST_CASE("an activation is not fused into an op whose output a skip connection reads again") {
  compute::detail::GraphBuilder<float> b;
  nn::Conv2d<float> conv(1, 2, 3);
  using Inner = nn::Sequential<nn::Act<float>>;
  nn::SkipConcat<Inner> skip{Inner(nn::Act<float>{nn::Activation::relu, 0.0f})};
  const int y = b.emit(skip, b.emit(conv, 0));
  REQUIRE(b.graph.ops.size() == 3);
  CHECK(b.graph.ops[0].act == nn::Activation::identity);
  CHECK(b.graph.ops[1].kind == OpKind::activation);
  CHECK(b.graph.ops[2].kind == OpKind::concat);
  CHECK(y == 3);
}

TEST_CASE("layers without a kernel make the graph's status unsupported, naming the layer") {
  constexpr nn::UNetConfig transposed{.depth = 1, .widths = {4, 8}, .up = nn::Upsample::transposed_conv};
  nn::UNet<transposed> net;
  const Graph g = make_graph(net);
  CHECK(g.status.code() == errc::unsupported);
  CHECK(g.status.message().find("transposed convolution") != std::string::npos);
}

TEST_CASE("infer_shapes: an odd size before a pooling or a wrong channel count is an error") {
  nn::SubPixel net(2);
  const Graph g = make_graph(net);
  auto odd = g.infer_shapes({1, 6, 7});
  REQUIRE_FALSE(odd.has_value());
  CHECK(odd.message().find("2x2 max pooling") != std::string::npos);
  auto channels = g.infer_shapes({3, 8, 8});
  REQUIRE_FALSE(channels.has_value());
  CHECK(channels.message().find("gets 3 channels, expects 1") != std::string::npos);
}
