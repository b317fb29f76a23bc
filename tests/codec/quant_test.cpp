// Quantization tables, known answers, and the forward → quantize → dequantize → inverse chain.
//
// How the expected values were obtained:
//  - table rows: H.264 §8.5.9 (v) and JM lencod quant_coef / x264 quant4_scale (MF), re-typed in
//    class order (0,0)-type, (1,1)-type, other; the MF·v products are checked against 2^17·w,
//    which is what makes quantization and scaling inverse to each other (Malvar et al. 2003);
//  - known levels: the quantizer formula evaluated by hand, shown at each case;
//  - the scaling kernels are compared with JM's encoder-side forms c·v·2^(QP/6) and
//    (f·v00·2^(QP/6) + 2) >> 2, which are algebraically equal to the clause formulas.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include <smlm/codec/block.hpp>
#include <smlm/codec/quant.hpp>
#include <smlm/codec/transform.hpp>

namespace codec = smlm::codec;
using codec::block4x4;
using codec::quant_mode;

namespace {

block4x4 constant(int value) {
  block4x4 b{};
  b.fill(static_cast<std::int16_t>(value));
  return b;
}
block4x4 single(int k, int value) {
  block4x4 b{};
  b[k] = static_cast<std::int16_t>(value);
  return b;
}
int count_nonzero(const block4x4& b) {
  return static_cast<int>(std::count_if(b.begin(), b.end(), [](std::int16_t v) { return v != 0; }));
}

/// 4×4 source and prediction samples (row stride 4) with adversarial patterns mixed in.
struct sample_pair {
  std::array<std::uint8_t, 16> source{};
  std::array<std::uint8_t, 16> prediction{};
};

std::vector<sample_pair> adversarial_pairs() {
  std::vector<sample_pair> pairs;
  const auto make = [&](auto source_of, auto prediction_of) {
    sample_pair p;
    for (int k = 0; k < 16; ++k) {
      p.source[k] = static_cast<std::uint8_t>(source_of(k >> 2, k & 3));
      p.prediction[k] = static_cast<std::uint8_t>(prediction_of(k >> 2, k & 3));
    }
    pairs.push_back(p);
  };
  const auto zero = [](int, int) { return 0; };
  const auto full = [](int, int) { return 255; };
  const auto checker = [](int i, int j) { return (i + j) % 2 ? 0 : 255; };
  const auto anti_checker = [](int i, int j) { return (i + j) % 2 ? 255 : 0; };
  const auto stripes = [](int, int j) { return j % 2 ? 0 : 255; };
  const auto rows = [](int i, int) { return i < 2 ? 255 : 0; };
  const auto extreme = [](int i, int j) { return (i < 2) == (j < 2) ? 255 : 0; };  // ±255·s·sᵀ
  make(full, zero);
  make(zero, full);
  make(checker, zero);
  make(checker, anti_checker);
  make(anti_checker, checker);
  make(stripes, zero);
  make(rows, zero);
  make(extreme, zero);
  make(zero, extreme);
  make(zero, zero);
  make(full, full);
  return pairs;
}

std::vector<sample_pair> random_pairs(unsigned seed, int count) {
  std::mt19937 rng(seed);
  std::vector<sample_pair> pairs(static_cast<std::size_t>(count));
  for (auto& p : pairs) {
    for (auto& v : p.source) v = static_cast<std::uint8_t>(rng() % 256);
    for (auto& v : p.prediction) v = static_cast<std::uint8_t>(rng() % 256);
  }
  return pairs;
}

/// The encoder's and decoder's path for one 4×4 block; returns the reconstructed samples and the
/// non-zero count quantize reported.
std::array<std::uint8_t, 16> encode_decode(const sample_pair& p, int qp, quant_mode mode, int* nonzero = nullptr) {
  block4x4 residual{}, coefficients{}, levels{}, scaled{}, reconstructed_residual{};
  codec::subtract_4x4(p.source.data(), 4, p.prediction.data(), 4, residual);
  codec::forward_4x4(residual, coefficients);
  const int n = codec::quantize_4x4(coefficients, levels, qp, mode);
  if (nonzero != nullptr) *nonzero = n;
  codec::dequantize_4x4(levels, scaled, qp);
  codec::inverse_4x4(scaled, reconstructed_residual);
  std::array<std::uint8_t, 16> out{};
  codec::add_4x4(reconstructed_residual, p.prediction.data(), 4, out.data(), 4);
  return out;
}

int max_error(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b) {
  int worst = 0;
  for (int k = 0; k < 16; ++k) worst = std::max(worst, std::abs(int{a[k]} - int{b[k]}));
  return worst;
}

}  // namespace

