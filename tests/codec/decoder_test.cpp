// Bad bitstreams: wrong magic or version, absurd sizes, truncation at every byte, corrupted and
// random bytes. The decoder must stop with an error Status that names the field (and, for frame
// data, the frame, macroblock and byte) and never read out of bounds (the ASan build checks that).
#include "codec_fixtures.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace codec = smlm::codec;
using codec_test::Frame;

namespace {

std::vector<std::uint8_t> header_bytes(const codec::StreamHeader& h) {
  std::vector<std::uint8_t> out;
  auto w = codec::bit_writer::appending_to(out);
  w.reserve(64);
  codec::write_stream_header(h, w);
  w.finish();
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Decodes every frame of `stream`; returns the first error message, or "" when all decode.
std::string decode_all(std::span<const std::uint8_t> stream, std::size_t frames) {
  auto header = codec::read_stream_header(stream);
  if (!header) return header.message();
  codec::Decoder decoder(*header);
  Frame out(header->height, header->width);
  std::size_t offset = header->size_bytes;
  for (std::size_t f = 0; f < frames; ++f) {
    auto used = decoder.decode_frame(stream.subspan(offset), smlm::make_view(out), offset);
    if (!used) return used.message();
    offset += *used;
  }
  return {};
}

}  // namespace

TEST_CASE("decoder: the header round-trips and its fields are checked") {
  codec::StreamHeader h;
  h.width = 1000;
  h.height = 7;
  h.frame_count = 12345;
  h.gop = 17;
  h.qp = 51;
  h.deblock = true;
  h.grid_dx = 15;
  h.grid_dy = 3;
  h.search_range = 32;
  const auto bytes = header_bytes(h);
  auto back = codec::read_stream_header(bytes);
  REQUIRE(back.has_value());
  CHECK(back->width == 1000);
  CHECK(back->height == 7);
  CHECK(back->frame_count == 12345u);
  CHECK(back->gop == 17);
  CHECK(back->qp == 51);
  CHECK(back->deblock);
  CHECK_FALSE(back->intra_only);
  CHECK(back->grid_dx == 15);
  CHECK(back->grid_dy == 3);
  CHECK(back->search_range == 32);
  CHECK(back->size_bytes == bytes.size());

  SUBCASE("wrong magic") {
    auto bad = bytes;
    bad[0] = 'X';
    const auto e = codec::read_stream_header(bad);
    CHECK(contains(e.message(), "byte 0: magic 0x584d4c56"));
  }
  SUBCASE("wrong version") {
    auto bad = bytes;
    bad[4] = 2;
    const auto e = codec::read_stream_header(bad);
    CHECK(e.status().code() == smlm::errc::unsupported);
    CHECK(contains(e.message(), "byte 4: version 2 is not 1"));
  }
  SUBCASE("absurd sizes and out-of-range fields") {
    for (const auto& [field, edit] : std::vector<std::pair<std::string, std::function<void(codec::StreamHeader&)>>>{
             {"width 0 ", [](codec::StreamHeader& x) { x.width = 0; }},
             {"width 100000 ", [](codec::StreamHeader& x) { x.width = 100000; }},
             {"height 8193 ", [](codec::StreamHeader& x) { x.height = 8193; }},
             {"gop 0 ", [](codec::StreamHeader& x) { x.gop = 0; }},
             {"qp 52 ", [](codec::StreamHeader& x) { x.qp = 52; }},
             {"grid_dy 16 ", [](codec::StreamHeader& x) { x.grid_dy = 16; }},
             {"search_range 33 ", [](codec::StreamHeader& x) { x.search_range = 33; }}}) {
      CAPTURE(field);
      codec::StreamHeader bad = h;
      edit(bad);
      const auto e = codec::read_stream_header(header_bytes(bad));
      CHECK(contains(e.message(), field));
      CHECK(contains(e.message(), "header byte "));
    }
  }
  SUBCASE("truncated at every length") {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      const auto e = codec::read_stream_header(std::span(bytes).first(n));
      CHECK_FALSE(e.has_value());
      CHECK(contains(e.message(), "codec stream: header byte"));
    }
  }
}

