// Bit writer/reader, Exp-Golomb codes and run–level block coding.
//
// Expected bit patterns: H.264 Table 9-2 (ue: prefix of leadingZeroBits zeros, a 1, then the info
// bits) and Table 9-3 (se: codeNum 1, 2, 3, 4 ↔ 1, −1, 2, −2); run–level patterns worked out by
// hand from the format described in bitstream.hpp, shown at each case. Every buffer handed to a
// reader is an exactly sized heap allocation, so AddressSanitizer flags any read past its end.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <smlm/codec/bitstream.hpp>

namespace codec = smlm::codec;
using codec::bit_reader;
using codec::bit_writer;
using codec::bitstream_error;

namespace {

/// The bits of everything `write` puts, as a '0'/'1' string.
template <class Write>
std::string bits_of(Write write) {
  std::vector<std::uint8_t> buffer(4096);
  bit_writer writer(buffer);
  write(writer);
  const auto count = static_cast<std::size_t>(writer.bit_count());
  writer.finish();
  REQUIRE(writer.ok());
  std::string bits;
  for (std::size_t b = 0; b < count; ++b) bits += (buffer[b / 8] >> (7 - b % 8)) & 1 ? '1' : '0';
  return bits;
}

/// Exactly sized copy of `bits` ('0'/'1', padded with 0 to whole bytes).
std::vector<std::uint8_t> bytes_of(const std::string& bits) {
  std::vector<std::uint8_t> bytes((bits.size() + 7) / 8, 0);
  for (std::size_t b = 0; b < bits.size(); ++b)
    if (bits[b] == '1') bytes[b / 8] = static_cast<std::uint8_t>(bytes[b / 8] | (0x80 >> (b % 8)));
  return bytes;
}

std::vector<std::uint8_t> finished_bytes(bit_writer& writer, std::vector<std::uint8_t>& buffer) {
  const std::size_t n = writer.finish();
  return std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace

TEST_CASE("Exp-Golomb known bit patterns (Tables 9-2, 9-3)") {
  const std::vector<std::pair<std::uint32_t, std::string>> ue{
      {0, "1"},        {1, "010"},       {2, "011"},       {3, "00100"},      {4, "00101"},
      {5, "00110"},    {6, "00111"},     {7, "0001000"},   {8, "0001001"},    {14, "0001111"},
      {15, "000010000"}, {254, "000000011111111"}};
  for (const auto& [value, pattern] : ue) {
    INFO("ue(" << value << ")");
    CHECK(bits_of([&](bit_writer& w) { w.put_ue(value); }) == pattern);
  }
  const std::vector<std::pair<std::int32_t, std::string>> se{
      {0, "1"}, {1, "010"}, {-1, "011"}, {2, "00100"}, {-2, "00101"}, {3, "00110"}, {-3, "00111"}, {4, "0001000"}};
  for (const auto& [value, pattern] : se) {
    INFO("se(" << value << ")");
    CHECK(bits_of([&](bit_writer& w) { w.put_se(value); }) == pattern);
  }
  // The longest codes: ue(2^32 − 2) is 31 zeros, then 32 ones; se(−(2^31 − 1)) has codeNum 2^32 − 2.
  const std::string longest = std::string(31, '0') + std::string(32, '1');
  CHECK(bits_of([](bit_writer& w) { w.put_ue(codec::ue_max); }) == longest);
  CHECK(bits_of([](bit_writer& w) { w.put_se(-codec::se_max); }) == longest);
}

TEST_CASE("u(n) is written MSB first; trailing bits and alignment") {
  std::vector<std::uint8_t> buffer(16);
  bit_writer w(buffer);
  w.put_bits(0b101, 3);
  w.put_bits(0xABCD, 16);
  w.put_bits(0xFFFFFFFFu, 32);
  w.put_bits(0, 0);
  CHECK(w.bit_count() == 51);
  CHECK_FALSE(w.byte_aligned());
  // 101 1010101111001101 1×32 → 10110101 01111001 10111111 FF FF FF 111(00000)
  CHECK(finished_bytes(w, buffer) == std::vector<std::uint8_t>{0xB5, 0x79, 0xBF, 0xFF, 0xFF, 0xFF, 0xE0});
  CHECK(w.byte_aligned());

  std::vector<std::uint8_t> trailing(4);
  bit_writer t(trailing);
  t.put_bits(1, 3);
  t.put_trailing_bits();  // 001 1 0000
  t.put_bits(0xAB, 8);
  t.put_trailing_bits();  // aligned: a whole byte 1000 0000
  CHECK(finished_bytes(t, trailing) == std::vector<std::uint8_t>{0x30, 0xAB, 0x80});

  bit_reader r(std::span<const std::uint8_t>(buffer.data(), 7));
  CHECK(r.get_bits(3) == 0b101);
  CHECK(r.get_bits(16) == 0xABCD);
  CHECK(r.get_bits(32) == 0xFFFFFFFFu);
  CHECK(r.get_bits(0) == 0);
  CHECK(r.bits_left() == 5);
  CHECK(r.get_bits(5) == 0);
  CHECK(r.ok());
}

TEST_CASE("ue/se round trips: 0..100000, ±100000 and the edges of the range") {
  std::vector<std::uint8_t> stream;
  bit_writer w = bit_writer::appending_to(stream);
  const std::vector<std::uint32_t> ue_edges{0, 1, 2, (1u << 31) - 2, (1u << 31) - 1, 1u << 31, codec::ue_max - 1, codec::ue_max};
  const std::vector<std::int32_t> se_edges{0, 1, -1, 1 << 30, -(1 << 30), codec::se_max, -codec::se_max, codec::se_max - 1};
  bool reserved = true;
  for (std::uint32_t v = 0; v <= 100000; ++v) {
    reserved = reserved && w.reserve(16);
    w.put_ue(v);
  }
  for (std::int32_t v = -100000; v <= 100000; ++v) {
    reserved = reserved && w.reserve(16);
    w.put_se(v);
  }
  REQUIRE(reserved);
  REQUIRE(w.reserve(16 * (ue_edges.size() + se_edges.size())));
  for (auto v : ue_edges) w.put_ue(v);
  for (auto v : se_edges) w.put_se(v);
  const std::uint64_t bits = w.bit_count();
  const std::size_t bytes = w.finish();
  REQUIRE(w.ok());
  CHECK(stream.size() == bytes);
  CHECK(bytes == (bits + 7) / 8);

  const std::vector<std::uint8_t> exact(stream.begin(), stream.end());
  bit_reader r(exact);
  bool all = true;
  for (std::uint32_t v = 0; v <= 100000; ++v) all = all && r.get_ue() == v;
  for (std::int32_t v = -100000; v <= 100000; ++v) all = all && r.get_se() == v;
  CHECK(all);
  for (auto v : ue_edges) CHECK(r.get_ue() == v);
  for (auto v : se_edges) CHECK(r.get_se() == v);
  CHECK(r.ok());
  CHECK(r.bit_position() == bits);
  CHECK(r.bits_left() < 8);
}

TEST_CASE("reader: truncated, all-zero and over-long codes fail without reading out of bounds") {
  SUBCASE("empty input") {
    const std::vector<std::uint8_t> none;
    bit_reader r(none);
    CHECK(r.get_ue() == 0);
    CHECK(r.error() == bitstream_error::end_of_data);
    CHECK(r.get_bits(1) == 0);
    CHECK(r.bit_position() == 0);
  }
  SUBCASE("u(n) past the end, and the error is sticky") {
    const std::vector<std::uint8_t> one{0xFF};
    bit_reader r(one);
    CHECK(r.get_bits(9) == 0);
    CHECK(r.error() == bitstream_error::end_of_data);
    CHECK(r.bit_position() == 0);
    CHECK(r.get_bits(1) == 0);  // bits remain, but the stream has failed
    CHECK(r.get_ue() == 0);
    CHECK(r.get_se() == 0);
    CHECK(r.bit_position() == 0);
  }
  SUBCASE("all-zero bytes") {
    const std::vector<std::uint8_t> four(4, 0), five(5, 0);
    bit_reader short_zeros(four);  // only zeros until the end: truncated
    CHECK(short_zeros.get_ue() == 0);
    CHECK(short_zeros.error() == bitstream_error::end_of_data);
    bit_reader long_zeros(five);  // 32 zeros are present: no ue code can be that long
    CHECK(long_zeros.get_se() == 0);
    CHECK(long_zeros.error() == bitstream_error::code_too_long);
  }
  SUBCASE("31 zeros is the longest prefix") {
    const auto ok = bytes_of(std::string(31, '0') + "1" + std::string(31, '1'));
    bit_reader r(ok);
    CHECK(r.get_ue() == codec::ue_max);
    CHECK(r.ok());
    const auto too_long = bytes_of(std::string(32, '0') + "1" + std::string(32, '0'));
    bit_reader q(too_long);
    CHECK(q.get_ue() == 0);
    CHECK(q.error() == bitstream_error::code_too_long);
  }
  SUBCASE("a code cut by the end of the data") {
    // ue(1000): 1001 = 1111101001b, 9 zeros then 10 bits: 19 bits in 3 bytes; keep 2.
    const auto full = bytes_of(std::string(9, '0') + "1111101001");
    bit_reader whole(full);
    CHECK(whole.get_ue() == 1000);
    const std::vector<std::uint8_t> cut(full.begin(), full.begin() + 2);
    bit_reader r(cut);
    CHECK(r.get_ue() == 0);
    CHECK(r.error() == bitstream_error::end_of_data);
    CHECK(r.bit_position() == 0);
    bit_reader s(cut);
    CHECK(s.get_se() == 0);
    CHECK(s.error() == bitstream_error::end_of_data);
  }
}

TEST_CASE("reader on random bytes: every read stays inside the data and failures are sticky") {
  const unsigned seed = 8086;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  int failures = 0;
  bool sane = true;
  for (int n = 0; n < 3000; ++n) {
    const std::size_t size = rng() % 41;
    std::vector<std::uint8_t> bytes(size);  // exactly sized: ASan sees one byte past the end
    const int density = static_cast<int>(rng() % 4);  // mostly-zero bytes make long prefixes likely
    for (auto& b : bytes) b = static_cast<std::uint8_t>(density == 0 ? (rng() % 8 == 0 ? rng() : 0) : rng());
    bit_reader r(bytes);
    std::size_t last = 0;
    for (int op = 0; op < 400 && r.ok(); ++op) {
      switch (rng() % 4) {
        case 0: (void)r.get_ue(); break;
        case 1: (void)r.get_se(); break;
        case 2: (void)r.get_bits(static_cast<int>(rng() % 33)); break;
        default: {
          std::array<std::int16_t, 16> block{};
          const int count = 1 + static_cast<int>(rng() % 16);
          const int nonzero =
              codec::read_run_level(r, std::span<std::int16_t>(block.data(), static_cast<std::size_t>(count)));
          sane = sane && nonzero >= -1 && nonzero <= count;
          break;
        }
      }
      sane = sane && r.bit_position() >= last && r.bit_position() <= size * 8;
      last = r.bit_position();
    }
    if (!r.ok()) {
      ++failures;
      const std::size_t at = r.bit_position();
      sane = sane && r.get_ue() == 0 && r.get_bits(1) == 0 && r.bit_position() == at;
    }
  }
  CHECK(sane);
  CHECK(failures > 2500);  // random data almost always ends in an error
}

TEST_CASE("writer: a fixed buffer never overflows, an appending writer grows only in reserve()") {
  SUBCASE("fixed buffer") {
    std::array<std::uint8_t, 8> memory{};
    memory.fill(0xA5);
    bit_writer w(std::span<std::uint8_t>(memory.data() + 2, 3));  // guard bytes on both sides
    CHECK(w.reserve(3));
    CHECK_FALSE(w.reserve(4));
    for (int k = 0; k < 25; ++k) w.put_bits(0b1111, 4);
    CHECK(w.error() == bitstream_error::buffer_full);
    CHECK(w.bit_count() == 100);  // what the stream would need
    CHECK(w.written().size() == 3);
    CHECK(memory == std::array<std::uint8_t, 8>{0xA5, 0xA5, 0xFF, 0xFF, 0xFF, 0xA5, 0xA5, 0xA5});
  }
  SUBCASE("appending to a vector") {
    std::vector<std::uint8_t> storage{0x01, 0x02};
    bit_writer w = bit_writer::appending_to(storage);
    CHECK(w.reserve(0));
    w.put_bits(0xAB, 8);  // no room reserved: dropped
    CHECK(w.error() == bitstream_error::buffer_full);

    bit_writer v = bit_writer::appending_to(storage);
    REQUIRE(v.reserve(100));
    CHECK(storage.size() >= 102);
    v.put_bits(0xAB, 8);
    v.put_ue(2);  // 011
    CHECK(v.written().size() == 1);
    CHECK(v.finish() == 2);
    CHECK(v.ok());
    CHECK(storage == std::vector<std::uint8_t>{0x01, 0x02, 0xAB, 0x60});
    CHECK(v.written().size() == 2);
    REQUIRE(v.reserve(1));
    v.put_bits(0x7F, 8);
    CHECK(v.finish() == 3);
    CHECK(storage == std::vector<std::uint8_t>{0x01, 0x02, 0xAB, 0x60, 0x7F});
  }
}

TEST_CASE("preconditions of the writer are programming errors") {
  std::array<std::uint8_t, 16> memory{};
  bit_writer w(memory);
  CHECK_THROWS_AS(w.put_bits(0, 33), smlm::assertion_error);
  CHECK_THROWS_AS(w.put_bits(4, 2), smlm::assertion_error);
  CHECK_THROWS_AS(w.put_ue(0xFFFFFFFFu), smlm::assertion_error);
  CHECK_THROWS_AS(w.put_se(std::numeric_limits<std::int32_t>::min()), smlm::assertion_error);
  CHECK_THROWS_AS(codec::write_run_level(w, std::span<const std::int16_t>()), smlm::assertion_error);
  bit_reader r(memory);
  CHECK_THROWS_AS(r.get_bits(-1), smlm::assertion_error);
  CHECK(codec::to_string(bitstream_error::code_too_long) != codec::to_string(bitstream_error::end_of_data));
}

TEST_CASE("run-level coding: hand-worked bit patterns") {
  const auto coded = [](std::vector<std::int16_t> levels) {
    return bits_of([&](bit_writer& w) { codec::write_run_level(w, levels); });
  };
  CHECK(coded(std::vector<std::int16_t>(16, 0)) == "1");  // ue(0)
  CHECK(coded(std::vector<std::int16_t>(15, 0)) == "1");
  // (1, 0, 0, −1, 0…): ue(2) = 011; run 0 → 1, level +1 → code 0 → 1; run 2 → 011, level −1 →
  // code 1 → 010.
  std::vector<std::int16_t> two(16, 0);
  two[0] = 1;
  two[3] = -1;
  CHECK(coded(two) == "011" "1" "1" "011" "010");
  // Sixteen ones: ue(16) = 000010001, every run is implied 0, sixteen level codes ue(0) = 1.
  CHECK(coded(std::vector<std::int16_t>(16, 1)) == "000010001" + std::string(16, '1'));
  // 5 at the last position: ue(1) = 010, run 15 → 000010000, code 2·4 = 8 → 0001001.
  std::vector<std::int16_t> last(16, 0);
  last[15] = 5;
  CHECK(coded(last) == "010" "000010000" "0001001");
  // A 15-level AC block of −1s: ue(15), then 15 × ue(1).
  std::string expected = "000010000";
  for (int k = 0; k < 15; ++k) expected += "010";
  CHECK(coded(std::vector<std::int16_t>(15, -1)) == expected);
  // One level with positions to spare, then the tail: (0, 7, 0, …, 0, −2, 3) in 16: ue(3) = 00100;
  // run 1 → 010, 7 → code 12 → 0001101; run 12 → 0001101, −2 → code 3 → 00100; then 1 position
  // for 1 level: run omitted, 3 → code 4 → 00101.
  std::vector<std::int16_t> tail(16, 0);
  tail[1] = 7;
  tail[14] = -2;
  tail[15] = 3;
  CHECK(coded(tail) == "00100" "010" "0001101" "0001101" "00100" "00101");
}

TEST_CASE("run-level coding round-trips sparse, dense and extreme blocks") {
  const unsigned seed = 4711;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::vector<std::vector<std::int16_t>> blocks;
  for (int count = 1; count <= 16; ++count) {
    blocks.emplace_back(count, std::int16_t{-32768});
    blocks.emplace_back(count, std::int16_t{32767});
    blocks.emplace_back(count, std::int16_t{0});
    std::vector<std::int16_t> alternating(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) alternating[k] = static_cast<std::int16_t>(k % 2 ? -32768 : 32767);
    blocks.push_back(alternating);
    for (int n = 0; n < 60; ++n) {
      std::vector<std::int16_t> b(static_cast<std::size_t>(count), 0);
      const unsigned density = n % 3 == 0 ? 100 : (n % 3 == 1 ? 15 : 50);  // percent non-zero
      for (auto& v : b) {
        if (rng() % 100 >= density) continue;
        const int magnitude = n % 2 ? 1 + static_cast<int>(rng() % 3) : 1 + static_cast<int>(rng() % 32768);
        v = static_cast<std::int16_t>(rng() % 2 ? -magnitude : (magnitude == 32768 ? 32767 : magnitude));
      }
      blocks.push_back(b);
    }
  }
  std::vector<std::uint8_t> stream;
  bit_writer w = bit_writer::appending_to(stream);
  std::vector<std::uint64_t> ends;
  for (const auto& b : blocks) {
    REQUIRE(w.reserve(codec::run_level_max_bits(static_cast<int>(b.size())) / 8 + 1));
    const std::uint64_t before = w.bit_count();
    codec::write_run_level(w, b);
    CHECK(w.bit_count() - before <= codec::run_level_max_bits(static_cast<int>(b.size())));
    ends.push_back(w.bit_count());
  }
  w.finish();
  REQUIRE(w.ok());
  const std::vector<std::uint8_t> exact(stream.begin(), stream.end());
  bit_reader r(exact);
  for (std::size_t n = 0; n < blocks.size(); ++n) {
    std::vector<std::int16_t> decoded(blocks[n].size(), 99);
    const int nonzero = codec::read_run_level(r, decoded);
    int expected = 0;
    for (auto v : blocks[n]) expected += v != 0;
    CHECK(nonzero == expected);
    CHECK(decoded == blocks[n]);
    CHECK(r.bit_position() == ends[n]);
  }
  CHECK(r.ok());
}

TEST_CASE("run-level decoding rejects malformed blocks and leaves them all zero") {
  const auto read = [](const auto& write, int count, bitstream_error expected) {
    std::vector<std::uint8_t> buffer(64);
    bit_writer w(buffer);
    write(w);
    const std::size_t n = w.finish();
    const std::vector<std::uint8_t> exact(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    bit_reader r(exact);
    std::vector<std::int16_t> block(static_cast<std::size_t>(count), 7);
    const int result = codec::read_run_level(r, block);
    CHECK(result == -1);
    CHECK(r.error() == expected);
    CHECK(block == std::vector<std::int16_t>(static_cast<std::size_t>(count), 0));
    CHECK(codec::read_run_level(r, block) == -1);  // sticky
  };
  // More non-zero levels than positions.
  read([](bit_writer& w) { w.put_ue(17); }, 16, bitstream_error::value_out_of_range);
  read([](bit_writer& w) { w.put_ue(16); }, 15, bitstream_error::value_out_of_range);
  // A run past the end: 1 level, run 16 in a block of 16 (at most 15).
  read([](bit_writer& w) { w.put_ue(1); w.put_ue(16); w.put_ue(0); }, 16, bitstream_error::value_out_of_range);
  // Two levels, the first with run 15, leaves no room for the second (max run 14).
  read([](bit_writer& w) { w.put_ue(2); w.put_ue(15); w.put_ue(0); }, 16, bitstream_error::value_out_of_range);
  // Level codes beyond int16: 65536 (|level| 32769), and 65534 (+32768).
  read([](bit_writer& w) { w.put_ue(1); w.put_ue(0); w.put_ue(65536); }, 16, bitstream_error::value_out_of_range);
  read([](bit_writer& w) { w.put_ue(1); w.put_ue(0); w.put_ue(65534); }, 16, bitstream_error::value_out_of_range);
  // Truncated: announces 3 levels, carries 1 (the padding zeros then run out).
  read([](bit_writer& w) { w.put_ue(3); w.put_ue(0); w.put_ue(0); }, 16, bitstream_error::end_of_data);
  // −32768 (code 65535) is the last valid code.
  std::vector<std::uint8_t> buffer(16);
  bit_writer w(buffer);
  w.put_ue(1);
  w.put_ue(0);
  w.put_ue(65535);
  const std::size_t n = w.finish();
  bit_reader r(std::span<const std::uint8_t>(buffer.data(), n));
  std::array<std::int16_t, 16> block{};
  CHECK(codec::read_run_level(r, block) == 1);
  CHECK(block[0] == -32768);
}