TEST_CASE("quantization tables match the standard and the reference encoders") {
  // Spot values named in H.264 texts: QP % 6 = 0.
  CHECK(codec::quant_mf[0] == std::array<std::int32_t, 3>{13107, 5243, 8066});
  CHECK(codec::dequant_v[0] == std::array<std::int32_t, 3>{10, 16, 13});
  CHECK(codec::quant_mf[5] == std::array<std::int32_t, 3>{7282, 2893, 4559});
  CHECK(codec::dequant_v[5] == std::array<std::int32_t, 3>{18, 29, 23});
  for (int m = 0; m < 6; ++m) {
    INFO("QP % 6 = " << m);
    // MF·v ≈ 2^17·w with w = 1, 16/25, 4/5: quantizing then scaling multiplies a coefficient by
    // MF·v/2^15 = 4·w at every QP, which the inverse transform's basis norms and its >> 6 undo
    // (a constant x: Y_00 = 16·x, d_00 = 64·x, r = x).
    const double w[3] = {1.0, 25.0 / 16.0, 5.0 / 4.0};
    for (int c = 0; c < 3; ++c) {
      const double product = double(codec::quant_mf[m][c]) * codec::dequant_v[m][c] * w[c];
      CHECK(std::abs(product / 131072.0 - 1.0) < 1e-3);
    }
    // The per-position tables put class 0 on (even, even), class 1 on (odd, odd) — JM's layout.
    CHECK(codec::quant_mf_4x4[m][0] == codec::quant_mf[m][0]);
    CHECK(codec::quant_mf_4x4[m][10] == codec::quant_mf[m][0]);
    CHECK(codec::quant_mf_4x4[m][5] == codec::quant_mf[m][1]);
    CHECK(codec::quant_mf_4x4[m][15] == codec::quant_mf[m][1]);
    CHECK(codec::quant_mf_4x4[m][1] == codec::quant_mf[m][2]);
    CHECK(codec::quant_mf_4x4[m][14] == codec::quant_mf[m][2]);
    for (int k = 0; k < 16; ++k) CHECK(codec::level_scale_4x4[m][k] == 16 * codec::dequant_v[m][codec::position_class(k)]);
  }
  // Each step of 6 in QP doubles the step: the MF rows decrease, the v rows increase, and
  // row 0 at QP + 6 would continue row 5 (v: 18 → 20 = 2·10).
  for (int m = 1; m < 6; ++m)
    for (int c = 0; c < 3; ++c) {
      CHECK(codec::quant_mf[m][c] < codec::quant_mf[m - 1][c]);
      CHECK(codec::dequant_v[m][c] > codec::dequant_v[m - 1][c]);
    }
  // The full tables, re-typed in x264's column order (class 0, class 2, class 1) from
  // x264 common/set.c quant4_scale / dequant4_scale, which agree with JM lencod's
  // quant_coef / dequant_coef.
  constexpr int x264_quant4_scale[6][3] = {{13107, 8066, 5243}, {11916, 7490, 4660}, {10082, 6554, 4194},
                                           {9362, 5825, 3647},  {8192, 5243, 3355},  {7282, 4559, 2893}};
  constexpr int x264_dequant4_scale[6][3] = {{10, 13, 16}, {11, 14, 18}, {13, 16, 20},
                                             {14, 18, 23}, {16, 20, 25}, {18, 23, 29}};
  for (int m = 0; m < 6; ++m) {
    CHECK(codec::quant_mf[m] == std::array<std::int32_t, 3>{x264_quant4_scale[m][0], x264_quant4_scale[m][2], x264_quant4_scale[m][1]});
    CHECK(codec::dequant_v[m] == std::array<std::int32_t, 3>{x264_dequant4_scale[m][0], x264_dequant4_scale[m][2], x264_dequant4_scale[m][1]});
  }
  const std::array<int, 16> classes{0, 2, 0, 2, 2, 1, 2, 1, 0, 2, 0, 2, 2, 1, 2, 1};
  for (int k = 0; k < 16; ++k) CHECK(codec::position_class(k) == classes[k]);
  // Dead-zone offsets: f = 2^qbits / 3 (intra) and / 6 (inter), integer division.
  CHECK(codec::quant_shift(0) == 15);
  CHECK(codec::quant_shift(51) == 23);
  CHECK(codec::quant_offset(0, quant_mode::intra) == 10922);
  CHECK(codec::quant_offset(0, quant_mode::inter) == 5461);
  CHECK(codec::quant_offset(51, quant_mode::intra) == 2796202);
  CHECK(codec::quant_offset(51, quant_mode::inter) == 1398101);
}

