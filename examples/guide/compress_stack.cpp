// Compressing a movie the way a phone would: camera counts → 8-bit video → the H.264-style
// encoder → the bitstream → the decoder, with the cost (bits per pixel) and the damage (PSNR).
//
//   guide_compress_stack [IN.tif|-] [QUALITY] [OUT.tif]
//
// IN.tif is any greyscale TIFF stack; "-" (the default) simulates 20 EMCCD frames instead.
// QUALITY is 0..100 (default 60, codec::quality_to_qp); OUT.tif (default decoded.tif) receives the
// decoded 8-bit video.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/eval/image_metrics.hpp>
#include <smlm/io/tiff.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/sim/simulator.hpp>

// A whole number from the command line: true when all of `text` is one.
bool parse_whole_number(const char* text, int& value) {
  const char* end = text + std::strlen(text);
  return end != text && std::from_chars(text, end, value).ptr == end;
}

// One line on stderr naming what failed, and the exit status for it.
int fail(const std::string& message) {
  std::fprintf(stderr, "compress_stack: %s\n", message.c_str());
  return 1;
}

// 20 frames of 64 × 64 pixels: blinking emitters, the library's PSF and EMCCD camera.
smlm::Expected<smlm::Stack<float>> simulate_stack() {
  smlm::sim::SimulationConfig<float> config;
  config.background_photons = 20;
  std::vector<smlm::sim::Position> labels;
  SMLM_TRY(smlm::sim::uniform(config.field(), {.density_per_um2 = 20}, config.seed, labels));
  smlm::sim::Simulator simulator(smlm::psf::IntegratedGaussian<float>{.sigma_px = 1.1f}, smlm::camera::Emccd<float>{},
                                 config, labels);
  auto movie = smlm::sim::simulate(simulator, 20);
  if (!movie) return movie.status();
  return std::move(movie->stack);
}

int main(int argc, char** argv) {
  const std::string input = argc > 1 ? argv[1] : "-";
  int quality = 60;
  if (argc > 2 && !parse_whole_number(argv[2], quality))
    return fail(std::string("QUALITY \"") + argv[2] + "\" is not a whole number");
  const std::string output = argc > 3 ? argv[3] : "decoded.tif";

  smlm::codec::Settings settings;  // I-frame every 30 frames, P-frames between them
  settings.quality = quality;
  if (auto s = settings.validate(); !s.ok()) return fail(s.message());
  auto stack = input == "-" ? simulate_stack() : smlm::io::read_tiff_stack<float>(input);
  if (!stack) return fail(stack.message());
  const auto frames = stack->frames(), height = stack->height(), width = stack->width();

  // One fixed exposure for the whole movie: the stack's range onto the video levels 0..255.
  const auto [low, high] = std::minmax_element(stack->data(), stack->data() + stack->size());
  const auto exposure = smlm::codec::VideoConversion::spanning(*low, *high);

  auto encoder = smlm::codec::Encoder::create(settings, static_cast<int>(width), static_cast<int>(height),
                                              static_cast<std::uint32_t>(frames));
  auto writer = smlm::io::TiffWriter::create(output, smlm::io::pixel_type::u8, width, height, frames);
  if (!encoder) return fail(encoder.message());
  if (!writer) return fail(writer.message());
  // The decoder is built from the stream header, as a player receiving the stream would.
  std::vector<std::uint8_t> bytes;
  encoder->write_header(bytes);
  auto header = smlm::codec::read_stream_header(bytes);
  if (!header) return fail(header.message());
  smlm::codec::Decoder decoder(*header);
  std::size_t stream_bytes = bytes.size();

  smlm::Image<std::uint8_t> video(height, width), decoded(height, width);
  double squared_error = 0;
  for (std::ptrdiff_t f = 0; f < frames; ++f) {
    exposure.to_video(smlm::const_view(stack->frame(f)), smlm::make_view(video));
    bytes.clear();
    encoder->encode_frame(smlm::const_view(video), bytes);
    stream_bytes += bytes.size();
    if (auto used = decoder.decode_frame(bytes, smlm::make_view(decoded)); !used) return fail(used.message());
    squared_error += (video.cast<double>() - decoded.cast<double>()).square().sum();
    if (auto s = writer->write_frame(decoded); !s.ok()) return fail(s.message());
  }
  if (auto s = writer->close(); !s.ok()) return fail(s.message());

  const double pixels = static_cast<double>(frames * height * width);
  std::printf("frames=%td size=%tdx%td quality=%d qp=%d bpp=%.4f psnr=%.2f dB -> %s\n", frames, width, height, quality,
              settings.effective_qp(), 8.0 * static_cast<double>(stream_bytes) / pixels,
              smlm::eval::psnr_from_mse(squared_error / pixels, 255.0), output.c_str());
  return 0;
}
