// Inference of a U-Net (unet.hpp) whose configuration, factor r and input size are known at
// compile time, in memory planned at compile time: the microcontroller path.
//
// StaticUNet<C, R, H, W> runs the network UNet<C>(R) computes in inference mode on one H × W
// input, on folded weights (every batch norm folded into its convolution, as ConvBnAct does in
// inference) held in one flat array, with every activation placed in a caller-provided arena of
// arena_floats floats. arena_floats and weight_count are constant expressions: a firmware
// declares `alignas(64) static float arena[Net::arena_floats];` and the linker map shows the
// whole RAM the network takes. The kernels are conv2d_forward_direct (no scratch) and the
// pooling / up-sampling / activation kernels of the inference path; nothing allocates, nothing
// throws, no thread and no SIMD type is named.
//
// Weight layout: for each convolution in forward order (level 0's encoder convolutions, the
// level below recursively, the up-sampling convolution, level 0's decoder convolutions, then the
// head), its weights [out_c][in_c][k][k] followed by its bias [out_c] (zeros where the layer has
// none). fold_weights() writes that array from a trained UNet<C>. forward_int8 runs on int8
// weights with one scale per output channel and float biases (quantize_weights_int8; a quarter
// of the flash): each output channel's weights are dequantized into a buffer on the arena just
// before its convolution, so activations and arithmetic stay float.
//
// Memory plan: a stack. A level takes its merge buffer (the skip concatenation: the encoder
// output and the up-sampled inner output side by side, so the concatenation costs no copy), then
// the pooled input and output of the level below, the up-sampled output, and the temporaries of
// its convolution chains; it returns them all before its caller continues. Every piece is
// rounded up to 16 floats (64 bytes): with a 64-byte aligned arena every buffer is aligned.
//
// Supported: max-pooling down-sampling, resize-convolution up-sampling, batch norm or none, any
// depth, widths, kernel, activations and resolution mode (dropout is the identity in inference).
// Other configurations are a compile error naming the field.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/pool.hpp>
#include <smlm/nn/resample.hpp>
#include <smlm/nn/unet.hpp>

namespace smlm::nn {

namespace detail {

/// One walk over the network: with a null arena it only plans (offsets, peak, weight count).
struct StaticWalk {
  float* arena = nullptr;
  const float* weights = nullptr;       ///< folded float weights (float mode)
  const std::int8_t* q = nullptr;       ///< int8 weights (int8 mode), with per-output-channel
  const float* scales = nullptr;        ///< scales and
  const float* biases = nullptr;        ///< biases
  bool int8 = false;
  std::size_t top = 0, peak = 0, weight_pos = 0, q_pos = 0, channel_pos = 0;

