// Known answers for the 4×4 core transform, its inverse and the Intra16×16 DC Hadamard pair.
//
// How the expected blocks were obtained:
//  - hand-computed outer products: a single non-zero input x_pq gives Y = (Cf e_p)(Cf e_q)ᵀ, i.e.
//    column p of Cf times column q of Cf (likewise H for the Hadamard); a constant block only
//    excites the (0, 0) basis function;
//  - the inverse-transform blocks were worked through the §8.5.12.2 equations by hand (shown at
//    each case), including the floor of >> on negative values;
//  - the general forward block is the worked example of I. Richardson's H.264 transform notes
//    (input 5 11 8 10 / 9 8 4 12 / 1 10 11 4 / 19 6 15 7), re-derived from Y = Cf·X·Cfᵀ;
//  - random blocks are compared with oracles written separately from the butterflies: a plain
//    matrix product for the exact transforms, and a transcription of the §8.5.12.2 equations in
//    the standard's own e/f/g/h notation for the inverse.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>

#include <smlm/codec/transform.hpp>

namespace codec = smlm::codec;
using codec::block4x4;

namespace {

constexpr std::array<std::array<int, 4>, 4> cf = {{{1, 1, 1, 1}, {2, 1, -1, -2}, {1, -1, -1, 1}, {1, -2, 2, -1}}};
constexpr std::array<std::array<int, 4>, 4> hadamard = {{{1, 1, 1, 1}, {1, 1, -1, -1}, {1, -1, -1, 1}, {1, -1, 1, -1}}};

/// A·X·Aᵀ in int64 by the definition of the matrix product.
std::array<std::int64_t, 16> sandwich(const std::array<std::array<int, 4>, 4>& a, const block4x4& x) {
  std::array<std::int64_t, 16> y{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int p = 0; p < 4; ++p)
        for (int q = 0; q < 4; ++q) y[4 * i + j] += std::int64_t{a[i][p]} * x[4 * p + q] * a[j][q];
  return y;
}

/// H.264 §8.5.12.2 transcribed in its own notation (d → e → f → g → h → r), independently of the
/// library's butterfly helper.
block4x4 inverse_by_clause(const block4x4& c) {
  std::int64_t d[4][4], e[4][4], f[4][4], g[4][4], h[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d[i][j] = c[4 * i + j];
  for (int i = 0; i < 4; ++i) {
    e[i][0] = d[i][0] + d[i][2];
    e[i][1] = d[i][0] - d[i][2];
    e[i][2] = (d[i][1] >> 1) - d[i][3];
    e[i][3] = d[i][1] + (d[i][3] >> 1);
    f[i][0] = e[i][0] + e[i][3];
    f[i][1] = e[i][1] + e[i][2];
    f[i][2] = e[i][1] - e[i][2];
    f[i][3] = e[i][0] - e[i][3];
  }
  for (int j = 0; j < 4; ++j) {
    g[0][j] = f[0][j] + f[2][j];
    g[1][j] = f[0][j] - f[2][j];
    g[2][j] = (f[1][j] >> 1) - f[3][j];
    g[3][j] = f[1][j] + (f[3][j] >> 1);
    h[0][j] = g[0][j] + g[3][j];
    h[1][j] = g[1][j] + g[2][j];
    h[2][j] = g[1][j] - g[2][j];
    h[3][j] = g[0][j] - g[3][j];
  }
  block4x4 r{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) r[4 * i + j] = static_cast<std::int16_t>((h[i][j] + 32) >> 6);
  return r;
}

std::int64_t floor_half(std::int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

block4x4 constant(int value) {
  block4x4 b{};
  b.fill(static_cast<std::int16_t>(value));
  return b;
}
block4x4 single(int row, int column, int value) {
  block4x4 b{};
  b[4 * row + column] = static_cast<std::int16_t>(value);
  return b;
}
block4x4 random_block(std::mt19937& rng, int lo, int hi) {
  block4x4 b{};
  for (auto& v : b) v = static_cast<std::int16_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)));
  return b;
}
block4x4 forward(const block4x4& x) {
  block4x4 y{};
  codec::forward_4x4_ref(x, y);
  return y;
}
block4x4 inverse(const block4x4& d) {
  block4x4 r{};
  codec::inverse_4x4_ref(d, r);
  return r;
}
block4x4 forward_hadamard(const block4x4& w) {
  block4x4 y{};
  codec::forward_hadamard_4x4_ref(w, y);
  return y;
}
block4x4 inverse_hadamard(const block4x4& c) {
  block4x4 f{};
  codec::inverse_hadamard_4x4_ref(c, f);
  return f;
}

}  // namespace

