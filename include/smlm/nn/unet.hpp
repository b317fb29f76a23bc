// The U-Net family (Ronneberger et al., MICCAI 2015) generated at compile time from a
// configuration value, and the presets smlmkit trains: Deep-STORM's encoder–decoder (Nehme et
// al., Optica 5 (2018) 458) and a sub-pixel network (Shi et al., CVPR 2016; Yee et al.'s
// sub-pixel localization head), and cellSTORM's pix2pix-style generator (Diederich et al. 2019).
//
// Shape of a network of depth D with widths w[0..D] (channels per level; level D is the
// bottleneck):
//
//   input ─► [nearest ×r]ᵃ ─► level 0 ─► head ─► output activation
//   level L < D:  encoder convs (→ w[L]) ─► merge ─► decoder convs (→ w[L]) ─► [dropout]ᵇ
//     merge = skips ? concat(x, inner(x)) : inner(x)        (the skip is tied to its level
//     inner = down ─► level L+1 ─► up (w[L+1] → w[L], ×2)   by construction: SkipConcat)
//   level D:      encoder convs (→ w[D])
//   head = 1×1 conv (w[0] → out), or, with Resolution::shuffle_head, a k×k conv
//          (w[0] → out·r²) followed by pixel shuffle ×r (sub-pixel convolution)
//   ᵃ Resolution::input_upsample only (Deep-STORM feeds the network a camera frame enlarged ×r);
//   ᵇ when dropout > 0 (pix2pix's decoder).
// A "conv" block is k×k conv ('same' padding) → normalization → activation; convolutions carry
// a bias only when there is no normalization after them (and in the head). Down-sampling is 2×2
// max pooling or a stride-2 conv block; up-sampling is nearest ×2 + conv block (resize-
// convolution: no checkerboard artefacts, the fix cellSTORM adopted from Odena et al. 2016), a
// 2×2 stride-2 transposed convolution + norm + activation, or a conv to 4·w channels + pixel
// shuffle ×2 + norm + activation. The encoder and decoder have their own activation
// (pix2pix: LeakyReLU(0.2) down, ReLU up).
//
// The configuration is a value of the structural type UNetConfig used as a template argument:
// `UNet<unet_presets::deep_storm>` is one type whose forward is inlined end to end. Only the
// up-sampling factor r of the input/head is chosen at run time (it changes channel counts, not
// types). A configuration that cannot work is a compile error naming the field.
//
// Inputs at network resolution (after the input up-sampling) must have sizes divisible by 2^D
// (size_multiple()); inference on frames of any size pads and tiles (see reconstruct.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <smlm/nn/layer.hpp>

