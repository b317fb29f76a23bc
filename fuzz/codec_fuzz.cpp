// libFuzzer target for the codec (make fuzz).
//
// Input starting with 'S' (the stream magic's first byte): decoded as a bitstream. Property: the
// header and every frame either decode or fail with a one-line "codec stream: ..." Status; a
// frame that decodes consumes at least one byte and no more than it was given; nothing reads out
// of bounds (ASan/UBSan). Streams whose header asks for more than 64 macroblocks are skipped to keep
// executions fast (their size is legal; the decoder code path is the same).
//
// Any other input: bytes 1..4 pick the settings and size, the rest fill frames; the stream the
// encoder writes must decode to exactly the encoder's reconstruction.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "codec_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

void check_message(const std::string& message) {
  if (message.rfind("codec stream: ", 0) != 0 || message.find('\n') != std::string::npos)
    fail("an error must be one line starting with 'codec stream: ':", message);
}

void decode_stream(std::span<const std::uint8_t> data) {
  auto header = smlm::codec::read_stream_header(data);
  if (!header) return check_message(header.message());
  const auto g = smlm::codec::Geometry::of(header->width, header->height, header->grid_dx, header->grid_dy);
  if (g.mb_count() > 64) return;
  smlm::codec::Decoder decoder(*header);
  smlm::Image<std::uint8_t> out(header->height, header->width);
  std::size_t offset = header->size_bytes;
  while (offset < data.size()) {
    const auto rest = data.subspan(offset);
    auto used = decoder.decode_frame(rest, smlm::make_view(out), offset);
    if (!used) return check_message(used.message());
    if (*used == 0 || *used > rest.size()) fail("a decoded frame took an impossible number of bytes");
    offset += *used;
  }
}

void round_trip(std::span<const std::uint8_t> data) {
  if (data.size() < 5) return;
  smlm::codec::Settings s;
  s.qp = data[1] % 52;
  s.gop = 1 + data[2] % 3;
  s.deblock = (data[2] & 8) != 0;
  s.intra4x4 = (data[2] & 16) == 0;
  s.search_range = (data[2] >> 5) % 4;
  s.grid_dx = data[3] % 16;
  s.grid_dy = data[3] / 16;
  const int width = 1 + data[4] % 40, height = 1 + (data[4] / 40) % 24;
  auto encoder = smlm::codec::Encoder::create(s, width, height, 3);
  if (!encoder) fail("valid settings were rejected:", encoder.message());
  std::vector<std::uint8_t> stream;
  encoder->write_header(stream);
  auto header = smlm::codec::read_stream_header(stream);
  if (!header) fail("the encoder's header does not parse:", header.message());
  smlm::codec::Decoder decoder(*header);
  smlm::Image<std::uint8_t> frame(height, width), decoded(height, width), reconstruction(height, width);
  std::size_t k = 5;
  for (int f = 0; f < 3; ++f) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) frame(y, x) = data[k++ % data.size()];
    const std::size_t start = stream.size();
    encoder->encode_frame(smlm::const_view(frame), stream);
    auto used = decoder.decode_frame(std::span(stream).subspan(start), smlm::make_view(decoded), start);
    if (!used) fail("the encoder's stream does not decode:", used.message());
    encoder->reconstruction(smlm::make_view(reconstruction));
    if (*used != stream.size() - start || !(decoded == reconstruction).all())
      fail("decoder and encoder reconstructions differ");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (size > 0 && data[0] == 'S') decode_stream(bytes);
  else round_trip(bytes);
  return 0;
}
