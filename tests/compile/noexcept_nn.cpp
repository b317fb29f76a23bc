// The network inference path (the microcontroller subset): conv, pooling, up-sampling, batch
// norm in inference mode and activations, run with -fno-exceptions -fno-rtti and SMLM_NO_SIMD on
// caller-provided buffers only (no Tensor, no Tape, no heap). Exits 0 when the fast conv agrees
// with its scalar reference and the shapes and values come out as expected.
#include <cmath>
#include <cstdio>
#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/norm.hpp>
#include <smlm/nn/pool.hpp>
#include <smlm/nn/resample.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif
#if defined(__GXX_RTTI)
#error "this translation unit must be built with -fno-rtti"
#endif

namespace nn = smlm::nn;

namespace {
// All storage is static: the caller owns every buffer.
alignas(64) float input[1 * 1 * 16 * 16];
alignas(64) float w1[4 * 1 * 3 * 3];
alignas(64) float w2[1 * 4 * 3 * 3];
alignas(64) float a[4 * 16 * 16];
alignas(64) float a_ref[4 * 16 * 16];
alignas(64) float pooled[4 * 8 * 8];
alignas(64) float up[4 * 16 * 16];
alignas(64) float up_bilinear[4 * 16 * 16];
alignas(64) float out[16 * 16];
alignas(64) float scratch[1 << 16];
float mean[4] = {0.1f, -0.1f, 0.0f, 0.2f}, var[4] = {1.0f, 2.0f, 0.5f, 1.5f};
float bn_gamma[4] = {1.0f, 0.5f, 2.0f, 1.0f}, bn_beta[4] = {0.0f, 0.1f, -0.1f, 0.0f};
}  // namespace

int main() {
  int failures = 0;
  smlm::Philox4x32 rng(3, 0, smlm::rng_purpose::user);
  for (float& v : input) v = smlm::uniform01<float>(rng);
  for (float& v : w1) v = smlm::uniform01<float>(rng) - 0.5f;
  for (float& v : w2) v = smlm::uniform01<float>(rng) - 0.5f;

  const nn::Shape xs{1, 1, 16, 16};
  const auto g1 = nn::conv2d_geometry(xs, {4, 1, 3, 3}, 1, nn::Padding::same);
  failures += !(nn::conv_forward_scratch<float>(g1, 1, 1) <= sizeof(scratch) / sizeof(float));
  nn::conv2d_forward(g1, 1, input, w1, static_cast<const float*>(nullptr), a, scratch);
  nn::conv2d_forward_ref(g1, 1, input, w1, static_cast<const float*>(nullptr), a_ref);
  for (int i = 0; i < 4 * 256; ++i) failures += !(std::fabs(a[i] - a_ref[i]) <= 1e-5f);

  const nn::Shape as{1, 4, 16, 16};
  nn::batch_norm_inference_forward(as, a, bn_gamma, bn_beta, mean, var, 1e-5, a);
  nn::activation_forward(nn::Activation::relu, as.size(), a, a);
  for (float v : a) failures += !(v >= 0.0f);

  nn::max_pool2x2_forward(as, a, pooled, static_cast<std::uint8_t*>(nullptr));
  const nn::Shape ps{1, 4, 8, 8};
  nn::upsample_nearest_forward(ps, 2, pooled, up);
  nn::upsample_bilinear_forward(ps, 2, pooled, up_bilinear);
  failures += !(up[0] == pooled[0] && up[17] == pooled[0]);
  for (int i = 0; i < 4 * 256; ++i) failures += !(up[i] >= 0.0f && up_bilinear[i] >= 0.0f);

  const auto g2 = nn::conv2d_geometry(as, {1, 4, 3, 3}, 1, nn::Padding::same);
  failures += !(nn::conv_forward_scratch<float>(g2, 1, 1) <= sizeof(scratch) / sizeof(float));
  nn::conv2d_forward(g2, 1, up, w2, static_cast<const float*>(nullptr), out, scratch);
  nn::activation_forward(nn::Activation::sigmoid, 256, out, out);
  for (float v : out) failures += !(v > 0.0f && v < 1.0f);

  if (failures) std::fprintf(stderr, "noexcept_nn: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