  constexpr bool running() const noexcept { return arena != nullptr; }
  /// A buffer of n floats on top of the stack; its offset.
  constexpr std::size_t push(std::ptrdiff_t n) noexcept {
    const std::size_t at = top;
    top += (static_cast<std::size_t>(n) + 15) / 16 * 16;
    if (top > peak) peak = top;
    return at;
  }
};

/// A buffer: caller memory (ext) or an arena offset.
struct StaticBuf {
  float* ext = nullptr;
  std::size_t offset = 0;
  constexpr float* ptr(const StaticWalk& s) const noexcept { return ext ? ext : s.arena + offset; }
  constexpr StaticBuf plus(std::ptrdiff_t n) const noexcept {
    return ext ? StaticBuf{ext + n, 0} : StaticBuf{nullptr, offset + static_cast<std::size_t>(n)};
  }
};

/// y = act(conv_k×k(x) + b), 'same' padding, stride 1; consumes the next weights.
constexpr void static_conv(StaticWalk& s, StaticBuf x, std::ptrdiff_t cin, std::ptrdiff_t h, std::ptrdiff_t w,
                           StaticBuf y, std::ptrdiff_t cout, int k, Activation f, float slope) noexcept {
  const std::size_t wn = static_cast<std::size_t>(cout * cin * k * k);
  if (s.int8) {
    // One output channel at a time, its weights dequantized into a buffer on the stack.
    const std::ptrdiff_t depth = cin * k * k;
    const std::size_t mark = s.top;
    const StaticBuf wbuf{nullptr, s.push(depth)};
    if (s.running()) {
      const ConvGeometry g = conv2d_geometry(Shape{1, cin, h, w}, Shape{1, cin, k, k}, 1, Padding::same);
      float* out = y.ptr(s);
      float* wo = wbuf.ptr(s);
      for (std::ptrdiff_t o = 0; o < cout; ++o) {
        const std::int8_t* qo = s.q + s.q_pos + static_cast<std::size_t>(o * depth);
        const float scale = s.scales[s.channel_pos + static_cast<std::size_t>(o)];
        for (std::ptrdiff_t t = 0; t < depth; ++t) wo[t] = scale * float(qo[t]);
        conv2d_forward_direct(g, 1, x.ptr(s), wo, s.biases + s.channel_pos + o, out + o * h * w);
      }
      activation_forward(f, cout * h * w, out, out, slope);
    }
    s.top = mark;
  } else if (s.running()) {
    const ConvGeometry g = conv2d_geometry(Shape{1, cin, h, w}, Shape{cout, cin, k, k}, 1, Padding::same);
    const float* wt = s.weights + s.weight_pos;
    float* out = y.ptr(s);
    conv2d_forward_direct(g, 1, x.ptr(s), wt, wt + wn, out);
    activation_forward(f, cout * h * w, out, out, slope);
  }
  s.weight_pos += wn + static_cast<std::size_t>(cout);
  s.q_pos += wn;
  s.channel_pos += static_cast<std::size_t>(cout);
}

/// n ≥ 1 conv blocks from x (cin channels) to y (cout), the intermediate results on the stack.
constexpr void static_chain(StaticWalk& s, StaticBuf x, std::ptrdiff_t cin, std::ptrdiff_t h, std::ptrdiff_t w,
                            StaticBuf y, std::ptrdiff_t cout, int n, int k, Activation f, float slope) noexcept {
  const std::size_t mark = s.top;
  StaticBuf tmp[2];
  for (int i = 0; i < n - 1 && i < 2; ++i) tmp[i] = StaticBuf{nullptr, s.push(cout * h * w)};
  StaticBuf in = x;
  std::ptrdiff_t c = cin;
  for (int i = 0; i < n; ++i) {
    const StaticBuf out = i == n - 1 ? y : tmp[i % 2];
    static_conv(s, in, c, h, w, out, cout, k, f, slope);
    in = out, c = cout;
  }
  s.top = mark;
}

template <UNetConfig C, int L>
constexpr void static_level(StaticWalk& s, StaticBuf x, std::ptrdiff_t cin, std::ptrdiff_t h, std::ptrdiff_t w,
                            StaticBuf out) noexcept {
  constexpr std::ptrdiff_t width = C.widths[static_cast<std::size_t>(L)];
  if constexpr (L == C.depth) {
    static_chain(s, x, cin, h, w, out, width, C.encoder_convs, C.kernel, C.encoder_act, C.leaky_slope);
  } else {
    constexpr std::ptrdiff_t next = C.widths[static_cast<std::size_t>(L + 1)];
    const std::ptrdiff_t plane = h * w;
    const std::size_t mark = s.top;
    // The merge: [encoder output | inner output] with skips, the inner output alone without.
    const StaticBuf merge = C.skips || C.decoder_convs > 0 ? StaticBuf{nullptr, s.push((C.skips ? 2 : 1) * width * plane)} : out;
    const std::size_t after_merge = s.top;
    const StaticBuf enc = C.skips ? merge : StaticBuf{nullptr, s.push(width * plane)};
    const StaticBuf inner = C.skips ? merge.plus(width * plane) : merge;
    static_chain(s, x, cin, h, w, enc, width, C.encoder_convs, C.kernel, C.encoder_act, C.leaky_slope);
    const StaticBuf pooled{nullptr, s.push(width * plane / 4)};
    if (s.running()) max_pool2x2_forward(Shape{1, width, h, w}, enc.ptr(s), pooled.ptr(s), static_cast<std::uint8_t*>(nullptr));
    const StaticBuf below{nullptr, s.push(next * plane / 4)};
    static_level<C, L + 1>(s, pooled, width, h / 2, w / 2, below);
    const StaticBuf up{nullptr, s.push(next * plane)};
    if (s.running()) upsample_nearest_forward(Shape{1, next, h / 2, w / 2}, 2, below.ptr(s), up.ptr(s));
    static_conv(s, up, next, h, w, inner, width, C.kernel, C.decoder_act, C.leaky_slope);
    s.top = after_merge;
    if constexpr (C.decoder_convs > 0)
      static_chain(s, merge, (C.skips ? 2 : 1) * width, h, w, out, width, C.decoder_convs, C.kernel, C.decoder_act,
                   C.leaky_slope);
    s.top = mark;
  }
}

/// The whole network's walk (see StaticUNet): plans, or runs on x → y when s has an arena.
template <UNetConfig C, int R, std::ptrdiff_t H, std::ptrdiff_t W>
constexpr void static_unet_walk(StaticWalk& s, float* x, float* y) noexcept {
  constexpr std::ptrdiff_t net_h = C.resolution == Resolution::input_upsample ? H * R : H;
  constexpr std::ptrdiff_t net_w = C.resolution == Resolution::input_upsample ? W * R : W;
  constexpr std::ptrdiff_t out_floats = C.out_channels * (C.resolution == Resolution::same ? H * W : H * R * W * R);
  StaticBuf in{x, 0};
  if constexpr (C.resolution == Resolution::input_upsample) {
    const StaticBuf up{nullptr, s.push(C.in_channels * net_h * net_w)};
    if (s.running()) upsample_nearest_forward(Shape{1, C.in_channels, H, W}, R, x, up.ptr(s));
    in = up;
  }
  constexpr std::ptrdiff_t w0 = C.widths[0];
  const StaticBuf level0{nullptr, s.push(w0 * net_h * net_w)};
  static_level<C, 0>(s, in, C.in_channels, net_h, net_w, level0);
  if constexpr (C.resolution == Resolution::shuffle_head) {
    constexpr std::ptrdiff_t head_c = std::ptrdiff_t(C.out_channels) * R * R;
    const StaticBuf head{nullptr, s.push(head_c * H * W)};
    static_conv(s, level0, w0, H, W, head, head_c, C.kernel, Activation::identity, 0.0f);
    if (s.running()) pixel_shuffle_forward(Shape{1, head_c, H, W}, R, head.ptr(s), y);
  } else {
    static_conv(s, level0, w0, net_h, net_w, StaticBuf{y, 0}, C.out_channels, 1, Activation::identity, 0.0f);
  }
  if (s.running()) activation_forward(C.output_act, out_floats, y, y, C.leaky_slope);
  }

/// The plan alone (no arena): offsets, peak, weight counts, for float or int8 weights.
template <UNetConfig C, int R, std::ptrdiff_t H, std::ptrdiff_t W>
constexpr StaticWalk static_unet_plan(bool int8) noexcept {
  StaticWalk s;
  s.int8 = int8;
  static_unet_walk<C, R, H, W>(s, nullptr, nullptr);
  return s;
}

}  // namespace detail

/// UNet<C>(R) in inference on one H × W input (camera pixels), planned at compile time (see the
/// header).
template <UNetConfig C, int R, std::ptrdiff_t H, std::ptrdiff_t W>
class StaticUNet {
  static_assert(detail::check_unet_config<C>());
  static_assert(C.down == Downsample::max_pool, "StaticUNet: only Downsample::max_pool is supported");
  static_assert(C.up == Upsample::resize_conv, "StaticUNet: only Upsample::resize_conv is supported");
  static_assert(C.norm != Norm::instance, "StaticUNet: instance norm has no inference-time folding");
  static_assert(R >= 1 && (C.resolution != Resolution::same || R == 1), "StaticUNet: R must be >= 1 (1 for Resolution::same)");
  static constexpr std::ptrdiff_t net_h = C.resolution == Resolution::input_upsample ? H * R : H;
  static constexpr std::ptrdiff_t net_w = C.resolution == Resolution::input_upsample ? W * R : W;
  static_assert(H > 0 && W > 0 && net_h % (std::ptrdiff_t(1) << C.depth) == 0 && net_w % (std::ptrdiff_t(1) << C.depth) == 0,
                "StaticUNet: H and W (times R with input_upsample) must be multiples of 2^depth");

