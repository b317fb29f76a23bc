// Dev tool for benchmarks/x264_compare.sh (not part of the library or the CMake build; the script
// compiles it). Raw video here is 8-bit grey, frames back to back, row-major: what ffmpeg reads
// and writes with `-f rawvideo -pix_fmt gray`.
//
//   codec_peer frames W H N OUT.raw          synthetic microscopy-like frames (codec_frames.hpp)
//   codec_peer tiff IN.tif OUT.raw           a TIFF stack as 8-bit video (first frame's range → 0..255);
//                                            prints "W H N"
//   codec_peer ours IN.raw W H N QP GOP [DEC.raw]
//                                            smlmkit encode + decode, 1 thread; prints bpp, PSNR,
//                                            SSIM, blockiness and the encode/decode CPU times
//   codec_peer compare SRC.raw DEC.raw W H N  PSNR, SSIM and blockiness of DEC against SRC
//
// Blockiness: mean |step| between neighbouring samples across the 4-sample grid lines divided by
// the mean |step| elsewhere (1: no block structure; block artefacts push it above 1).
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/eval/image_metrics.hpp>
#include <smlm/io/tiff_reader.hpp>

#include "codec_frames.hpp"

namespace {

using Frame = smlm::Image<std::uint8_t>;

std::vector<Frame> read_raw(const std::string& path, int w, int h, int n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<Frame> frames;
  for (int f = 0; f < n; ++f) {
    Frame frame(h, w);
    if (!in.read(reinterpret_cast<char*>(frame.data()), w * h)) {
      std::fprintf(stderr, "%s: frame %d missing\n", path.c_str(), f + 1);
      std::exit(1);
    }
    frames.push_back(frame);
  }
  return frames;
}
void write_raw(const std::string& path, const std::vector<Frame>& frames) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& f : frames) out.write(reinterpret_cast<const char*>(f.data()), f.size());
}

double blockiness(const std::vector<Frame>& frames) {
  double edge = 0, inner = 0, ne = 0, ni = 0;
  for (const auto& f : frames)
    for (int y = 0; y < f.rows(); ++y)
      for (int x = 0; x < f.cols(); ++x) {
        if (x > 0) {
          const double d = std::abs(int{f(y, x)} - int{f(y, x - 1)});
          (x % 4 == 0 ? edge : inner) += d;
          (x % 4 == 0 ? ne : ni) += 1;
        }
        if (y > 0) {
          const double d = std::abs(int{f(y, x)} - int{f(y - 1, x)});
          (y % 4 == 0 ? edge : inner) += d;
          (y % 4 == 0 ? ne : ni) += 1;
        }
      }
  return inner > 0 ? (edge / ne) / (inner / ni) : 1.0;
}

void print_quality(const std::vector<Frame>& src, const std::vector<Frame>& dec) {
  double se = 0, ssim = 0, n = 0;
  for (std::size_t f = 0; f < src.size(); ++f) {
    se += (src[f].cast<double>() - dec[f].cast<double>()).square().sum();
    n += static_cast<double>(src[f].size());
    ssim += smlm::eval::ssim(src[f], dec[f], 255);
  }
  std::printf(" psnr=%.2f ssim=%.4f blockiness=%.3f", smlm::eval::psnr_from_mse(se / n, 255), ssim / src.size(),
              blockiness(dec));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "frames" && argc == 6) {
    write_raw(argv[5], smlm_bench::microscopy_frames(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4])));
    return 0;
  }
  if (cmd == "tiff" && argc == 4) {
    auto reader = smlm::io::TiffReader::open(argv[2]);
    if (!reader) return std::fprintf(stderr, "%s\n", reader.message().c_str()), 1;
    std::vector<Frame> frames;
    smlm::Image<double> adu;
    smlm::codec::VideoConversion conversion;
    for (std::ptrdiff_t f = 0; f < reader->frames(); ++f) {
      if (!reader->read_frame(f, adu).ok()) return 1;
      if (f == 0) conversion = smlm::codec::VideoConversion::spanning(adu.minCoeff(), adu.maxCoeff());
      Frame frame(adu.rows(), adu.cols());
      conversion.to_video(smlm::const_view(adu), smlm::make_view(frame));
      frames.push_back(frame);
    }
    write_raw(argv[3], frames);
    std::printf("%td %td %td\n", reader->width(), reader->height(), reader->frames());
    return 0;
  }
  if (cmd == "ours" && (argc == 8 || argc == 9)) {
    const int w = std::atoi(argv[3]), h = std::atoi(argv[4]), n = std::atoi(argv[5]);
    const auto src = read_raw(argv[2], w, h, n);
    smlm::codec::Settings s;
    s.qp = std::atoi(argv[6]);
    s.gop = std::atoi(argv[7]);
    auto encoder = smlm::codec::Encoder::create(s, w, h, static_cast<std::uint32_t>(n));
    if (!encoder) return std::fprintf(stderr, "%s\n", encoder.message().c_str()), 1;
    std::vector<std::uint8_t> stream;
    const std::clock_t t0 = std::clock();  // process CPU time: other load on the machine does not count
    encoder->write_header(stream);
    for (const auto& f : src) encoder->encode_frame(smlm::const_view(f), stream);
    const std::clock_t t1 = std::clock();
    const auto header = smlm::codec::read_stream_header(stream);
    smlm::codec::Decoder decoder(*header);
    std::vector<Frame> dec(static_cast<std::size_t>(n), Frame(h, w));
    std::size_t offset = header->size_bytes;
    for (auto& f : dec) {
      auto used = decoder.decode_frame(std::span(stream).subspan(offset), smlm::make_view(f), offset);
      if (!used) return std::fprintf(stderr, "%s\n", used.message().c_str()), 1;
      offset += *used;
    }
    const std::clock_t t2 = std::clock();
    std::printf("bpp=%.4f", 8.0 * stream.size() / (double(w) * h * n));
    print_quality(src, dec);
    std::printf(" encode_s=%.4f decode_s=%.4f\n", double(t1 - t0) / CLOCKS_PER_SEC, double(t2 - t1) / CLOCKS_PER_SEC);
    if (argc == 9) write_raw(argv[8], dec);
    return 0;
  }
  if (cmd == "compare" && argc == 7) {
    const int w = std::atoi(argv[4]), h = std::atoi(argv[5]), n = std::atoi(argv[6]);
    print_quality(read_raw(argv[2], w, h, n), read_raw(argv[3], w, h, n));
    std::printf("\n");
    return 0;
  }
  std::fprintf(stderr, "usage: see the comment at the top of benchmarks/codec_peer.cpp\n");
  return 2;
}
