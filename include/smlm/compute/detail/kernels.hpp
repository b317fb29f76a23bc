// The OpenCL C 1.2 source of compute/'s inference kernels. Tensors are dense NCHW float32 as in
// nn/ (element (n, c, y, x) at ((n·C + c)·H + y)·W + x); each kernel is the device twin of the
// nn/ op named beside it, whose `_ref` is the definition.
#pragma once

namespace smlm::compute::detail {

inline constexpr int conv_block = 8;  ///< output channels per convolution work item
inline constexpr int conv_strip = 4;  ///< output pixels (of a row) per convolution work item

inline constexpr const char* kernel_source = R"CLC(
// nn::activation_forward; f as nn::Activation: identity, relu, leaky_relu, tanh, sigmoid.
inline float activate(float v, int f, float slope) {
  if (f == 1) return v > 0.0f ? v : 0.0f;
  if (f == 2) return v > 0.0f ? v : slope * v;
  if (f == 3) return tanh(v);
  if (f == 4) return 1.0f / (1.0f + exp(-v));
  return v;
}

// Output channels g·8 … g·8 + 7 (those below cout) of pixel (ox, oy) of sample n: acc + activation.
#define SMLM_CONV_STORE(acc, ox)                                                                 \
  {                                                                                              \
    const size_t plane = (size_t)oh * (size_t)ow, at = (size_t)oy * (size_t)ow + (size_t)(ox);   \
    __global float* yp = y + ((size_t)n * cout + (size_t)g * 8) * plane + at;                    \
    const int left = cout - g * 8;                                                               \
    yp[0] = activate(acc.s0, act, slope);                                                        \
    if (left > 1) yp[plane] = activate(acc.s1, act, slope);                                      \
    if (left > 2) yp[2 * plane] = activate(acc.s2, act, slope);                                  \
    if (left > 3) yp[3 * plane] = activate(acc.s3, act, slope);                                  \
    if (left > 4) yp[4 * plane] = activate(acc.s4, act, slope);                                  \
    if (left > 5) yp[5 * plane] = activate(acc.s5, act, slope);                                  \
    if (left > 6) yp[6 * plane] = activate(acc.s6, act, slope);                                  \
    if (left > 7) yp[7 * plane] = activate(acc.s7, act, slope);                                  \
  }

// nn::conv2d_forward (cross-correlation, zero padding) + bias, then the activation. One work item
// computes 8 output channels of 4 consecutive pixels of a row, so each weight vector loaded
// serves 4 pixels: global size (⌈out_w / 4⌉, out_h, N · ⌈C_out / 8⌉). Weights are packed
// [⌈C_out / 8⌉][C_in][k][k][8], the bias [⌈C_out / 8⌉][8], padded with zeros. Taps are summed in
// (c, ky, kx) order; a tap in the zero padding adds 0. KK is the kernel side (a constant for the
// sizes the presets use, so the compiler unrolls the taps).
#define SMLM_TAP(row, i) ((i) >= 0 && (i) < iw ? (row)[i] : 0.0f)
#define SMLM_CONV_BODY(KK)                                                                       \
  const int ox = get_global_id(0) * 4, oy = get_global_id(1), z = get_global_id(2);              \
  if (ox >= ow || oy >= oh) return;                                                              \
  const int groups = (cout + 7) / 8;                                                             \
  const int n = z / groups, g = z - n * groups;                                                  \
  const float8 b = vload8(g, bias);                                                              \
  float8 a0 = b, a1 = b, a2 = b, a3 = b;                                                         \
  const int iy0 = oy * stride - pad_top, ix0 = ox * stride - pad_left;                           \
  for (int c = 0; c < cin; ++c) {                                                                \
    __global const float* xp = x + ((size_t)n * cin + c) * (size_t)ih * (size_t)iw;              \
    __global const float* wp = w + ((size_t)g * cin + c) * (size_t)((KK) * (KK) * 8);            \
    for (int ky = 0; ky < (KK); ++ky) {                                                          \
      const int iy = iy0 + ky;                                                                   \
      if (iy < 0 || iy >= ih) continue;                                                          \
      __global const float* row = xp + (size_t)iy * (size_t)iw;                                 \
      for (int kx = 0; kx < (KK); ++kx) {                                                        \
        const float8 wv = vload8(ky * (KK) + kx, wp);                                            \
        const int i = ix0 + kx;                                                                  \
        a0 += SMLM_TAP(row, i) * wv;                                                             \
        a1 += SMLM_TAP(row, i + stride) * wv;                                                    \
        a2 += SMLM_TAP(row, i + 2 * stride) * wv;                                                \
        a3 += SMLM_TAP(row, i + 3 * stride) * wv;                                                \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  SMLM_CONV_STORE(a0, ox)                                                                        \
  if (ox + 1 < ow) SMLM_CONV_STORE(a1, ox + 1)                                                   \
  if (ox + 2 < ow) SMLM_CONV_STORE(a2, ox + 2)                                                   \
  if (ox + 3 < ow) SMLM_CONV_STORE(a3, ox + 3)

#define SMLM_CONV_ARGS                                                                             \
  __global const float* x, __global const float* w, __global const float* bias, __global float* y, \
  int cin, int ih, int iw, int cout, int oh, int ow, int stride, int pad_top, int pad_left, int act, float slope

__kernel void conv2d_k1(SMLM_CONV_ARGS) { SMLM_CONV_BODY(1) }
__kernel void conv2d_k3(SMLM_CONV_ARGS) { SMLM_CONV_BODY(3) }
__kernel void conv2d_kn(SMLM_CONV_ARGS, int k) { SMLM_CONV_BODY(k) }

// Batch norm in inference (x·scale[c] + shift[c]) and the activation; global (H·W, C, N).
__kernel void affine_act(__global const float* x, __global const float* scale, __global const float* shift,
                         __global float* y, int channels, int act, float slope) {
  const size_t p = get_global_id(0), plane = get_global_size(0);
  const int c = get_global_id(1), n = get_global_id(2);
  const size_t i = ((size_t)n * channels + c) * plane + p;
  y[i] = activate(x[i] * scale[c] + shift[c], act, slope);
}

// nn::activation_forward over a flat array; global (count).
__kernel void activation(__global const float* x, __global float* y, int act, float slope) {
  const size_t i = get_global_id(0);
  y[i] = activate(x[i], act, slope);
}

// nn::max_pool2x2_forward; global (out_w, out_h, N·C).
__kernel void max_pool2x2(__global const float* x, __global float* y, int ih, int iw, int oh, int ow) {
  const int ox = get_global_id(0), oy = get_global_id(1), p = get_global_id(2);
  __global const float* r0 = x + ((size_t)p * ih + 2 * oy) * iw + 2 * ox;
  __global const float* r1 = r0 + iw;
  float m = r0[0];
  if (r0[1] > m) m = r0[1];
  if (r1[0] > m) m = r1[0];
  if (r1[1] > m) m = r1[1];
  y[((size_t)p * oh + oy) * ow + ox] = m;
}

// nn::upsample_nearest_forward by k; global (out_w, out_h, N·C).
__kernel void upsample_nearest(__global const float* x, __global float* y, int ih, int iw, int k) {
  const int ox = get_global_id(0), oy = get_global_id(1), p = get_global_id(2);
  const size_t oh = (size_t)ih * k, ow = (size_t)iw * k;
  y[((size_t)p * oh + oy) * ow + ox] = x[((size_t)p * ih + oy / k) * iw + ox / k];
}

// nn::pixel_shuffle_forward by r (PyTorch's layout); global (out_w, out_h, N·C_out).
__kernel void pixel_shuffle(__global const float* x, __global float* y, int cout, int ih, int iw, int r) {
  const int ox = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
  const int n = z / cout, c = z - n * cout;
  const int ci = (c * r + oy % r) * r + ox % r;
  const size_t oh = (size_t)ih * r, ow = (size_t)iw * r;
  y[((size_t)z * oh + oy) * ow + ox] = x[(((size_t)n * cout * r * r + ci) * ih + oy / r) * iw + ox / r];
}

// One operand of nn::concat (channels): src's C_src channels into dst's channels
// [offset, offset + C_src) of C_dst; global (H·W, C_src, N).
__kernel void copy_channels(__global const float* src, __global float* dst, int c_src, int c_dst, int offset) {
  const size_t p = get_global_id(0), plane = get_global_size(0);
  const int c = get_global_id(1), n = get_global_id(2);
  dst[((size_t)n * c_dst + offset + c) * plane + p] = src[((size_t)n * c_src + c) * plane + p];
}
)CLC";

}  // namespace smlm::compute::detail