TEST_CASE("quantize_4x4: hand-computed levels") {
  block4x4 levels{};
  // Constant residual 255 → Y_00 = 4080. QP 0: (4080·13107 + 10922) >> 15 = 53487482 >> 15 = 1632.
  CHECK(codec::quantize_4x4(single(0, 4080), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, 1632));
  CHECK(codec::quantize_4x4(single(0, -4080), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, -1632));
  // QP 28 (QP/6 = 4, QP%6 = 4): (4080·8192 + 2^19/3) >> 19 = 33598122 >> 19 = 64.
  CHECK(codec::quantize_4x4(single(0, 4080), levels, 28, quant_mode::intra) == 1);
  CHECK(levels == single(0, 64));
  // The dead zone: Y = 2 at QP 0 is 0.8 steps. Intra: (26214 + 10922) >> 15 = 1; inter:
  // (26214 + 5461) >> 15 = 0.
  CHECK(codec::quantize_4x4(single(0, 2), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, 1));
  CHECK(codec::quantize_4x4(single(0, -2), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, -1));
  CHECK(codec::quantize_4x4(single(0, 2), levels, 0, quant_mode::inter) == 0);
  CHECK(levels == block4x4{});
  // Position classes: Y = 100 on (1, 1) at QP 0: (100·5243 + 10922) >> 15 = 535222 >> 15 = 16;
  // on (0, 1): (100·8066 + 10922) >> 15 = 817522 >> 15 = 24.
  CHECK(codec::quantize_4x4(single(5, 100), levels, 0, quant_mode::intra) == 1);
  CHECK(levels[5] == 16);
  CHECK(codec::quantize_4x4(single(1, 100), levels, 0, quant_mode::intra) == 1);
  CHECK(levels[1] == 24);
  // A residual of 1 everywhere (Y_00 = 16) survives QP 0 ((209712 + 10922) >> 15 = 6) and
  // vanishes at QP 51 ((16·9362 + 2796202) >> 23 = 0).
  CHECK(codec::quantize_4x4(single(0, 16), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, 6));
  CHECK(codec::quantize_4x4(single(0, 16), levels, 51, quant_mode::intra) == 0);
  CHECK(levels == block4x4{});
  // In place, and the int16 extremes.
  block4x4 extremes = constant(-32768);
  extremes[3] = 32767;
  CHECK(codec::quantize_4x4(extremes, extremes, 0, quant_mode::intra) == 16);
  CHECK(extremes[0] == -13107);  // (32768·13107 + 10922) >> 15 = 13107
  CHECK(extremes[3] == 8066);    // (32767·8066 + 10922) >> 15 = 8066
}

TEST_CASE("quantize_dc_4x4: hand-computed levels") {
  block4x4 levels{};
  // The Hadamard output of a constant-255 macroblock: 32640 at (0, 0).
  // QP 0: (32640·13107 + 2·10922) >> 16 = 427834324 >> 16 = 6528.
  CHECK(codec::quantize_dc_4x4(single(0, 32640), levels, 0, quant_mode::intra) == 1);
  CHECK(levels == single(0, 6528));
  // Every position uses MF(QP%6, class 0): Y = 1000 on (1, 1) at QP 12 (QP/6 = 2, QP%6 = 0):
  // (1000·13107 + 2·(2^17/3)) >> 18 = (13107000 + 87380) >> 18 = 50.
  CHECK(codec::quantize_dc_4x4(single(5, -1000), levels, 12, quant_mode::intra) == 1);
  CHECK(levels == single(5, -50));
  // The dead zone with offset 2f: Y = 4 at QP 0, intra (52428 + 21844) >> 16 = 1, inter
  // (52428 + 10922) >> 16 = 0.
  CHECK(codec::quantize_dc_4x4(single(7, 4), levels, 0, quant_mode::intra) == 1);
  CHECK(codec::quantize_dc_4x4(single(7, 4), levels, 0, quant_mode::inter) == 0);
  CHECK(codec::quantize_dc_4x4(block4x4{}, levels, 30, quant_mode::intra) == 0);
}