namespace smlm::nn {

enum class Downsample : std::uint8_t { max_pool, strided_conv };
enum class Upsample : std::uint8_t { resize_conv, transposed_conv, pixel_shuffle };
enum class Norm : std::uint8_t { batch, instance, none };
/// Where the network changes resolution by the run-time factor r.
enum class Resolution : std::uint8_t {
  same,            ///< output at input resolution (r = 1)
  input_upsample,  ///< nearest ×r before the first convolution (Deep-STORM)
  shuffle_head     ///< convolutions at input resolution, pixel shuffle ×r in the head (sub-pixel)
};

inline constexpr int unet_max_depth = 6;

/// Compile-time description of a U-Net (see the header). A structural type: usable as a
/// template argument.
struct UNetConfig {
  int depth = 3;                                   ///< down-sampling steps, 1..unet_max_depth
  std::array<int, unet_max_depth + 1> widths{};    ///< channels of levels 0..depth (all > 0)
  bool skips = true;                               ///< concatenate each level's input with its decoded inner part
  Downsample down = Downsample::max_pool;
  Upsample up = Upsample::resize_conv;
  Norm norm = Norm::batch;
  Activation encoder_act = Activation::relu;
  Activation decoder_act = Activation::relu;
  float leaky_slope = 0.2f;                        ///< negative slope of LeakyReLU
  int encoder_convs = 1;                           ///< conv blocks per encoder level and in the bottleneck, ≥ 1
  int decoder_convs = 1;                           ///< conv blocks after each merge, ≥ 0 (≥ 1 with skips)
  float dropout = 0;                               ///< decoder dropout probability, [0, 1)
  Activation output_act = Activation::identity;
  Resolution resolution = Resolution::same;
  int in_channels = 1;
  int out_channels = 1;
  int kernel = 3;                                  ///< odd
  friend constexpr bool operator==(const UNetConfig&, const UNetConfig&) = default;
};

namespace unet_presets {
/// Nehme et al. 2018: 3×3 convolutions without bias, batch norm, ReLU; 32-64-128-512 with 2×2
/// max pooling, then nearest ×2 + conv 128, 64, 32, and a 1×1 linear output; no skips. The
/// camera frame is enlarged ×r (8 in the paper) before the first convolution.
inline constexpr UNetConfig deep_storm{.depth = 3,
                                       .widths = {32, 64, 128, 512},
                                       .skips = false,
                                       .down = Downsample::max_pool,
                                       .up = Upsample::resize_conv,
                                       .norm = Norm::batch,
                                       .encoder_act = Activation::relu,
                                       .decoder_act = Activation::relu,
                                       .encoder_convs = 1,
                                       .decoder_convs = 0,
                                       .output_act = Activation::identity,
                                       .resolution = Resolution::input_upsample};
/// Convolutions at camera resolution (a two-level U-Net with skips, two conv blocks per level)
/// and a sub-pixel head: 3×3 conv to r² channels, pixel shuffle ×r. The CPU default: the
/// arithmetic per frame is r²-fold smaller than convolving the enlarged frame.
inline constexpr UNetConfig sub_pixel{.depth = 2,
                                      .widths = {32, 64, 128},
                                      .skips = true,
                                      .down = Downsample::max_pool,
                                      .up = Upsample::resize_conv,
                                      .norm = Norm::batch,
                                      .encoder_act = Activation::relu,
                                      .decoder_act = Activation::relu,
                                      .encoder_convs = 2,
                                      .decoder_convs = 1,
                                      .output_act = Activation::identity,
                                      .resolution = Resolution::shuffle_head};
/// cellSTORM's generator (Diederich et al., PLoS ONE 14 (2019) e0209827), a pix2pix U-Net
/// (Isola et al., CVPR 2017) cut to what trains in 30 minutes on 2 cores: skips, 32 first-layer
/// filters, stride-2 conv down-sampling with LeakyReLU(0.2), nearest ×2 + conv up-sampling with
/// ReLU (the resize-convolution cellSTORM chose against checkerboard artefacts), batch norm, tanh
/// output; the camera frame enlarged ×r first (r = 4 in cellSTORM). pix2pix goes 8 levels deep to
/// 512 channels (54 M parameters) for 256² images; three levels of 32-64-128 and a 128-channel
/// bottleneck have 1.06 M parameters, and each output pixel sees 69 × 69 enlarged pixels (17
/// camera pixels at r = 4; measured in tests/nn/patchgan_test.cpp), wider than a phone PSF's
/// ±3σ. Most of the arithmetic is at level 0 anyway (the full-resolution decoder).
inline constexpr UNetConfig cell_storm{.depth = 3,
                                       .widths = {32, 64, 128, 128},
                                       .skips = true,
                                       .down = Downsample::strided_conv,
                                       .up = Upsample::resize_conv,
                                       .norm = Norm::batch,
                                       .encoder_act = Activation::leaky_relu,
                                       .decoder_act = Activation::relu,
                                       .leaky_slope = 0.2f,
                                       .encoder_convs = 1,
                                       .decoder_convs = 1,
                                       .output_act = Activation::tanh,
                                       .resolution = Resolution::input_upsample};
/// cell_storm's layers at camera resolution with a sub-pixel head (a k×k conv to r² channels,
/// pixel shuffle ×r, then tanh): r² = 16 times less arithmetic per frame than enlarging the frame
/// first, for the frame rates a phone's video needs on a CPU (see docs/cellstorm.md).
inline constexpr UNetConfig cell_storm_shuffle = [] {
  UNetConfig c = cell_storm;
  c.resolution = Resolution::shuffle_head;
  return c;
}();
}  // namespace unet_presets

// --- building blocks ---------------------------------------------------------------------------

template <class T, Norm N>
using NormLayer = std::conditional_t<N == Norm::batch, BatchNorm2d<T>,
                                     std::conditional_t<N == Norm::instance, InstanceNorm2d<T>, Identity<T>>>;

/// conv → normalization → activation for instance norm or none (batch norm uses ConvBnAct, which
/// folds the normalization into the convolution in inference).
template <class T, Norm N>
struct ConvNormAct {
  using scalar = T;
  Conv2d<T> conv;
  NormLayer<T, N> norm;
  Act<T> act;
  Var<T> forward(Tape<T>& tape, const Var<T>& x) { return act.forward(tape, norm.forward(tape, conv.forward(tape, x))); }
  template <class F>
  void for_each_parameter(F&& f) {
    conv.for_each_parameter(f);
    norm.for_each_parameter(f);
  }
  void init(std::uint64_t seed, std::uint32_t& stream) { conv.init(seed, stream); }
};

template <class T, Norm N>
using ConvBlock = std::conditional_t<N == Norm::batch, ConvBnAct<T>, ConvNormAct<T, N>>;

namespace detail {

template <class T, Norm N>
NormLayer<T, N> make_norm(std::ptrdiff_t channels) {
  if constexpr (N == Norm::none) {
    return Identity<T>{};
  } else {
    return NormLayer<T, N>(channels);
  }
}

template <class T, Norm N>
ConvBlock<T, N> make_block(std::ptrdiff_t in, std::ptrdiff_t out, int k, std::ptrdiff_t stride, Activation f,
                           float slope) {
  Conv2d<T> conv(in, out, k, Conv2dOptions{stride, Padding::same}, /*with_bias=*/N == Norm::none);
  return ConvBlock<T, N>{std::move(conv), make_norm<T, N>(out), Act<T>{f, T(slope)}};
}

template <class B, std::size_t>
using Same = B;

/// n copies of a block type in a Sequential (Identity for n = 0).
template <class B, class Seq>
struct RepeatImpl;
template <class B>
struct RepeatImpl<B, std::index_sequence<>> {
  using type = Identity<typename B::scalar>;
};
template <class B, std::size_t... I>
  requires(sizeof...(I) > 0)
struct RepeatImpl<B, std::index_sequence<I...>> {
  using type = Sequential<Same<B, I>...>;
};
template <class B, int N>
using Repeat = typename RepeatImpl<B, std::make_index_sequence<static_cast<std::size_t>(N)>>::type;

template <UNetConfig C, class T, std::size_t... I>
auto make_repeat(std::index_sequence<I...>, std::ptrdiff_t in, std::ptrdiff_t out, Activation f, std::ptrdiff_t stride = 1) {
  if constexpr (sizeof...(I) == 0) {
    return Identity<T>{};
  } else {
    return Sequential<Same<ConvBlock<T, C.norm>, I>...>(
        make_block<T, C.norm>(I == 0 ? in : out, out, C.kernel, I == 0 ? stride : 1, f, C.leaky_slope)...);
  }
}

// Down-sampling from level L to L + 1 (keeps the channel count).
template <UNetConfig C, class T>
using Down = std::conditional_t<C.down == Downsample::max_pool, MaxPool2<T>, ConvBlock<T, C.norm>>;
template <UNetConfig C, class T>
Down<C, T> make_down(std::ptrdiff_t channels) {
  if constexpr (C.down == Downsample::max_pool) {
    return MaxPool2<T>{};
  } else {
    return make_block<T, C.norm>(channels, channels, C.kernel, 2, C.encoder_act, C.leaky_slope);
  }
}

// Up-sampling ×2 from `in` to `out` channels.
template <UNetConfig C, class T>
using Up = std::conditional_t<
    C.up == Upsample::resize_conv, Sequential<UpsampleNearest<T>, ConvBlock<T, C.norm>>,
    std::conditional_t<C.up == Upsample::transposed_conv, Sequential<ConvTranspose2d<T>, NormLayer<T, C.norm>, Act<T>>,
                       Sequential<Conv2d<T>, PixelShuffle<T>, NormLayer<T, C.norm>, Act<T>>>>;
template <UNetConfig C, class T>
Up<C, T> make_up(std::ptrdiff_t in, std::ptrdiff_t out) {
  const Act<T> act{C.decoder_act, T(C.leaky_slope)};
  constexpr bool bias = C.norm == Norm::none;
  if constexpr (C.up == Upsample::resize_conv) {
    return Up<C, T>(UpsampleNearest<T>{2}, make_block<T, C.norm>(in, out, C.kernel, 1, C.decoder_act, C.leaky_slope));
  } else if constexpr (C.up == Upsample::transposed_conv) {
    return Up<C, T>(ConvTranspose2d<T>(in, out, 2, ConvTranspose2dOptions{2, 0, 0}, bias), make_norm<T, C.norm>(out), act);
  } else {
    return Up<C, T>(Conv2d<T>(in, 4 * out, C.kernel, Conv2dOptions{}, bias), PixelShuffle<T>{2}, make_norm<T, C.norm>(out), act);
  }
}

template <UNetConfig C, class T>
using Drop = std::conditional_t<(C.dropout > 0), Dropout<T>, Identity<T>>;

template <UNetConfig C, class T, int L>
struct Level;

template <UNetConfig C, class T, int L>
  requires(L == C.depth)
struct Level<C, T, L> {
  using type = Repeat<ConvBlock<T, C.norm>, C.encoder_convs>;
  static type make(std::ptrdiff_t in) {
    return make_repeat<C, T>(std::make_index_sequence<static_cast<std::size_t>(C.encoder_convs)>{}, in,
                             C.widths[static_cast<std::size_t>(L)], C.encoder_act);
  }
};

template <UNetConfig C, class T, int L>
  requires(L < C.depth)
struct Level<C, T, L> {
  using Next = Level<C, T, L + 1>;
  using Inner = Sequential<Down<C, T>, typename Next::type, Up<C, T>>;
  using Merge = std::conditional_t<C.skips, SkipConcat<Inner>, Inner>;
  using type = Sequential<Repeat<ConvBlock<T, C.norm>, C.encoder_convs>, Merge,
                          Repeat<ConvBlock<T, C.norm>, C.decoder_convs>, Drop<C, T>>;
  static constexpr std::ptrdiff_t width = C.widths[static_cast<std::size_t>(L)];
  static constexpr std::ptrdiff_t next_width = C.widths[static_cast<std::size_t>(L + 1)];