TEST_CASE("decoder: truncated and corrupted frames fail with the frame, macroblock and byte") {
  const auto frames = codec_test::random_frames(40, 24, 3, 11);
  codec::Settings s;
  s.qp = 20;
  s.gop = 3;
  s.deblock = true;
  s.search_range = 2;
  const auto good = codec_test::round_trip(frames, s);
  CHECK(decode_all(good.stream, 3).empty());

  // Every truncation inside the frame data fails (the last frame's final byte holds its trailing bits).
  const std::size_t header = good.stream.size() - good.frame_bytes[0] - good.frame_bytes[1] - good.frame_bytes[2];
  for (std::size_t n = header; n < good.stream.size(); ++n) {
    CAPTURE(n);
    const std::string e = decode_all(std::span(good.stream).first(n), 3);
    CHECK(contains(e, "codec stream: frame "));
    CHECK(contains(e, "byte "));
  }

  // A P-frame first.
  auto p_first = good.stream;
  std::vector<std::uint8_t> only_p(p_first.begin(), p_first.begin() + static_cast<std::ptrdiff_t>(header));
  only_p.insert(only_p.end(), p_first.begin() + static_cast<std::ptrdiff_t>(header + good.frame_bytes[0]), p_first.end());
  {
    const std::string e = decode_all(only_p, 1);
    CHECK(contains(e, "frame 0, byte " + std::to_string(header) + ": frame_type 1: a P-frame needs an earlier frame"));
  }

  // Flipped bits anywhere: an error or a clean decode, never a crash or an out-of-bounds read.
  std::mt19937 rng(5);
  int errors = 0;
  for (int trial = 0; trial < 300; ++trial) {
    auto bad = good.stream;
    const std::size_t at = header + rng() % (bad.size() - header);
    bad[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    errors += !decode_all(bad, 3).empty();
  }
  CHECK(errors > 150);  // most corruptions are detected (by range checks or trailing-bit checks)
}

TEST_CASE("decoder: random bytes after a valid header never crash") {
  codec::StreamHeader h;
  h.width = 33;
  h.height = 17;
  h.gop = 2;
  h.search_range = 4;
  h.deblock = true;
  const std::uint32_t seed = 99;
  CAPTURE(seed);
  std::mt19937 rng(seed);
  int errors = 0;
  for (int trial = 0; trial < 500; ++trial) {
    auto bytes = header_bytes(h);
    const std::size_t n = rng() % 200;
    for (std::size_t k = 0; k < n; ++k) bytes.push_back(static_cast<std::uint8_t>(rng()));
    const std::string e = decode_all(bytes, 2);
    if (!e.empty()) {
      ++errors;
      CHECK(contains(e, "codec stream: "));
      CHECK(e.find('\n') == std::string::npos);
    }
  }
  CHECK(errors > 450);
}

TEST_CASE("decoder: out-of-range macroblock fields are named") {
  codec::StreamHeader h;
  h.width = 16;
  h.height = 16;
  const auto frame_with = [&](auto write) {
    auto bytes = header_bytes(h);
    auto w = codec::bit_writer::appending_to(bytes);
    w.reserve(64);
    write(w);
    w.put_trailing_bits();
    w.finish();
    return bytes;
  };
  const auto expect = [](const std::vector<std::uint8_t>& bytes, const std::string& part) {
    const std::string e = decode_all(bytes, 1);
    CHECK_MESSAGE(contains(e, part), e);
  };
  expect(frame_with([](codec::bit_writer& w) { w.put_ue(2); }), "frame_type 2 is not 0 (I) or 1 (P)");
  expect(frame_with([](codec::bit_writer& w) { w.put_ue(0); w.put_se(30); }),
         "frame_qp_delta 30: frame QP not in [0, 51]");
  expect(frame_with([](codec::bit_writer& w) { w.put_ue(0); w.put_se(0); w.put_ue(2); }),
         "macroblock (0, 0), byte 10: mb_type 2 is not in [0, 1]");
  expect(frame_with([](codec::bit_writer& w) {
                   w.put_ue(0); w.put_se(0); w.put_ue(0); w.put_se(-27);
                 }),
         "mb_qp_delta -27: QP -1 not in [0, 51]");
  // Vertical prediction in the top-left macroblock reads outside the picture.
  expect(frame_with([](codec::bit_writer& w) {
                   w.put_ue(0); w.put_se(0); w.put_ue(0); w.put_se(0); w.put_ue(0);
                 }),
         "intra16x16_pred_mode 0: needs neighbours outside the picture");
  // A DC block claiming 17 non-zero levels.
  expect(frame_with([](codec::bit_writer& w) {
                   w.put_ue(0); w.put_se(0); w.put_ue(0); w.put_se(0); w.put_ue(2); w.put_bit(false); w.put_ue(17);
                 }),
         "intra16x16_dc_levels: syntax element out of range");
}