TEST_CASE("dequantize_4x4: clause formula equals c·v·2^(QP/6), saturated to int16") {
  block4x4 scaled{};
  // Level 1 at QP 0 returns v itself: (16·v + 8) >> 4 = v.
  codec::dequantize_4x4(constant(1), scaled, 0);
  CHECK(scaled == block4x4{10, 13, 10, 13, 13, 16, 13, 16, 10, 13, 10, 13, 13, 16, 13, 16});
  // QP 6 doubles it; QP 51 (QP/6 = 8, QP%6 = 3): (16·14) << 4 = 3584 = 14·256.
  codec::dequantize_4x4(constant(-1), scaled, 6);
  CHECK(scaled[0] == -20);
  codec::dequantize_4x4(constant(1), scaled, 51);
  CHECK(scaled[0] == 3584);
  CHECK(scaled[5] == 23 * 256);
  // 1632 (the constant-255 level at QP 0) → 16320.
  codec::dequantize_4x4(single(0, 1632), scaled, 0);
  CHECK(scaled == single(0, 16320));
  // Saturation only for levels no conforming 8-bit stream carries.
  codec::dequantize_4x4(constant(32767), scaled, 51);
  CHECK(scaled == constant(32767));
  codec::dequantize_4x4(constant(-32768), scaled, 51);
  CHECK(scaled == constant(-32768));

  const auto check_level = [&](int qp, int level) {
    block4x4 in = constant(level), out{};
    codec::dequantize_4x4(in, out, qp);
    bool same = true;
    for (int k = 0; k < 16; ++k) {
      const std::int64_t jm = std::int64_t{level} * codec::dequant_v[qp % 6][codec::position_class(k)] << (qp / 6);
      same = same && out[k] == std::clamp<std::int64_t>(jm, -32768, 32767);
    }
    return same;
  };
  for (int qp = 0; qp <= 51; ++qp) {
    INFO("QP " << qp);
    bool all = true;
    for (int level = -4096; level <= 4096; ++level) all = all && check_level(qp, level);
    for (int level = -32768; level <= 32767; level += 97) all = all && check_level(qp, level);
    all = all && check_level(qp, 32767) && check_level(qp, -32768);
    CHECK(all);
  }
}

TEST_CASE("dequantize_dc_4x4: clause formula equals (f·v00·2^(QP/6) + 2) >> 2, saturated") {
  block4x4 dc{};
  // f = 6528 at QP 0: (6528·160 + 32) >> 6 = 16320 = the DC the core path gives a constant 255.
  codec::dequantize_dc_4x4(single(0, 6528), dc, 0);
  CHECK(dc == single(0, 16320));
  // QP 36 switches to the pure shift: (f·16·10) << 0.
  codec::dequantize_dc_4x4(single(3, -7), dc, 36);
  CHECK(dc == single(3, -1120));
  for (int qp = 0; qp <= 51; ++qp) {
    INFO("QP " << qp);
    bool all = true;
    for (int f = -32768; f <= 32767; f += (f > -2048 && f < 2048) ? 1 : 61) {
      block4x4 in = constant(f), out{};
      codec::dequantize_dc_4x4(in, out, qp);
      const std::int64_t jm = ((std::int64_t{f} * codec::dequant_v[qp % 6][0] << (qp / 6)) + 2) >> 2;
      all = all && out[9] == std::clamp<std::int64_t>(jm, -32768, 32767);
    }
    CHECK(all);
  }
}