  static type make(std::ptrdiff_t in) {
    Inner inner(make_down<C, T>(width), Next::make(width), make_up<C, T>(next_width, width));
    Merge merge = [&] {
      if constexpr (C.skips) {
        return Merge{std::move(inner)};
      } else {
        return inner;
      }
    }();
    const std::ptrdiff_t merged = C.skips ? 2 * width : width;
    Drop<C, T> drop{};
    if constexpr (C.dropout > 0) drop.p = C.dropout;
    return type(make_repeat<C, T>(std::make_index_sequence<static_cast<std::size_t>(C.encoder_convs)>{}, in, width,
                                  C.encoder_act),
                std::move(merge),
                make_repeat<C, T>(std::make_index_sequence<static_cast<std::size_t>(C.decoder_convs)>{}, merged, width,
                                  C.decoder_act),
                std::move(drop));
  }
};

/// Checks a configuration; each failed condition is a static_assert naming the field.
template <UNetConfig C>
consteval bool check_unet_config() {
  static_assert(C.depth >= 1 && C.depth <= unet_max_depth, "UNetConfig: depth must be in 1..6");
  static_assert(
      [] {
        for (int l = 0; l <= C.depth && l <= unet_max_depth; ++l)
          if (C.widths[static_cast<std::size_t>(l)] < 1) return false;
        return true;
      }(),
      "UNetConfig: widths[0..depth] must all be >= 1 (one channel count per level, the bottleneck included)");
  static_assert(C.encoder_convs >= 1, "UNetConfig: encoder_convs must be >= 1");
  static_assert(C.decoder_convs >= 0, "UNetConfig: decoder_convs must be >= 0");
  static_assert(!C.skips || C.decoder_convs >= 1,
                "UNetConfig: with skips, decoder_convs must be >= 1 (a conv block merges the concatenated channels)");
  static_assert(C.kernel >= 1 && C.kernel % 2 == 1, "UNetConfig: kernel must be odd and >= 1");
  static_assert(C.dropout >= 0 && C.dropout < 1, "UNetConfig: dropout must be in [0, 1)");
  static_assert(C.in_channels >= 1 && C.out_channels >= 1, "UNetConfig: in_channels and out_channels must be >= 1");
  static_assert(C.leaky_slope >= 0, "UNetConfig: leaky_slope must be >= 0");
  return true;
}

}  // namespace detail

/// The network of configuration C (see the header). `upsample` is r of Resolution::input_upsample
/// and Resolution::shuffle_head (1 for Resolution::same).
template <UNetConfig C, class T = float>
class UNet {
  static_assert(detail::check_unet_config<C>());
  using Input = std::conditional_t<C.resolution == Resolution::input_upsample, UpsampleNearest<T>, Identity<T>>;
  using Head = std::conditional_t<C.resolution == Resolution::shuffle_head, Sequential<Conv2d<T>, PixelShuffle<T>>, Conv2d<T>>;
  using Output = std::conditional_t<C.output_act == Activation::identity, Identity<T>, Act<T>>;
  using Body = Sequential<Input, typename detail::Level<C, T, 0>::type, Head, Output>;

