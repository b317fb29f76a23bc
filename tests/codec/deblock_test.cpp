// Deblocking: hand-computed segments for bS = 4 (strong and weak branch) and bS < 4, the
// thresholds that leave real edges alone, boundary strengths, and the effect on a coded frame.
//
// Expected samples: the §8.7.2.3 / §8.7.2.4 equations evaluated by hand at qPav = 30, where
// Table 8-16 gives α = 25, β = 8 and Table 8-17 gives t′C0 = 1, 1, 2 for bS = 1, 2, 3.
#include "codec_fixtures.hpp"

#include <doctest/doctest.h>

#include <array>

#include <smlm/codec/deblock.hpp>

namespace codec = smlm::codec;
using codec_test::Frame;

namespace {

/// One 8-sample line p3 p2 p1 p0 | q0 q1 q2 q3 repeated over four lines; filters the vertical edge.
std::array<int, 8> filter_line(std::array<int, 8> line, int bs, int qp) {
  std::array<std::uint8_t, 32> samples{};
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 8; ++k) samples[8 * r + k] = static_cast<std::uint8_t>(line[k]);
  codec::deblock_segment_ref(samples.data() + 4, 1, 8, bs, qp);
  for (int r = 1; r < 4; ++r)
    for (int k = 0; k < 8; ++k) CHECK(samples[8 * r + k] == samples[k]);  // every line alike
  for (int k = 0; k < 8; ++k) line[k] = samples[k];
  return line;
}

}  // namespace

TEST_CASE("deblock: tables at known indices") {
  CHECK(int{codec::deblock_alpha[15]} == 0);
  CHECK(int{codec::deblock_alpha[16]} == 4);
  CHECK(int{codec::deblock_alpha[30]} == 25);
  CHECK(int{codec::deblock_alpha[51]} == 255);
  CHECK(int{codec::deblock_beta[30]} == 8);
  CHECK(int{codec::deblock_beta[51]} == 18);
  CHECK(int{codec::deblock_tc0[30][2]} == 2);
  CHECK(int{codec::deblock_tc0[51][0]} == 13);
  for (int i = 1; i < 52; ++i) {
    CHECK(codec::deblock_alpha[i] >= codec::deblock_alpha[i - 1]);
    CHECK(codec::deblock_beta[i] >= codec::deblock_beta[i - 1]);
    for (int b = 0; b < 3; ++b) CHECK(codec::deblock_tc0[i][b] >= codec::deblock_tc0[i - 1][b]);
  }
}

TEST_CASE("deblock: hand-computed segments") {
  SUBCASE("bS 4, step 10 ≥ α/4 + 2 = 8: only p0, q0 with the 3-tap filter") {
    // p0' = (2·60 + 60 + 70 + 2) >> 2 = 63, q0' = (2·70 + 70 + 60 + 2) >> 2 = 68
    CHECK(filter_line({60, 60, 60, 60, 70, 70, 70, 70}, 4, 30) == std::array<int, 8>{60, 60, 60, 63, 68, 70, 70, 70});
  }
  SUBCASE("bS 4, step 6 < 8: the strong filter on three samples each side") {
    // p0' = (60 + 120 + 120 + 132 + 66 + 4) >> 3 = 62, p1' = (60 + 60 + 60 + 66 + 2) >> 2 = 62,
    // p2' = (120 + 180 + 60 + 60 + 66 + 4) >> 3 = 61, q0' = (60 + 120 + 132 + 132 + 66 + 4) >> 3 = 64,
    // q1' = (60 + 66 + 66 + 66 + 2) >> 2 = 65, q2' = (132 + 198 + 66 + 66 + 60 + 4) >> 3 = 65
    CHECK(filter_line({60, 60, 60, 60, 66, 66, 66, 66}, 4, 30) == std::array<int, 8>{60, 61, 62, 62, 64, 65, 65, 66});
  }
  SUBCASE("bS 2: Δ clipped to tC = t′C0 + 2 = 3, p1/q1 moved by at most t′C0 = 1") {
    // Δ = (40 − 10 + 4) >> 3 = 4 → 3; p1: (60 + 65 − 120) >> 1 = 2 → 1; q1: (70 + 65 − 140) >> 1 = −3 → −1
    CHECK(filter_line({60, 60, 60, 60, 70, 70, 70, 70}, 2, 30) == std::array<int, 8>{60, 60, 61, 63, 67, 69, 70, 70});
  }
  SUBCASE("real edges and low QP are left alone") {
    const std::array<int, 8> edge = {60, 60, 60, 60, 90, 90, 90, 90};  // |p0 − q0| = 30 ≥ α = 25
    CHECK(filter_line(edge, 4, 30) == edge);
    const std::array<int, 8> step = {60, 60, 60, 60, 70, 70, 70, 70};
    CHECK(filter_line(step, 4, 15) == step);  // α = 0 below indexA 16
    const std::array<int, 8> texture = {60, 60, 60, 60, 70, 80, 70, 70};  // |q1 − q0| = 10 ≥ β
    CHECK(filter_line(texture, 3, 30) == texture);
  }
}

TEST_CASE("deblock: boundary strength") {
  codec::MacroblockInfo intra, inter_a, inter_b;
  intra.type = codec::mb_type::intra4x4;
  inter_a.type = inter_b.type = codec::mb_type::inter;
  CHECK(codec::boundary_strength(intra, 5, inter_a, 0, true) == 4);
  CHECK(codec::boundary_strength(intra, 0, intra, 1, false) == 3);
  CHECK(codec::boundary_strength(inter_a, 0, inter_b, 1, true) == 0);
  inter_a.coded_blocks = 1u << 5;
  CHECK(codec::boundary_strength(inter_a, 5, inter_b, 0, true) == 2);
  CHECK(codec::boundary_strength(inter_a, 4, inter_b, 0, true) == 0);
  inter_b.mv_x = 1;
  CHECK(codec::boundary_strength(inter_a, 4, inter_b, 0, true) == 1);
}

TEST_CASE("deblock: a coded smooth frame has weaker block edges with the filter on") {
  Frame frame(48, 64);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) frame(y, x) = static_cast<std::uint8_t>(40 + x + y / 2 + ((x * y) % 7));
  // Blockiness: mean |horizontal step| across columns 4k−1 | 4k, minus the mean elsewhere.
  const auto blockiness = [](const Frame& f) {
    double edge = 0, inner = 0;
    int ne = 0, ni = 0;
    for (int y = 0; y < f.rows(); ++y)
      for (int x = 1; x < f.cols(); ++x) {
        const double d = std::abs(int{f(y, x)} - int{f(y, x - 1)});
        if (x % 4 == 0) edge += d, ++ne;
        else inner += d, ++ni;
      }
    return edge / ne - inner / ni;
  };
  codec::Settings off, on;
  off.qp = on.qp = 42;
  on.deblock = true;
  const auto a = codec_test::round_trip({frame}, off);
  const auto b = codec_test::round_trip({frame}, on);
  CAPTURE(blockiness(a.decoded.front()));
  CAPTURE(blockiness(b.decoded.front()));
  CHECK(blockiness(b.decoded.front()) < 0.7 * blockiness(a.decoded.front()));
  CHECK(blockiness(a.decoded.front()) > 0.5);
}
