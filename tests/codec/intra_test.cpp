// Known answers for the Intra4×4 and Intra16×16 predictors, neighbour availability and the
// predicted Intra4×4 mode.
//
// How the expected values were obtained: the §8.3.1.2 / §8.3.3 equations evaluated by hand on
// small neighbour sets (top = 10, 20, 30, 40 [, 50, 60, 70, 80], left = 50, 60, 70, 80,
// top-left = 90), the working shown beside each value; linear neighbours, for which the 3-tap
// filters reproduce the line exactly; and the plane mode on a linear picture, which it predicts
// without error (worked through below).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <smlm/codec/intra.hpp>

namespace codec = smlm::codec;
using codec::intra16x16_mode;
using codec::intra4x4_mode;

namespace {

codec::Intra4x4Neighbours sample_neighbours() {
  codec::Intra4x4Neighbours n;
  n.top = {10, 20, 30, 40, 50, 60, 70, 80};
  n.left = {50, 60, 70, 80};
  n.top_left = 90;
  n.has_top = n.has_left = n.has_top_left = n.has_top_right = true;
  return n;
}

std::array<std::uint8_t, 16> predict4(intra4x4_mode mode, const codec::Intra4x4Neighbours& n) {
  std::array<std::uint8_t, 16> p{};
  codec::predict_intra4x4_ref(mode, n, p);
  return p;
}
int at(const std::array<std::uint8_t, 16>& p, int x, int y) { return p[4 * y + x]; }

}  // namespace

TEST_CASE("intra4x4: constant neighbours predict the constant in every mode") {
  codec::Intra4x4Neighbours n;
  n.top.fill(77);
  n.left.fill(77);
  n.top_left = 77;
  n.has_top = n.has_left = n.has_top_left = n.has_top_right = true;
  for (int m = 0; m < codec::intra4x4_mode_count; ++m) {
    CAPTURE(m);
    const auto p = predict4(static_cast<intra4x4_mode>(m), n);
    for (const auto v : p) CHECK(int{v} == 77);
  }
}

TEST_CASE("intra4x4: vertical, horizontal and the four DC rules") {
  auto n = sample_neighbours();
  const auto v = predict4(intra4x4_mode::vertical, n);
  const auto h = predict4(intra4x4_mode::horizontal, n);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      CHECK(at(v, x, y) == 10 * (x + 1));
      CHECK(at(h, x, y) == 50 + 10 * y);
    }
  // both: (10+20+30+40 + 50+60+70+80 + 4) >> 3 = 364 >> 3 = 45
  CHECK(at(predict4(intra4x4_mode::dc, n), 2, 3) == 45);
  n.has_top = n.has_top_left = n.has_top_right = false;  // left only: (260 + 2) >> 2 = 65
  CHECK(at(predict4(intra4x4_mode::dc, n), 0, 0) == 65);
  n = sample_neighbours();
  n.has_left = n.has_top_left = false;  // top only: (100 + 2) >> 2 = 25
  CHECK(at(predict4(intra4x4_mode::dc, n), 3, 3) == 25);
  n.has_top = false;  // none: 128
  CHECK(at(predict4(intra4x4_mode::dc, n), 1, 2) == 128);
}

TEST_CASE("intra4x4: diagonal down-left reproduces a linear top row, corner uses (p6 + 3 p7 + 2) >> 2") {
  codec::Intra4x4Neighbours n;
  for (int x = 0; x < 8; ++x) n.top[x] = static_cast<std::uint8_t>(4 * x);
  n.has_top = n.has_top_right = true;
  const auto p = predict4(intra4x4_mode::diagonal_down_left, n);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      CAPTURE(x);
      CAPTURE(y);
      // (4(k) + 8(k+1) + 4(k+2) + 2) >> 2 = 4(k+1) for k = x + y; corner (24 + 84 + 2) >> 2 = 27
      CHECK(at(p, x, y) == (x == 3 && y == 3 ? 27 : 4 * (x + y + 1)));
    }
}