 public:
  using scalar = T;
  static constexpr UNetConfig config = C;

  explicit UNet(int upsample = 1) SMLM_NOEXCEPT : upsample_(upsample), body_(make_body(upsample)) {}

  Var<T> forward(Tape<T>& tape, const Var<T>& x) SMLM_NOEXCEPT {
    SMLM_ASSERT(x.shape().c == C.in_channels, "UNet: the input has another channel count than the configuration");
    SMLM_ASSERT(accepts(x.shape().h, x.shape().w), "UNet: input height and width must be multiples of size_multiple()");
    return body_.forward(tape, x);
  }
  template <class F>
  void for_each_parameter(F&& f) { body_.for_each_parameter(f); }
  template <class F>
  void for_each_buffer(F&& f) { body_.for_each_buffer(f); }
  /// He-normal convolutions from (seed, stream, stream + 1, …); dropout masks from seed.
  void init(std::uint64_t seed, std::uint32_t& stream) {
    body_.init(seed, stream);
    if constexpr (C.dropout > 0) {
      std::uint64_t k = 0;
      for_each_dropout(body_, [&](Dropout<T>& d) { d.seed = seed ^ (0x9E3779B97F4A7C15ull * ++k); });
    }
  }
  void init(std::uint64_t seed) {
    std::uint32_t stream = 0;
    init(seed, stream);
  }