TEST_CASE("forward_4x4: hand-computed blocks") {
  CHECK(forward(block4x4{}) == block4x4{});
  // A constant residual excites only the DC basis function: Y_00 = 16·x.
  CHECK(forward(constant(255)) == single(0, 0, 4080));
  CHECK(forward(constant(-255)) == single(0, 0, -4080));
  // x_00 = 1: column 0 of Cf is (1, 2, 1, 1), Y = (1,2,1,1)ᵀ(1,2,1,1).
  CHECK(forward(single(0, 0, 1)) == block4x4{1, 2, 1, 1, 2, 4, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1});
  // x_12 = 1: columns 1 and 2 of Cf are (1, 1, −1, −2) and (1, −1, −1, 2).
  CHECK(forward(single(1, 2, 1)) == block4x4{1, -1, -1, 2, 1, -1, -1, 2, -1, 1, 1, -2, -2, 2, 2, -4});
  // The largest coefficient magnitude: x = ±255·s·sᵀ, s = (1, 1, −1, −1) = sign of Cf's row 1.
  // Cf·s = (0, 6, 0, −2), so Y = ±255·(0,6,0,−2)ᵀ(0,6,0,−2): Y_11 = ±9180 = ±36·255.
  block4x4 extreme{};
  const int s[4] = {1, 1, -1, -1};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) extreme[4 * i + j] = static_cast<std::int16_t>(255 * s[i] * s[j]);
  const block4x4 expected{0, 0, 0, 0, 0, 9180, 0, -3060, 0, 0, 0, 0, 0, -3060, 0, 1020};
  CHECK(forward(extreme) == expected);
  for (auto& v : extreme) v = static_cast<std::int16_t>(-v);
  block4x4 negated = expected;
  for (auto& v : negated) v = static_cast<std::int16_t>(-v);
  CHECK(forward(extreme) == negated);
  // Richardson's worked example.
  CHECK(forward(block4x4{5, 11, 8, 10, 9, 8, 4, 12, 1, 10, 11, 4, 19, 6, 15, 7}) ==
        block4x4{140, -1, -6, 7, -19, -39, 7, -92, 22, 17, 8, 31, -27, -32, -59, -21});
}

TEST_CASE("forward_4x4 equals Cf·X·Cfᵀ over the exact input range, in place too") {
  const unsigned seed = 20240401;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int n = 0; n < 2000; ++n) {
    const int limit = n % 2 == 0 ? 255 : 910;  // 9-bit residuals; and the largest exact range
    const block4x4 x = random_block(rng, -limit, limit);
    const auto oracle = sandwich(cf, x);
    block4x4 y = forward(x);
    bool same = true;
    for (int k = 0; k < 16; ++k) same = same && y[k] == oracle[k];
    CHECK(same);
    block4x4 in_place = x;
    codec::forward_4x4_ref(in_place, in_place);
    CHECK(in_place == y);
    block4x4 dispatched{};
    codec::forward_4x4(x, dispatched);
    CHECK(dispatched == y);
  }
}

TEST_CASE("inverse_4x4: hand-computed blocks (§8.5.12.2)") {
  CHECK(inverse(block4x4{}) == block4x4{});
  // d_00 alone: every h_ij = d_00, r = (d_00 + 32) >> 6 with floor on negative values.
  CHECK(inverse(single(0, 0, 64)) == constant(1));
  CHECK(inverse(single(0, 0, 31)) == constant(0));
  CHECK(inverse(single(0, 0, 32)) == constant(1));
  CHECK(inverse(single(0, 0, -32)) == constant(0));   // (−32 + 32) >> 6 = 0
  CHECK(inverse(single(0, 0, -33)) == constant(-1));  // (−1) >> 6 = −1
  CHECK(inverse(single(0, 0, 32767)) == constant(512));   // 32799 >> 6 = 512
  CHECK(inverse(single(0, 0, -32768)) == constant(-512)); // −32736 >> 6 = ⌊−511.5⌋
  // d_01 = 64: row 0 gives e = (0, 0, 32, 64), f = (64, 32, −32, −64); each column then carries
  // only its row-0 value v, so h_ij = v down the column: r rows are ((64, 32, −32, −64) + 32) >> 6.
  CHECK(inverse(single(0, 1, 64)) == block4x4{1, 1, 0, -1, 1, 1, 0, -1, 1, 1, 0, -1, 1, 1, 0, -1});
  // d_11 = −32768 (the int16 minimum on an odd/odd position): row 1 gives e = (0, 0, −16384,
  // −32768), f = (−32768, −16384, 16384, 32768); a column whose row-1 value is v becomes
  // h = (v, v >> 1, −(v >> 1), −v), and r = (h + 32) >> 6.
  CHECK(inverse(single(1, 1, -32768)) == block4x4{-512, -256, 256, 512,  //
                                                  -256, -128, 128, 256,  //
                                                  256, 128, -128, -256,  //
                                                  512, 256, -256, -512});
}