 public:
  static constexpr UNetConfig config = C;
  static constexpr int upsample = R;
  static constexpr std::ptrdiff_t in_h = H, in_w = W;
  static constexpr std::ptrdiff_t out_h = C.resolution == Resolution::same ? H : H * R;
  static constexpr std::ptrdiff_t out_w = C.resolution == Resolution::same ? W : W * R;
  static constexpr std::size_t input_floats = static_cast<std::size_t>(C.in_channels * H * W);
  static constexpr std::size_t output_floats = static_cast<std::size_t>(C.out_channels * out_h * out_w);

  /// Floats of the folded weight array (weights and biases of every convolution).
  static constexpr std::size_t weight_count = detail::static_unet_plan<C, R, H, W>(false).weight_pos;
  /// Floats of the activation arena forward() needs (the peak of the plan).
  static constexpr std::size_t arena_floats = detail::static_unet_plan<C, R, H, W>(false).peak;
  static constexpr std::size_t arena_bytes = arena_floats * sizeof(float);
  /// int8 storage (quantize_weights_int8): int8_count weights, channel_count scales and biases.
  static constexpr std::size_t int8_count = detail::static_unet_plan<C, R, H, W>(true).q_pos;
  static constexpr std::size_t channel_count = detail::static_unet_plan<C, R, H, W>(true).channel_pos;
  /// The arena of forward_int8 (arena_floats plus one dequantized output channel's weights).
  static constexpr std::size_t arena_floats_int8 = detail::static_unet_plan<C, R, H, W>(true).peak;

