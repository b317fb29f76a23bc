// The conditional PatchGAN discriminator of pix2pix (Isola et al., CVPR 2017) that cellSTORM
// trains its generator against (Diederich et al., PLoS ONE 14 (2019) e0209827).
//
// Input: the condition (the camera frame enlarged to the output grid) and an output map — the
// generator's or the blurred target — concatenated as channels, N × 2 × H × W with H and W
// multiples of 8. Output: N × 1 × H/8 × W/8 logits, each saying whether the 70 × 70 patch it
// sees looks like a target (> 0) or like the generator's output (< 0):
//
//   conv 4×4 stride 2 → w      + bias, LeakyReLU(0.2)       (no normalization on the first layer)
//   conv 4×4 stride 2 → 2w     batch norm, LeakyReLU(0.2)
//   conv 4×4 stride 2 → 4w     batch norm, LeakyReLU(0.2)
//   conv 4×4 stride 1 → 8w     batch norm, LeakyReLU(0.2)
//   conv 4×4 stride 1 → 1      + bias (logits)
//
// 'same' padding throughout (pix2pix pads by 1, which shrinks the two stride-1 layers' outputs by
// one pixel each; the receptive field is the same). Receptive field: 1 + 3·(1 + 2 + 4 + 8 + 8) =
// 70 input pixels (receptive_field; the test measures it from the input gradient of one logit).
// w = 32 by default, cellSTORM's and this choice (pix2pix uses 64): 0.69 M parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include <smlm/nn/layer.hpp>

namespace smlm::nn {

template <class T = float>
class PatchGan {
  using First = Sequential<Conv2d<T>, Act<T>>;
  using Body = Sequential<First, ConvBnAct<T>, ConvBnAct<T>, ConvBnAct<T>, Conv2d<T>>;

 public:
  using scalar = T;
  static constexpr int receptive_field = 70;
  static constexpr std::ptrdiff_t size_multiple = 8;  ///< input height and width must be multiples of this

  explicit PatchGan(std::ptrdiff_t in_channels = 2, std::ptrdiff_t width = 32) : body_(make(in_channels, width)) {}

  Var<T> forward(Tape<T>& tape, const Var<T>& x) SMLM_NOEXCEPT {
    SMLM_ASSERT(x.shape().h % size_multiple == 0 && x.shape().w % size_multiple == 0,
                "PatchGan: input height and width must be multiples of 8");
    return body_.forward(tape, x);
  }
  template <class F>
  void for_each_parameter(F&& f) { body_.for_each_parameter(f); }
  template <class F>
  void for_each_buffer(F&& f) { body_.for_each_buffer(f); }
  void init(std::uint64_t seed, std::uint32_t& stream) { body_.init(seed, stream); }
  void init(std::uint64_t seed) {
    std::uint32_t stream = 0;
    init(seed, stream);
  }
  /// Output shape (logits) for an input of shape `in`.
  static Shape output_shape(Shape in) noexcept { return {in.n, 1, in.h / 8, in.w / 8}; }
  std::ptrdiff_t parameter_count() {
    std::ptrdiff_t n = 0;
    for_each_parameter([&](Parameter<T>& p) { n += p.value.size(); });
    return n;
  }

 private:
  static ConvBnAct<T> block(std::ptrdiff_t in, std::ptrdiff_t out, std::ptrdiff_t stride) {
    return ConvBnAct<T>{Conv2d<T>(in, out, 4, Conv2dOptions{stride, Padding::same}), BatchNorm2d<T>(out),
                        Act<T>{Activation::leaky_relu, T(0.2)}};
  }
  static Body make(std::ptrdiff_t in, std::ptrdiff_t w) {
    First first(Conv2d<T>(in, w, 4, Conv2dOptions{2, Padding::same}, /*with_bias=*/true),
                Act<T>{Activation::leaky_relu, T(0.2)});
    return Body(std::move(first), block(w, 2 * w, 2), block(2 * w, 4 * w, 2), block(4 * w, 8 * w, 1),
                Conv2d<T>(8 * w, 1, 4, Conv2dOptions{1, Padding::same}, /*with_bias=*/true));
  }

  Body body_;
};

}  // namespace smlm::nn