TEST_CASE("QP outside [0, 51] is a programming error") {
  block4x4 a{}, b{};
  CHECK_THROWS_AS(codec::quantize_4x4(a, b, 52, quant_mode::intra), smlm::assertion_error);
  CHECK_THROWS_AS(codec::quantize_dc_4x4(a, b, -1, quant_mode::inter), smlm::assertion_error);
  CHECK_THROWS_AS(codec::dequantize_4x4(a, b, 52), smlm::assertion_error);
  CHECK_THROWS_AS(codec::dequantize_dc_4x4(a, b, -1), smlm::assertion_error);
}

TEST_CASE("constant 255 through the whole chain at QP 0 comes back exactly") {
  // By hand: Y_00 = 4080 → level 1632 → d_00 = 16320 → h = 16320 everywhere → (16352 >> 6) = 255.
  sample_pair p;
  p.source.fill(255);
  p.prediction.fill(0);
  CHECK(encode_decode(p, 0, quant_mode::intra) == p.source);
}

TEST_CASE("forward → quantize → dequantize → inverse: at most 1 grey level at QP 0") {
  const unsigned seed = 1234;
  INFO("seed " << seed);
  auto pairs = random_pairs(seed, 4000);
  const auto adversarial = adversarial_pairs();
  pairs.insert(pairs.end(), adversarial.begin(), adversarial.end());
  for (const quant_mode mode : {quant_mode::intra, quant_mode::inter}) {
    int worst = 0;
    for (const auto& p : pairs) worst = std::max(worst, max_error(encode_decode(p, 0, mode), p.source));
    CHECK(worst <= 1);
  }
}

TEST_CASE("reconstruction error grows monotonically with QP (mean over a fixed random set)") {
  const unsigned seed = 99;
  INFO("seed " << seed);
  const auto pairs = random_pairs(seed, 300);
  for (const quant_mode mode : {quant_mode::intra, quant_mode::inter}) {
    double previous = -1.0;
    std::vector<double> mse(52);
    for (int qp = 0; qp <= 51; ++qp) {
      double sum = 0;
      for (const auto& p : pairs) {
        const auto out = encode_decode(p, qp, mode);
        for (int k = 0; k < 16; ++k) sum += double(out[k] - p.source[k]) * double(out[k] - p.source[k]);
      }
      mse[static_cast<std::size_t>(qp)] = sum / (16.0 * double(pairs.size()));
      INFO("QP " << qp << " mse " << mse[static_cast<std::size_t>(qp)] << " previous " << previous);
      CHECK(mse[static_cast<std::size_t>(qp)] >= previous);
      previous = mse[static_cast<std::size_t>(qp)];
    }
    CHECK(mse[0] < 0.1);
    CHECK(mse[51] > 100 * mse[12]);
  }
}

TEST_CASE("quantize reports the non-zero count, and so the all-zero flag, at every QP") {
  const unsigned seed = 555;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::vector<block4x4> inputs;
  for (const auto& p : adversarial_pairs()) {
    block4x4 residual{}, coefficients{};
    codec::subtract_4x4(p.source.data(), 4, p.prediction.data(), 4, residual);
    codec::forward_4x4(residual, coefficients);
    inputs.push_back(coefficients);
  }
  for (const int amplitude : {1, 2, 3, 8, 40, 255}) {
    for (int n = 0; n < 60; ++n) {
      block4x4 residual{}, coefficients{};
      for (auto& v : residual) v = static_cast<std::int16_t>(static_cast<int>(rng() % (2u * amplitude + 1)) - amplitude);
      codec::forward_4x4(residual, coefficients);
      inputs.push_back(coefficients);
    }
  }
  inputs.push_back(constant(-32768));
  inputs.push_back(constant(32767));
  int zero_blocks = 0, coded_blocks = 0;
  for (int qp = 0; qp <= 51; ++qp) {
    INFO("QP " << qp);
    for (const quant_mode mode : {quant_mode::intra, quant_mode::inter}) {
      bool consistent = true;
      for (const auto& y : inputs) {
        block4x4 levels{};
        const int n = codec::quantize_4x4(y, levels, qp, mode);
        consistent = consistent && n == count_nonzero(levels);
        // A zero report means the decoder reconstructs exactly the prediction.
        if (n == 0) {
          block4x4 scaled{}, residual{};
          codec::dequantize_4x4(levels, scaled, qp);
          codec::inverse_4x4(scaled, residual);
          consistent = consistent && residual == block4x4{};
        }
        // Each level against the quantizer formula evaluated independently in int64.
        for (int k = 0; k < 16; ++k) {
          const std::int64_t magnitude =
              (std::abs(std::int64_t{y[k]}) * codec::quant_mf[qp % 6][codec::position_class(k)] +
               (std::int64_t{1} << (15 + qp / 6)) / (mode == quant_mode::intra ? 3 : 6)) >>
              (15 + qp / 6);
          consistent = consistent && levels[k] == (y[k] < 0 ? -magnitude : magnitude);
        }
        (n == 0 ? zero_blocks : coded_blocks) += 1;
        block4x4 dc_levels{};
        const int n_dc = codec::quantize_dc_4x4(y, dc_levels, qp, mode);
        consistent = consistent && n_dc == count_nonzero(dc_levels);
      }
      CHECK(consistent);
    }
  }
  // Both outcomes occur, so the flag is exercised both ways.
  CHECK(zero_blocks > 100);
  CHECK(coded_blocks > 100);
}