TEST_CASE("inverse_4x4 matches the clause transcription on any int16 input, in place too") {
  const unsigned seed = 77;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int n = 0; n < 3000; ++n) {
    const int limit = n % 3 == 0 ? 32768 : (n % 3 == 1 ? 4096 : 64);
    block4x4 d = random_block(rng, -limit, limit == 32768 ? 32767 : limit);
    if (n % 50 == 0) d = constant(n % 100 == 0 ? 32767 : -32768);
    const block4x4 r = inverse(d);
    CHECK(r == inverse_by_clause(d));
    block4x4 in_place = d;
    codec::inverse_4x4(in_place, in_place);
    CHECK(in_place == r);
  }
}

TEST_CASE("forward_hadamard_4x4: hand-computed blocks, JM's floor of /2") {
  CHECK(forward_hadamard(block4x4{}) == block4x4{});
  // All sixteen DCs of a constant-255 macroblock: H·W·H = 16·4080 at (0, 0), /2 = 32640.
  CHECK(forward_hadamard(constant(4080)) == single(0, 0, 32640));
  CHECK(forward_hadamard(constant(-4080)) == single(0, 0, -32640));
  // w_00 alone: H·W·H is w_00 everywhere (column 0 of H is all ones), then floor(w_00 / 2).
  CHECK(forward_hadamard(single(0, 0, 1)) == constant(0));
  CHECK(forward_hadamard(single(0, 0, 3)) == constant(1));
  CHECK(forward_hadamard(single(0, 0, -1)) == constant(-1));  // x264's (s + 1) >> 1 would give 0
  // A ±4080 checkerboard is 4080·v·vᵀ with v = (1, −1, 1, −1) = H's row 3: only Y_33 survives.
  block4x4 checker{};
  for (int k = 0; k < 16; ++k) checker[k] = static_cast<std::int16_t>(((k >> 2) + (k & 3)) % 2 ? -4080 : 4080);
  CHECK(forward_hadamard(checker) == single(3, 3, 32640));
  // w_21 = 2: column 2 of H is (1, −1, −1, 1), column 1 is (1, 1, −1, −1); 2·outer / 2.
  CHECK(forward_hadamard(single(2, 1, 2)) == block4x4{1, 1, -1, -1, -1, -1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1});
}

TEST_CASE("inverse_hadamard_4x4: hand-computed blocks (§8.5.10), saturation outside 16 bits") {
  CHECK(inverse_hadamard(block4x4{}) == block4x4{});
  CHECK(inverse_hadamard(single(0, 0, 1)) == constant(1));
  block4x4 checker{};
  for (int k = 0; k < 16; ++k) checker[k] = static_cast<std::int16_t>(((k >> 2) + (k & 3)) % 2 ? -1 : 1);
  CHECK(inverse_hadamard(single(3, 3, 1)) == checker);
  CHECK(inverse_hadamard(constant(1)) == single(0, 0, 16));
  CHECK(inverse_hadamard(constant(-2047)) == single(0, 0, -32752));
  // Non-conforming levels: 16·32767 does not fit int16 and saturates.
  CHECK(inverse_hadamard(constant(32767)) == single(0, 0, 32767));
  CHECK(inverse_hadamard(constant(-32768)) == single(0, 0, -32768));
}

TEST_CASE("Hadamard pair: oracles and inverse(forward(W)) = 8·W when Σ W is even") {
  const unsigned seed = 4242;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int n = 0; n < 2000; ++n) {
    block4x4 w = random_block(rng, -4095, 4095);
    const auto oracle = sandwich(hadamard, w);
    const block4x4 y = forward_hadamard(w);
    bool same = true;
    for (int k = 0; k < 16; ++k) same = same && y[k] == floor_half(oracle[k]);
    CHECK(same);

    const block4x4 levels = random_block(rng, -2047, 2047);
    const auto f_oracle = sandwich(hadamard, levels);
    const block4x4 f = inverse_hadamard(levels);
    same = true;
    for (int k = 0; k < 16; ++k) same = same && f[k] == f_oracle[k];
    CHECK(same);

    // Every entry of H·W·H has the parity of Σ W, so for even Σ W the /2 is exact and
    // H·(H·W·H/2)·H = 16·W/2.
    int sum = 0;
    for (auto v : w) sum += v;
    if (sum % 2 != 0) w[0] = static_cast<std::int16_t>(w[0] > 0 ? w[0] - 1 : w[0] + 1);
    block4x4 round_trip = forward_hadamard(w);
    codec::inverse_hadamard_4x4(round_trip, round_trip);
    block4x4 eight_w{};
    for (int k = 0; k < 16; ++k) eight_w[k] = static_cast<std::int16_t>(8 * w[k]);
    CHECK(round_trip == eight_w);
  }
  block4x4 in_place = constant(4080);
  codec::forward_hadamard_4x4(in_place, in_place);
  CHECK(in_place == single(0, 0, 32640));
}
