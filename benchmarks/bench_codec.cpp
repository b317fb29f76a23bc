// Codec throughput, one thread: encode and decode of 8-frame microscopy-like sequences
// (codec_frames.hpp) at 128 × 128 and 512 × 512, I-only (GOP 1) and GOP 8 (one I-frame, seven
// P-frames, zero motion), QP 26. Counter Mpix/s = frame samples coded per second / 10^6.
// Kernel-level figures (SIMD vs reference) are in BM_kernel_*.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <smlm/codec/decoder.hpp>
#include <smlm/codec/encoder.hpp>

#include "codec_frames.hpp"
#include "codec_x264_peer.hpp"

namespace {

namespace codec = smlm::codec;
constexpr int sequence = 8;

codec::Settings settings_for(int gop, bool intra4x4 = true) {
  codec::Settings s;
  s.qp = 26;
  s.gop = gop;
  s.intra4x4 = intra4x4;
  return s;
}

void set_rate(benchmark::State& state, int size) {
  state.counters["Mpix/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * sequence * size * size / 1e6,
                                                benchmark::Counter::kIsRate);
}

void BM_encode(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0)), gop = static_cast<int>(state.range(1));
  const bool intra4x4 = state.range(2) != 0;
  const auto frames = smlm_bench::microscopy_frames(size, size, sequence);
  std::vector<std::uint8_t> stream;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto encoder = codec::Encoder::create(settings_for(gop, intra4x4), size, size, sequence);
    stream.clear();
    encoder->write_header(stream);
    for (const auto& f : frames) encoder->encode_frame(smlm::const_view(f), stream);
    bytes = stream.size();
    benchmark::DoNotOptimize(stream.data());
  }
  set_rate(state, size);
  state.counters["bpp"] = 8.0 * static_cast<double>(bytes) / (sequence * size * size);
}

void BM_decode(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0)), gop = static_cast<int>(state.range(1));
  const bool intra4x4 = state.range(2) != 0;
  const auto frames = smlm_bench::microscopy_frames(size, size, sequence);
  std::vector<std::uint8_t> stream;
  auto encoder = codec::Encoder::create(settings_for(gop, intra4x4), size, size, sequence);
  encoder->write_header(stream);
  for (const auto& f : frames) encoder->encode_frame(smlm::const_view(f), stream);
  const auto header = codec::read_stream_header(stream);
  smlm::Image<std::uint8_t> out(size, size);
  for (auto _ : state) {
    codec::Decoder decoder(*header);
    std::size_t offset = header->size_bytes;
    for (int f = 0; f < sequence; ++f) {
      auto used = decoder.decode_frame(std::span(stream).subspan(offset), smlm::make_view(out), offset);
      if (!used) {
        state.SkipWithError(used.message().c_str());
        return;
      }
      offset += *used;
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, size);
}

// i4x4:0 is Intra16×16 only, the partition set of x264's ultrafast preset (--partitions none).
BENCHMARK(BM_encode)->ArgNames({"size", "gop", "i4x4"})->ArgsProduct({{128, 512}, {1, 8}, {1, 0}})
    ->Unit(benchmark::kMillisecond);
// i4x4 says which encoder wrote the stream (i4x4:0 has no Intra4×4 macroblocks, like x264 ultrafast's).
BENCHMARK(BM_decode)->ArgNames({"size", "gop", "i4x4"})->ArgsProduct({{128, 512}, {1, 8}, {1, 0}})
    ->Unit(benchmark::kMillisecond);