TEST_CASE("intra4x4: diagonal down-right, vertical-right, horizontal-down, vertical-left, horizontal-up") {
  const auto n = sample_neighbours();
  SUBCASE("diagonal down-right") {
    const auto p = predict4(intra4x4_mode::diagonal_down_right, n);
    CHECK(at(p, 0, 0) == 60);  // (10 + 180 + 50 + 2) >> 2
    CHECK(at(p, 1, 1) == 60);
    CHECK(at(p, 3, 3) == 60);
    CHECK(at(p, 1, 0) == 33);  // (90 + 20 + 20 + 2) >> 2: p[−1,−1] + 2 p[0,−1] + p[1,−1]
    CHECK(at(p, 2, 1) == 33);
    CHECK(at(p, 0, 1) == 63);  // (90 + 100 + 60 + 2) >> 2
    CHECK(at(p, 3, 0) == 30);  // (20 + 60 + 40 + 2) >> 2
    CHECK(at(p, 0, 3) == 70);  // (60 + 140 + 80 + 2) >> 2
  }
  SUBCASE("vertical-right") {
    const auto p = predict4(intra4x4_mode::vertical_right, n);
    CHECK(at(p, 0, 0) == 50);  // zVR 0: (90 + 10 + 1) >> 1
    CHECK(at(p, 1, 0) == 15);  // zVR 2: (10 + 20 + 1) >> 1
    CHECK(at(p, 3, 0) == 35);  // zVR 6: (30 + 40 + 1) >> 1
    CHECK(at(p, 0, 1) == 60);  // zVR −1: (50 + 180 + 10 + 2) >> 2
    CHECK(at(p, 1, 1) == 33);  // zVR 1: (90 + 20 + 20 + 2) >> 2
    CHECK(at(p, 0, 2) == 63);  // zVR −2: (60 + 100 + 90 + 2) >> 2
    CHECK(at(p, 0, 3) == 60);  // zVR −3: (70 + 120 + 50 + 2) >> 2
  }
  SUBCASE("horizontal-down") {
    const auto p = predict4(intra4x4_mode::horizontal_down, n);
    CHECK(at(p, 0, 0) == 70);  // zHD 0: (90 + 50 + 1) >> 1
    CHECK(at(p, 1, 0) == 60);  // zHD −1
    CHECK(at(p, 2, 0) == 33);  // zHD −2: (20 + 20 + 90 + 2) >> 2
    CHECK(at(p, 0, 1) == 55);  // zHD 2: (50 + 60 + 1) >> 1
    CHECK(at(p, 1, 1) == 63);  // zHD 1: (90 + 100 + 60 + 2) >> 2
    CHECK(at(p, 0, 3) == 75);  // zHD 6: (70 + 80 + 1) >> 1
  }
  SUBCASE("vertical-left") {
    const auto p = predict4(intra4x4_mode::vertical_left, n);
    CHECK(at(p, 0, 0) == 15);  // (10 + 20 + 1) >> 1
    CHECK(at(p, 0, 1) == 20);  // (10 + 40 + 30 + 2) >> 2
    CHECK(at(p, 3, 2) == 55);  // (50 + 60 + 1) >> 1
    CHECK(at(p, 3, 3) == 60);  // (50 + 120 + 70 + 2) >> 2
  }
  SUBCASE("horizontal-up") {
    const auto p = predict4(intra4x4_mode::horizontal_up, n);
    CHECK(at(p, 0, 0) == 55);  // zHU 0: (50 + 60 + 1) >> 1
    CHECK(at(p, 1, 0) == 60);  // zHU 1: (50 + 120 + 70 + 2) >> 2
    CHECK(at(p, 2, 0) == 65);  // zHU 2: (60 + 70 + 1) >> 1
    CHECK(at(p, 3, 0) == 70);  // zHU 3: (60 + 140 + 80 + 2) >> 2
    CHECK(at(p, 0, 2) == 75);  // zHU 4: (70 + 80 + 1) >> 1
    CHECK(at(p, 1, 2) == 78);  // zHU 5: (70 + 240 + 2) >> 2
    CHECK(at(p, 2, 2) == 80);  // zHU > 5: p[−1, 3]
    CHECK(at(p, 3, 3) == 80);
  }
}

TEST_CASE("intra4x4: above-right substitution and mode availability") {
  std::array<std::uint8_t, 5 * 9> picture{};
  for (int k = 0; k < 45; ++k) picture[k] = static_cast<std::uint8_t>(k);
  const std::uint8_t* block = picture.data() + 9 + 1;  // row 1, column 1, stride 9
  const auto n = codec::gather_intra4x4_neighbours(block, 9, true, true, true, false);
  for (int x = 0; x < 4; ++x) CHECK(int{n.top[x]} == 1 + x);
  for (int x = 4; x < 8; ++x) CHECK(int{n.top[x]} == 4);  // p[3, −1] repeated
  for (int y = 0; y < 4; ++y) CHECK(int{n.left[y]} == 9 * (y + 1));
  CHECK(int{n.top_left} == 0);
  const auto with_right = codec::gather_intra4x4_neighbours(block, 9, true, true, true, true);
  CHECK(int{with_right.top[7]} == 8);

  codec::Intra4x4Neighbours none;
  CHECK(codec::intra4x4_mode_available(intra4x4_mode::dc, none));
  for (int m = 0; m < codec::intra4x4_mode_count; ++m)
    if (m != 2) CHECK_FALSE(codec::intra4x4_mode_available(static_cast<intra4x4_mode>(m), none));
  codec::Intra4x4Neighbours top_only;
  top_only.has_top = true;
  CHECK(codec::intra4x4_mode_available(intra4x4_mode::vertical_left, top_only));
  CHECK(codec::intra4x4_mode_available(intra4x4_mode::diagonal_down_left, top_only));
  CHECK_FALSE(codec::intra4x4_mode_available(intra4x4_mode::horizontal_up, top_only));
  CHECK_FALSE(codec::intra4x4_mode_available(intra4x4_mode::vertical_right, top_only));
  CHECK_THROWS_AS(predict4(intra4x4_mode::horizontal, top_only), smlm::assertion_error);
}