  int upsample() const noexcept { return upsample_; }
  /// The layers, read-only: input up-sampling, level 0 (which holds the deeper levels), head and
  /// output activation as one Sequential. For backends that compile the network (compute/,
  /// static_unet.hpp's fold_weights).
  const auto& layers() const noexcept { return body_; }
  /// Input sizes (camera pixels) must be multiples of this.
  static constexpr std::ptrdiff_t size_multiple(int upsample) noexcept {
    const std::ptrdiff_t m = std::ptrdiff_t(1) << C.depth;
    if constexpr (C.resolution == Resolution::input_upsample) {
      std::ptrdiff_t k = 1;  // smallest k with k·upsample divisible by m
      while ((k * upsample) % m != 0) ++k;
      return k;
    } else {
      return m;
    }
  }
  bool accepts(std::ptrdiff_t h, std::ptrdiff_t w) const noexcept {
    const std::ptrdiff_t m = size_multiple(upsample_);
    return h > 0 && w > 0 && h % m == 0 && w % m == 0;
  }
  /// Output shape for an input of shape `in`.
  Shape output_shape(Shape in) const noexcept {
    const std::ptrdiff_t r = C.resolution == Resolution::same ? 1 : upsample_;
    return {in.n, C.out_channels, in.h * r, in.w * r};
  }
  /// Number of trainable values (parameters) and of buffer values (running statistics).
  std::ptrdiff_t parameter_count() {
    std::ptrdiff_t n = 0;
    for_each_parameter([&](Parameter<T>& p) { n += p.value.size(); });
    return n;
  }
  std::ptrdiff_t buffer_count() {
    std::ptrdiff_t n = 0;
    for_each_buffer([&](Tensor<T>& b) { n += b.size(); });
    return n;
  }

 private:
  static Body make_body(int r) SMLM_NOEXCEPT {
    SMLM_ASSERT(r >= 1 && (C.resolution != Resolution::same || r == 1), "UNet: upsample must be >= 1 (1 for Resolution::same)");
    const std::ptrdiff_t w0 = C.widths[0];
    Input input{};
    if constexpr (C.resolution == Resolution::input_upsample) input.factor = r;
    Head head = [&] {
      if constexpr (C.resolution == Resolution::shuffle_head) {
        return Head(Conv2d<T>(w0, std::ptrdiff_t(C.out_channels) * r * r, C.kernel, Conv2dOptions{}, true), PixelShuffle<T>{r});
      } else {
        return Conv2d<T>(w0, C.out_channels, 1, Conv2dOptions{}, true);
      }
    }();
    Output out{};
    if constexpr (C.output_act != Activation::identity) out = Act<T>{C.output_act, T(C.leaky_slope)};
    return Body(std::move(input), detail::Level<C, T, 0>::make(C.in_channels), std::move(head), std::move(out));
  }

  template <class L, class F>
  static void for_each_dropout(L& layer, F&& f) {
    if constexpr (std::is_same_v<L, Dropout<T>>) {
      f(layer);
    } else if constexpr (requires { layer.layers; }) {
      std::apply([&](auto&... l) { (for_each_dropout(l, f), ...); }, layer.layers);
    } else if constexpr (requires { layer.inner; }) {
      for_each_dropout(layer.inner, f);
    }
  }

  int upsample_;
  Body body_;
};

using DeepStorm = UNet<unet_presets::deep_storm>;
using SubPixel = UNet<unet_presets::sub_pixel>;
using CellStorm = UNet<unet_presets::cell_storm>;
using CellStormShuffle = UNet<unet_presets::cell_storm_shuffle>;

}  // namespace smlm::nn
