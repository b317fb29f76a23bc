// `smlm codec IN.tif -o OUT.tif [--quality Q | --qp N] [--gop N] [--deblock] [--grid-offset DX,DY]`:
// encodes a stack with smlmkit's H.264-style codec, decodes it, writes the decoded stack and
// prints one line `bpp=<bits per pixel> psnr=<dB> ssim=<0..1>`.
//
// 8-bit input is coded as it is. Other input (16-bit camera frames) first goes through the
// phone-pipeline conversion to 8-bit video (codec::VideoConversion): by default the span
// [min, max] of the first frame maps onto 0..255 and stays fixed for the whole movie (later
// frames may clip), or --offset/--gain set it. The output is the decoded 8-bit video; PSNR and
// SSIM (data range 255) compare it with the 8-bit frames that went into the encoder. bpp counts
// every bit of the stream, header included. The stack is streamed: one frame in memory at a time.
#pragma once

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/eval/image_metrics.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct CodecOptions {
  std::string input, output, stream;
  int quality = -1, qp = -1, gop = 30, search = 0;
  bool deblock = false, intra_only = false, no_decimate = false, no_intra4x4 = false;
  std::vector<int> grid_offset;
  double offset_adu = std::nan(""), gain = std::nan("");
};

inline void run_codec(const CodecOptions& o) {
  codec::Settings s;
  if (o.quality >= 0) s.quality = o.quality;
  s.qp = o.qp >= 0 ? o.qp : codec::quality_to_qp(50);
  s.gop = o.gop;
  s.deblock = o.deblock;
  s.intra_only = o.intra_only;
  s.search_range = o.search;
  s.decimate = !o.no_decimate;
  s.intra4x4 = !o.no_intra4x4;
  if (!o.grid_offset.empty()) {
    s.grid_dx = o.grid_offset[0];
    s.grid_dy = o.grid_offset[1];
  }
  check(s.validate());

  auto reader = unwrap(io::TiffReader::open(o.input));
  const auto width = reader.width(), height = reader.height(), frames = reader.frames();
  if (width > codec::stream_max_dimension || height > codec::stream_max_dimension)
    throw cli_error(str_cat(o.input, ": frame size ", width, "x", height, " exceeds the codec's ",
                            codec::stream_max_dimension, " samples per side"));
  const bool eight_bit = reader.info().type == io::pixel_type::u8;
  auto encoder = unwrap(codec::Encoder::create(s, static_cast<int>(width), static_cast<int>(height),
                                               static_cast<std::uint32_t>(frames)));
  auto writer = unwrap(io::TiffWriter::create(o.output, io::pixel_type::u8, width, height, frames));
  std::FILE* stream_file = nullptr;
  if (!o.stream.empty()) {
    stream_file = std::fopen(o.stream.c_str(), "wb");
    if (stream_file == nullptr) throw cli_error(str_cat(o.stream, ": cannot create"));
  }
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream_guard(stream_file, stream_file ? &std::fclose : nullptr);

  std::vector<std::uint8_t> bytes;
  encoder.write_header(bytes);
  const auto header = unwrap(codec::read_stream_header(bytes));
  codec::Decoder decoder(header);
  std::uint64_t total_bytes = bytes.size();
  if (stream_file) std::fwrite(bytes.data(), 1, bytes.size(), stream_file);

  Image<std::uint8_t> video(height, width), decoded(height, width), reconstruction(height, width);
  Image<double> camera;
  codec::VideoConversion conversion;
  double squared_error = 0, ssim_sum = 0;
  for (std::ptrdiff_t f = 0; f < frames; ++f) {
    if (eight_bit) {
      check(reader.read_frame(f, video));
    } else {
      check(reader.read_frame(f, camera));
      if (f == 0) {
        const double low = std::isnan(o.offset_adu) ? camera.minCoeff() : o.offset_adu;
        conversion = std::isnan(o.gain) ? codec::VideoConversion::spanning(low, camera.maxCoeff())
                                        : codec::VideoConversion{low, o.gain};
      }
      conversion.to_video(const_view(camera), make_view(video));
    }
    bytes.clear();
    encoder.encode_frame(const_view(video), bytes);
    total_bytes += bytes.size();
    if (stream_file) std::fwrite(bytes.data(), 1, bytes.size(), stream_file);
    const auto used = unwrap(decoder.decode_frame(bytes, make_view(decoded), static_cast<std::size_t>(total_bytes - bytes.size())));
    encoder.reconstruction(make_view(reconstruction));
    if (used != bytes.size() || !(decoded == reconstruction).all())
      throw cli_error(str_cat(o.input, ": frame ", f + 1, ": decoder and encoder disagree (a codec bug)"));
    check(writer.write_frame(decoded));
    squared_error += (video.cast<double>() - decoded.cast<double>()).square().sum();
    ssim_sum += eval::ssim(video, decoded, 255.0);
  }
  check(writer.close());
  const double pixels = static_cast<double>(width * height * frames);
  const double psnr = eval::psnr_from_mse(squared_error / pixels, 255.0);
  const double bpp = 8.0 * static_cast<double>(total_bytes) / pixels, ssim = ssim_sum / static_cast<double>(frames);
  if (std::isinf(psnr)) std::printf("bpp=%.4f psnr=inf ssim=%.4f\n", bpp, ssim);
  else std::printf("bpp=%.4f psnr=%.2f ssim=%.4f\n", bpp, psnr, ssim);
}

inline void register_codec(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("codec", "encode and decode a stack with the H.264-style codec; print bpp, PSNR, SSIM");
  auto o = std::make_shared<CodecOptions>();
  cmd->add_option("IN", o->input, "input TIFF stack (8-bit video, or camera frames to convert)")->required();
  cmd->add_option("-o,--output", o->output, "decoded 8-bit TIFF stack")->required();
  auto* quality = cmd->add_option("--quality", o->quality, "quality 0..100 (QP = round(51·(100 − Q)/100))")
                      ->check(CLI::Range(0, 100));
  auto* qp = cmd->add_option("--qp", o->qp, "quantization parameter 0..51 (default: quality 50 = QP 26)")
                 ->check(CLI::Range(0, 51));
  quality->excludes(qp);
  cmd->add_option("--gop", o->gop, "I-frame period in frames (1 = intra only)")->check(CLI::Range(1, 65535));
  cmd->add_flag("--deblock", o->deblock, "in-loop deblocking filter");
  cmd->add_flag("--intra-only", o->intra_only, "code every frame as an I-frame");
  cmd->add_option("--search", o->search, "P-frame integer motion search range in samples (0..32)")
      ->check(CLI::Range(0, codec::search_range_max));
  cmd->add_flag("--no-decimate", o->no_decimate, "keep isolated ±1 inter residuals (default: drop them, as x264 does)");
  cmd->add_flag("--no-intra4x4", o->no_intra4x4, "Intra16x16 macroblocks only (x264 ultrafast's partitions; faster)");
  cmd->add_option("--grid-offset", o->grid_offset, "shift of the frame against the block grid, DX,DY in 0..15")
      ->delimiter(',')
      ->expected(2)
      ->check(CLI::Range(0, codec::grid_offset_max));
  // --video-offset / --video-gain, as in `smlm simulate --quality` (--offset / --gain: the names before).
  cmd->add_option("--video-offset,--offset", o->offset_adu,
                  "camera count mapped to video level 0 (default: first frame's minimum)");
  cmd->add_option("--video-gain,--gain", o->gain, "video levels per camera count (default: first frame's range onto 0..255)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stream", o->stream, "also write the bitstream to this file");
  cmd->callback([o, &exit_code] {
    run_codec(*o);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