#if defined(SMLM_BENCH_X264)
// The same frames through libx264 -preset ultrafast (codec_x264_peer.hpp). The encoder stays open
// across iterations (its start-up is not counted); keyint = GOP, so each iteration's 8 frames
// start with an IDR frame exactly as ours do.
void BM_x264_encode(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0)), gop = static_cast<int>(state.range(1));
  const auto frames = smlm_bench::microscopy_frames(size, size, sequence);
  smlm_bench::X264Peer x264(size, size, 26, gop, state.range(2) != 0 ? "superfast" : "ultrafast");
  if (!x264.ok()) {
    state.SkipWithError("x264_encoder_open failed");
    return;
  }
  std::vector<std::uint8_t> stream;
  std::size_t bytes = 0;
  for (auto _ : state) {
    stream.clear();
    for (const auto& f : frames) x264.encode(f, stream);
    bytes = stream.size();
    benchmark::DoNotOptimize(stream.data());
  }
  set_rate(state, size);
  state.counters["bpp"] = 8.0 * static_cast<double>(bytes) / (sequence * size * size);
}
// superfast:0 is -preset ultrafast, superfast:1 -preset superfast.
BENCHMARK(BM_x264_encode)->ArgNames({"size", "gop", "superfast"})->ArgsProduct({{128, 512}, {1, 8}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

#if defined(SMLM_BENCH_AVCODEC)
// libavcodec's H.264 decoder (one thread) on x264's stream of the same frames.
void BM_avcodec_decode(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0)), gop = static_cast<int>(state.range(1));
  const auto frames = smlm_bench::microscopy_frames(size, size, sequence);
  smlm_bench::X264Peer x264(size, size, 26, gop);
  std::vector<std::uint8_t> stream;
  std::vector<std::size_t> ends;
  for (const auto& f : frames) {
    x264.encode(f, stream);
    ends.push_back(stream.size());
  }
  std::uint64_t sum = 0;
  for (auto _ : state) {
    smlm_bench::AvcodecPeer decoder;
    std::size_t begin = 0;
    int decoded = 0;
    for (const std::size_t end : ends) {
      const int n = decoder.decode(stream.data() + begin, end - begin, sum);
      if (n < 0) {
        state.SkipWithError("avcodec_send_packet failed");
        return;
      }
      decoded += n;
      begin = end;
    }
    if (decoded != sequence) {
      state.SkipWithError("libavcodec did not return every frame");
      return;
    }
  }
  benchmark::DoNotOptimize(sum);
  set_rate(state, size);
}
BENCHMARK(BM_avcodec_decode)->ArgNames({"size", "gop"})->ArgsProduct({{128, 512}, {1, 8}})->Unit(benchmark::kMillisecond);
#endif
#endif

// Kernels on 256 blocks (a 64 × 64 region): the scalar reference against the xsimd version.
std::vector<codec::block4x4> kernel_blocks() {
  std::vector<codec::block4x4> blocks(256);
  std::uint32_t x = 12345;
  for (auto& b : blocks)
    for (auto& v : b) v = static_cast<std::int16_t>((x = x * 1664525u + 1013904223u) >> 23) - 255;
  return blocks;
}
template <void (*Kernel)(std::span<const std::int16_t, 16>, std::span<std::int16_t, 16>)>
void BM_kernel_transform(benchmark::State& state) {
  auto blocks = kernel_blocks();
  codec::block4x4 out{};
  for (auto _ : state)
    for (const auto& b : blocks) {
      Kernel(b, out);
      benchmark::DoNotOptimize(out);
    }
  state.SetItemsProcessed(state.iterations() * 256);
}
template <int (*Kernel)(std::span<const std::int16_t, 16>, std::span<std::int16_t, 16>, int, codec::quant_mode)>
void BM_kernel_quant(benchmark::State& state) {
  auto blocks = kernel_blocks();
  codec::block4x4 out{};
  for (auto _ : state)
    for (const auto& b : blocks) benchmark::DoNotOptimize(Kernel(b, out, 26, codec::quant_mode::intra));
  state.SetItemsProcessed(state.iterations() * 256);
}
template <int (*Kernel)(const std::uint8_t*, std::ptrdiff_t, const std::uint8_t*, std::ptrdiff_t)>
void BM_kernel_cost(benchmark::State& state) {
  const auto frames = smlm_bench::microscopy_frames(64, 64, 2);
  for (auto _ : state)
    for (int by = 0; by < 16; ++by)
      for (int bx = 0; bx < 16; ++bx)
        benchmark::DoNotOptimize(Kernel(frames[0].data() + 4 * (64 * by + bx), 64, frames[1].data() + 4 * (64 * by + bx), 64));
  state.SetItemsProcessed(state.iterations() * 256);
}
#if !defined(SMLM_NO_SIMD)
BENCHMARK(BM_kernel_transform<codec::forward_4x4_ref>)->Name("BM_kernel_forward_4x4_ref");
BENCHMARK(BM_kernel_transform<codec::forward_4x4_simd>)->Name("BM_kernel_forward_4x4_simd");
BENCHMARK(BM_kernel_transform<codec::inverse_4x4_ref>)->Name("BM_kernel_inverse_4x4_ref");
BENCHMARK(BM_kernel_transform<codec::inverse_4x4_simd>)->Name("BM_kernel_inverse_4x4_simd");
BENCHMARK(BM_kernel_quant<codec::quantize_4x4_ref>)->Name("BM_kernel_quantize_4x4_ref");
BENCHMARK(BM_kernel_quant<codec::quantize_4x4_simd>)->Name("BM_kernel_quantize_4x4_simd");
BENCHMARK(BM_kernel_cost<codec::sad_4x4_ref>)->Name("BM_kernel_sad_4x4_ref");
BENCHMARK(BM_kernel_cost<codec::sad_4x4_simd>)->Name("BM_kernel_sad_4x4_simd");
BENCHMARK(BM_kernel_cost<codec::satd_4x4_ref>)->Name("BM_kernel_satd_4x4_ref");
BENCHMARK(BM_kernel_cost<codec::satd_4x4_simd>)->Name("BM_kernel_satd_4x4_simd");

#endif
}  // namespace