TEST_CASE("intra4x4: block order, above-right availability inside a macroblock, predicted mode") {
  for (int k = 0; k < 16; ++k) CHECK(codec::block4x4_index(codec::block4x4_column[k], codec::block4x4_row[k]) == k);
  // §6.4.11.4: blocks 3, 7, 11, 13 and 15 never have the above-right block; block 5 only
  // through the macroblock above-right; blocks 0, 1, 4 through the macroblock above.
  for (int k = 0; k < 16; ++k) {
    CAPTURE(k);
    const bool never = k == 3 || k == 7 || k == 11 || k == 13 || k == 15;
    if (never) CHECK_FALSE(codec::block4x4_has_top_right(k, true, true));
    else if (k == 5) {
      CHECK(codec::block4x4_has_top_right(k, true, true));
      CHECK_FALSE(codec::block4x4_has_top_right(k, true, false));
    } else if (k == 0 || k == 1 || k == 4) {
      CHECK(codec::block4x4_has_top_right(k, true, false));
      CHECK_FALSE(codec::block4x4_has_top_right(k, false, true));
    } else {
      CHECK(codec::block4x4_has_top_right(k, false, false));
    }
  }
  CHECK(codec::predicted_intra4x4_mode(true, intra4x4_mode::horizontal_up, true, intra4x4_mode::vertical_right) ==
        intra4x4_mode::vertical_right);
  CHECK(codec::predicted_intra4x4_mode(false, intra4x4_mode::vertical, true, intra4x4_mode::vertical) ==
        intra4x4_mode::dc);
}

TEST_CASE("intra16x16: vertical, horizontal, DC rules and plane on a linear picture") {
  // f(x, y) = 20 + 2x + y sampled on the neighbours.
  const auto f = [](int x, int y) { return 20 + 2 * x + y; };
  codec::Intra16x16Neighbours n;
  for (int k = 0; k < 16; ++k) {
    n.top[k] = static_cast<std::uint8_t>(f(k, -1));
    n.left[k] = static_cast<std::uint8_t>(f(-1, k));
  }
  n.top_left = static_cast<std::uint8_t>(f(-1, -1));
  n.has_top = n.has_left = n.has_top_left = true;
  std::array<std::uint8_t, 256> p{};
  // H = Σ (k+1)·2·(2 + 2k) = 816, b = (5·816 + 32) >> 6 = 64; V = 408, c = 32;
  // a = 16·(f(−1,15) + f(15,−1)) = 16·(33 + 49) = 1312; (1312 + 64(x−7) + 32(y−7) + 16) >> 5
  // = (656 + 64x + 32y) >> 5 = 20 + 2x + y.
  codec::predict_intra16x16_ref(intra16x16_mode::plane, n, p);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) CHECK(int{p[16 * y + x]} == f(x, y));
  codec::predict_intra16x16_ref(intra16x16_mode::vertical, n, p);
  CHECK(int{p[16 * 9 + 5]} == f(5, -1));
  codec::predict_intra16x16_ref(intra16x16_mode::horizontal, n, p);
  CHECK(int{p[16 * 9 + 5]} == f(-1, 9));
  // DC: Σ top = 16·19 + 2·120 = 544, Σ left = 16·18 + 120 = 408; (952 + 16) >> 5 = 30
  codec::predict_intra16x16_ref(intra16x16_mode::dc, n, p);
  CHECK(int{p[0]} == 30);
  n.has_top = n.has_top_left = false;  // (408 + 8) >> 4 = 26
  codec::predict_intra16x16_ref(intra16x16_mode::dc, n, p);
  CHECK(int{p[255]} == 26);
  CHECK_FALSE(codec::intra16x16_mode_available(intra16x16_mode::plane, n));
  CHECK_THROWS_AS(codec::predict_intra16x16_ref(intra16x16_mode::vertical, n, p), smlm::assertion_error);
  n.has_left = false;
  codec::predict_intra16x16_ref(intra16x16_mode::dc, n, p);
  CHECK(int{p[17]} == 128);
}

TEST_CASE("intra16x16: plane clips to [0, 255]") {
  codec::Intra16x16Neighbours n;
  for (int k = 0; k < 16; ++k) {
    n.top[k] = static_cast<std::uint8_t>(k < 8 ? 0 : 255);
    n.left[k] = static_cast<std::uint8_t>(k < 8 ? 0 : 255);
  }
  n.has_top = n.has_left = n.has_top_left = true;
  std::array<std::uint8_t, 256> p{};
  codec::predict_intra16x16_ref(intra16x16_mode::plane, n, p);
  // H = V = 255·Σ(k+1) = 9180, b = c = (45900 + 32) >> 6 = 717, a = 16·510 = 8160:
  // (0, 0): 8160 − 14·717 + 16 < 0 → 0; (15, 15): (8160 + 16·717 + 16) >> 5 > 255 → 255
  CHECK(int{p[0]} == 0);
  CHECK(int{p[255]} == 255);
  // (7, 7): (8160 + 16) >> 5 = 255
  CHECK(int{p[16 * 7 + 7]} == 255);
  // (3, 7): (8160 − 4·717 + 16) >> 5 = 5308 >> 5 = 165
  CHECK(int{p[16 * 7 + 3]} == 165);
}
