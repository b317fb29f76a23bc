// Zig-zag scan: the order of H.264 Table 8-13 (frame zig-zag), and scan/unscan as inverse
// permutations. The expected order is the table's (i, j) list, re-typed from the standard.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <utility>

#include <smlm/codec/scan.hpp>

namespace codec = smlm::codec;
using codec::block4x4;

TEST_CASE("zig-zag order is H.264 Table 8-13") {
  const std::array<std::pair<int, int>, 16> table{{{0, 0}, {0, 1}, {1, 0}, {2, 0}, {1, 1}, {0, 2}, {0, 3}, {1, 2},
                                                   {2, 1}, {3, 0}, {3, 1}, {2, 2}, {1, 3}, {2, 3}, {3, 2}, {3, 3}}};
  for (int k = 0; k < 16; ++k) {
    INFO("scan position " << k);
    CHECK(codec::zigzag_4x4[k] == codec::raster_index(table[k].first, table[k].second));
    CHECK(codec::zigzag_4x4_position[codec::zigzag_4x4[k]] == k);
  }
  // The anti-diagonals i + j = 0..6 in order; along odd diagonals the row index rises (down-left),
  // along even ones it falls (up-right).
  for (int k = 1; k < 16; ++k) {
    const int i0 = codec::zigzag_4x4[k - 1] / 4, j0 = codec::zigzag_4x4[k - 1] % 4;
    const int i1 = codec::zigzag_4x4[k] / 4, j1 = codec::zigzag_4x4[k] % 4;
    CHECK(i1 + j1 >= i0 + j0);
    CHECK(i1 + j1 <= i0 + j0 + 1);
    if (i1 + j1 == i0 + j0) CHECK(i1 - i0 == ((i1 + j1) % 2 == 1 ? 1 : -1));
  }
}

TEST_CASE("scan reads raster values in zig-zag order; unscan inverts it") {
  block4x4 raster{};
  for (int k = 0; k < 16; ++k) raster[k] = static_cast<std::int16_t>(k);
  block4x4 scanned{};
  codec::zigzag_scan_4x4_ref(raster, scanned);
  CHECK(scanned == block4x4{0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15});
  block4x4 back{};
  codec::zigzag_unscan_4x4_ref(scanned, back);
  CHECK(back == raster);

  const unsigned seed = 31;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int n = 0; n < 500; ++n) {
    block4x4 b{};
    for (auto& v : b) v = static_cast<std::int16_t>(static_cast<int>(rng() % 65536) - 32768);
    block4x4 s{}, r{};
    codec::zigzag_scan_4x4(b, s);
    codec::zigzag_unscan_4x4(s, r);
    CHECK(r == b);
    codec::zigzag_unscan_4x4(b, r);
    codec::zigzag_scan_4x4(r, s);
    CHECK(s == b);
    block4x4 in_place = b;
    codec::zigzag_scan_4x4(in_place, in_place);
    codec::zigzag_scan_4x4(b, s);
    CHECK(in_place == s);
    codec::zigzag_unscan_4x4(in_place, in_place);
    CHECK(in_place == b);
  }
}
