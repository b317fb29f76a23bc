// Compile-and-run check of the codec without exceptions, RTTI or SIMD (the microcontroller path):
// one I- and one P-frame through encoder and decoder, bit-exact, with deblocking.
#include <smlm/smlm.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

int main() {
  smlm::codec::Settings settings;
  settings.qp = 28;
  settings.gop = 2;
  settings.deblock = true;
  settings.grid_dx = 3;
  auto encoder = smlm::codec::Encoder::create(settings, 24, 20, 2);
  if (!encoder) return 1;
  std::vector<std::uint8_t> stream;
  encoder->write_header(stream);
  smlm::Image<std::uint8_t> frame(20, 24), decoded(20, 24), reconstruction(20, 24);
  auto header = smlm::codec::read_stream_header(stream);
  if (!header) return 1;
  smlm::codec::Decoder decoder(*header);
  int failures = 0;
  for (int f = 0; f < 2; ++f) {
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 24; ++x) frame(y, x) = static_cast<std::uint8_t>((x * x + 3 * y + f) % 200);
    const std::size_t start = stream.size();
    encoder->encode_frame(smlm::const_view(frame), stream);
    auto used = decoder.decode_frame(std::span(stream).subspan(start), smlm::make_view(decoded));
    encoder->reconstruction(smlm::make_view(reconstruction));
    failures += !used || *used != stream.size() - start || !(decoded == reconstruction).all();
  }
  if (failures) std::fprintf(stderr, "noexcept_codec: %d frame(s) differ\n", failures);
  return failures == 0 ? 0 : 1;
}