TEST_CASE("Intra16×16 luma residual path (DC Hadamard + AC) reconstructs within 1 at QP 0") {
  // 16×16 source/prediction; the sixteen block DCs go through the Hadamard path, the AC levels
  // through the core path with position 0 replaced by dcY, as §8.5.10 and §8.5.12.1 describe.
  const unsigned seed = 16;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int qp : {0, 12, 26, 40, 51}) {
    INFO("QP " << qp);
    double sum_squared = 0;
    int worst = 0;
    for (int trial = 0; trial < 40; ++trial) {
      std::array<std::uint8_t, 256> source{}, prediction{}, reconstructed{};
      const bool flat = trial % 4 == 0;  // flat blocks stress the DC path
      const int base = static_cast<int>(rng() % 256);
      for (int k = 0; k < 256; ++k) {
        source[k] = static_cast<std::uint8_t>(flat ? base : static_cast<int>(rng() % 256));
        prediction[k] = static_cast<std::uint8_t>(trial % 8 == 0 ? 0 : rng() % 256);
      }
      std::array<block4x4, 16> coefficients{};
      block4x4 dc{};
      for (int b = 0; b < 16; ++b) {
        const int offset = (b / 4) * 4 * 16 + (b % 4) * 4;
        block4x4 residual{};
        codec::subtract_4x4(source.data() + offset, 16, prediction.data() + offset, 16, residual);
        codec::forward_4x4(residual, coefficients[b]);
        dc[b] = coefficients[b][0];
      }
      block4x4 dc_coefficients{}, dc_levels{}, f{}, dc_scaled{};
      codec::forward_hadamard_4x4(dc, dc_coefficients);
      codec::quantize_dc_4x4(dc_coefficients, dc_levels, qp, quant_mode::intra);
      codec::inverse_hadamard_4x4(dc_levels, f);
      codec::dequantize_dc_4x4(f, dc_scaled, qp);
      for (int b = 0; b < 16; ++b) {
        const int offset = (b / 4) * 4 * 16 + (b % 4) * 4;
        block4x4 levels{}, scaled{}, residual{};
        codec::quantize_4x4(coefficients[b], levels, qp, quant_mode::intra);
        levels[0] = 0;  // the AC block carries scan positions 1..15 only
        codec::dequantize_4x4(levels, scaled, qp);
        scaled[0] = dc_scaled[b];
        codec::inverse_4x4(scaled, residual);
        codec::add_4x4(residual, prediction.data() + offset, 16, reconstructed.data() + offset, 16);
      }
      for (int k = 0; k < 256; ++k) {
        const int e = int{reconstructed[k]} - int{source[k]};
        worst = std::max(worst, std::abs(e));
        sum_squared += double(e) * e;
      }
    }
    if (qp == 0) CHECK(worst <= 1);
    // Coarser QP: error within the quantizer step, Qstep = 0.625·2^(QP/6).
    const double rms = std::sqrt(sum_squared / (40.0 * 256.0));
    CHECK(rms < 0.625 * std::pow(2.0, qp / 6.0));
  }
}