  /// y[output_floats] = network(x[input_floats]); weights: weight_count folded values; arena:
  /// arena_floats floats, 64-byte aligned for aligned buffers. x and y may not overlap the arena.
  static void forward(const float* weights, const float* x, float* arena, float* y) noexcept {
    detail::StaticWalk s{arena, weights};
    detail::static_unet_walk<C, R, H, W>(s, const_cast<float*>(x), y);
  }
  /// forward() on int8 weights with per-output-channel scales (quantize_weights_int8); the
  /// arena holds arena_floats_int8 floats.
  static void forward_int8(const std::int8_t* q, const float* scales, const float* biases, const float* x,
                           float* arena, float* y) noexcept {
    detail::StaticWalk s;
    s.arena = arena, s.q = q, s.scales = scales, s.biases = biases, s.int8 = true;
    detail::static_unet_walk<C, R, H, W>(s, const_cast<float*>(x), y);
  }
};

namespace detail {
/// Appends the folded convolutions of `layer` (forward order) at out[pos...]; counts only when
/// out is null. Each convolution's (out_c, in_c·k·k) goes to shapes when it is not null.
template <class L>
void fold_static(L& layer, float* out, std::size_t& pos, std::vector<std::array<std::ptrdiff_t, 2>>* shapes) {
  if constexpr (requires { layer.fold(out, out); }) {
    const Shape ws = layer.conv.weight.shape();
    if (out) layer.fold(out + pos, out + pos + ws.size());
    if (shapes) shapes->push_back({ws.n, ws.c * ws.h * ws.w});
    pos += static_cast<std::size_t>(ws.size() + ws.n);
  } else if constexpr (requires { layer.weight; layer.bias; layer.options; }) {
    const Shape ws = layer.weight.shape();
    if (out) {
      for (std::ptrdiff_t i = 0; i < ws.size(); ++i) out[pos + static_cast<std::size_t>(i)] = float(layer.weight.value[i]);
      for (std::ptrdiff_t o = 0; o < ws.n; ++o)
        out[pos + static_cast<std::size_t>(ws.size() + o)] = layer.bias.value.empty() ? 0.0f : float(layer.bias.value[o]);
    }
    if (shapes) shapes->push_back({ws.n, ws.c * ws.h * ws.w});
    pos += static_cast<std::size_t>(ws.size() + ws.n);
  } else if constexpr (requires { layer.conv; layer.norm; }) {
    fold_static(layer.conv, out, pos, shapes);
  } else if constexpr (requires { layer.layers; }) {
    std::apply([&](auto&... l) { (fold_static(l, out, pos, shapes), ...); }, layer.layers);
  } else if constexpr (requires { layer.inner; }) {
    fold_static(layer.inner, out, pos, shapes);
  }
}
}  // namespace detail

/// The folded weights StaticUNet<C, R, ·, ·> runs on, from a trained network (R = its
/// upsample()): writes them to out (when not null) and returns how many there are.
template <class Net>
std::size_t fold_weights(const Net& net, float* out) {
  std::size_t pos = 0;
  detail::fold_static(net.layers(), out, pos, nullptr);
  return pos;
}

/// The weights of StaticUNet::forward_int8 from a trained network: its folded convolutions
/// quantized per output channel o — scale_o = max|w_o| / 127, q = round(w / scale_o) in
/// [−127, 127], symmetric without zero point (Jacob et al., CVPR 2018, per-channel as in
/// Krishnamoorthi 2018) — with float biases. q holds StaticUNet::int8_count values, scales and
/// biases channel_count each.
template <class Net>
void quantize_weights_int8(const Net& net, std::vector<std::int8_t>& q, std::vector<float>& scales, std::vector<float>& biases) {
  std::vector<float> folded(fold_weights(net, nullptr));
  std::vector<std::array<std::ptrdiff_t, 2>> shapes;
  std::size_t pos = 0;
  detail::fold_static(net.layers(), folded.data(), pos, &shapes);
  q.clear(), scales.clear(), biases.clear();
  pos = 0;
  for (const auto& [out_c, depth] : shapes) {
    const float* wt = folded.data() + pos;
    for (std::ptrdiff_t o = 0; o < out_c; ++o) {
      float m = 0;
      for (std::ptrdiff_t t = 0; t < depth; ++t) m = std::max(m, std::abs(wt[o * depth + t]));
      const float scale = m / 127.0f;
      scales.push_back(scale);
      for (std::ptrdiff_t t = 0; t < depth; ++t)
        q.push_back(scale > 0 ? static_cast<std::int8_t>(std::clamp(std::lround(wt[o * depth + t] / scale), -127L, 127L))
                              : std::int8_t(0));
    }
    for (std::ptrdiff_t o = 0; o < out_c; ++o) biases.push_back(wt[out_c * depth + o]);
    pos += static_cast<std::size_t>(out_c * depth + out_c);
  }
}

}  // namespace smlm::nn
