// Network-engine benchmarks: the Deep-STORM network (Nehme et al., Optica 2018) forward and
// training step, the U-Net presets of nn/unet.hpp (nn::DeepStorm, nn::SubPixel) as `smlm train`
// and `smlm reconstruct` run them, cellSTORM's generators (nn::CellStorm, nn::CellStormShuffle)
// beside nn::SubPixel on 128 × 128 phone frames, the U-Nets' data-movement ops (pixel shuffle,
// nearest up-sampling, concat) against their `_ref` twins, single large convolutions, and the
// machine's float32 FMA peak that the GFLOP/s figures are compared with. Everything runs on a WorkerPool
// of 2 threads unless the name says otherwise. PyTorch's figures for the same shapes come from
// torch_compare.py.
//
//   build/release/benchmarks/bench_nn --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// The machine these figures come from is shared: the Time column is wall-clock, the CPU column
// is the CPU time of the whole process (both threads), which is less sensitive to other load.
// Counters: GFLOPs = convolution multiply–adds × 2 per second (the convolutions are > 99% of
// the arithmetic; batch norm, pooling and the loss are not counted), in units of 1e9.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <thread>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/deep/decode.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/nn/nn.hpp>
#include <smlm/nn/unet.hpp>

namespace nn = smlm::nn;

namespace {

// --- FMA peak ---------------------------------------------------------------------------------

// Independent chains of FMAs on full-width registers, enough to cover FMA latency × ports on
// current cores: 16 chains of 16 lanes with AVX-512 (32 zmm registers), 12 chains of 8 lanes
// otherwise (16 ymm registers: 16 chains of 16 lanes there would spill and measure the stack).
#if defined(__AVX512F__)
constexpr int lanes = 16, chains = 16;
#else
constexpr int lanes = 8, chains = 12;
#endif
using vfloat = float __attribute__((vector_size(4 * lanes)));

[[gnu::noinline]] float fma_loop(std::int64_t iters, float seed) {
  vfloat acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = vfloat{} + seed * float(c + 1);
  const vfloat a = vfloat{} + 0.999999f, b = vfloat{} + 1e-7f;
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < chains; ++c) acc[c] = acc[c] * a + b;
  }
  float s = 0;
  for (int c = 0; c < chains; ++c)
    for (int l = 0; l < lanes; ++l) s += acc[c][l];
  return s;
}

void BM_fma_peak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t iters = 20'000'000;
  for (auto _ : state) {
    std::vector<std::thread> pool;
    std::vector<float> out(threads);
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { out[t] = fma_loop(iters, 1e-3f * float(t + 1)); });
    for (auto& t : pool) t.join();
    benchmark::DoNotOptimize(out.data());
  }
  const double flops = 2.0 * lanes * chains * double(iters) * threads;
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_fma_peak)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

// --- the Deep-STORM network -------------------------------------------------------------------

using Block = nn::ConvBnAct<float>;
using Pool = nn::MaxPool2<float>;
using Up = nn::UpsampleNearest<float>;
using DeepStorm = nn::Sequential<Block, Pool, Block, Pool, Block, Pool, Block, Up, Block, Up, Block, Up, Block,
                                 nn::Conv2d<float>>;

DeepStorm make_deep_storm() {
  auto b = [](std::ptrdiff_t i, std::ptrdiff_t o) { return nn::conv_bn_act<float>(i, o, 3); };
  DeepStorm net(b(1, 32), Pool{}, b(32, 64), Pool{}, b(64, 128), Pool{}, b(128, 512), Up{2}, b(512, 128), Up{2},
                b(128, 64), Up{2}, b(64, 32), nn::Conv2d<float>(32, 1, 1));
  std::uint32_t stream = 0;
  net.init(2018, stream);
  return net;
}

/// Convolution FLOPs of one forward pass of one sample of size h × w; backward_flops adds the
/// weight gradient of every conv and the input gradient of every conv but the first.
struct Flops {
  double forward = 0, backward = 0;
};
Flops deep_storm_flops(std::ptrdiff_t h, std::ptrdiff_t w) {
  struct L {
    std::ptrdiff_t cin, cout, k, scale;  // scale: plane is (h, w) / scale
  };
  const L layers[] = {{1, 32, 3, 1},   {32, 64, 3, 2},  {64, 128, 3, 4}, {128, 512, 3, 8},
                      {512, 128, 3, 4}, {128, 64, 3, 2}, {64, 32, 3, 1},  {32, 1, 1, 1}};
  Flops f;
  bool first = true;
  for (const L& l : layers) {
    const double c = 2.0 * double(l.cin * l.cout * l.k * l.k) * double(h / l.scale) * double(w / l.scale);
    f.forward += c;
    f.backward += first ? c : 2 * c;
    first = false;
  }
  return f;
}

void BM_deep_storm_forward(benchmark::State& state, std::ptrdiff_t batch, std::ptrdiff_t size) {
  nn::WorkerPool pool(2);
  DeepStorm net = make_deep_storm();
  nn::Tensor<float> x({batch, 1, size, size}, 0.5f);
  nn::Tape<float> tape(&pool);
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  // Two untimed passes first: the first sizes the arena, the second runs in the merged block
  // (and the OS maps its pages); the timed passes are the steady state, which allocates nothing.
  for (int warm = 0; warm < 2; ++warm) {
    tape.reset();
    net.forward(tape, tape.input(x.view()));
  }
  for (auto _ : state) {
    tape.reset();
    auto y = net.forward(tape, tape.input(x.view()));
    benchmark::DoNotOptimize(y.value.data());
  }
  const double flops = deep_storm_flops(size, size).forward * double(batch);
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["arena_MB"] = double(tape.arena().peak_bytes()) / 1e6;
}
void BM_deep_storm_forward_512(benchmark::State& state) { BM_deep_storm_forward(state, 1, 512); }
void BM_deep_storm_forward_16x128(benchmark::State& state) { BM_deep_storm_forward(state, 16, 128); }
BENCHMARK(BM_deep_storm_forward_512)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_deep_storm_forward_16x128)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);

void BM_deep_storm_train_step_16x128(benchmark::State& state) {
  nn::WorkerPool pool(2);
  DeepStorm net = make_deep_storm();
  nn::Tensor<float> x({16, 1, 128, 128}), target({16, 1, 128, 128});
  smlm::Philox4x32 rng(1, 0, smlm::rng_purpose::user);
  for (auto& v : x) v = smlm::uniform01<float>(rng);
  for (auto& v : target) v = smlm::uniform01<float>(rng) < 0.01f ? 1.0f : 0.0f;
  nn::Adam<float> adam({.lr = 1e-3});
  nn::Tape<float> tape(&pool);
  auto step = [&] {
    tape.reset();
    nn::zero_grad(net);
    auto loss = nn::deep_storm_loss(tape, net.forward(tape, tape.input(x.view())), tape.input(target.view()));
    tape.backward(loss);
    adam.step(net);
    return loss.value[0];
  };
  step();  // untimed: sizes the arena and Adam's moments; the second merges the arena blocks
  step();
  for (auto _ : state) {
    benchmark::DoNotOptimize(step());
  }
  const Flops f = deep_storm_flops(128, 128);
  const double flops = (f.forward + f.backward) * 16;
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["arena_MB"] = double(tape.arena().peak_bytes()) / 1e6;
}
BENCHMARK(BM_deep_storm_train_step_16x128)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);

// --- the U-Net presets (nn/unet.hpp) ---------------------------------------------------------

// Both presets at r = 8, He-initialised from a fixed seed (random weights: the arithmetic does
// not depend on the values). Shapes are those of `smlm train` (batch 16 of 16 × 16 camera
// pixels for deep_storm, 32 × 32 for sub_pixel) and `smlm reconstruct` (64 × 64 frames, 4 per
// forward pass, one tile per frame). The phone cases run cellSTORM's generators and sub_pixel at
// cellSTORM's r = 4 (deep::default_upsample of cell_storm and cell_storm_shuffle) on single
// 128 × 128 frames.
constexpr int preset_upsample = 8;
constexpr int phone_upsample = 4;

template <class Net>
constexpr bool enlarges_input = Net::config.resolution == nn::Resolution::input_upsample;

template <class Net>
Net make_preset(int upsample = preset_upsample) {
  Net net(upsample);
  net.init(2018);
  return net;
}

/// Convolution FLOPs of one sample of h × w camera pixels at up-sampling r (forward; backward =
/// weight gradients of every conv + input gradients of all but the first), from the presets'
/// layer lists. Plane sizes are (camera size × r) / scale for the presets that enlarge their
/// input ×r (deep_storm, cell_storm), camera size / scale for the others; scale is that of the
/// conv's output (a stride-2 conv is counted at the plane it writes).
template <class Net>
Flops preset_flops(std::ptrdiff_t h, std::ptrdiff_t w, int upsample = preset_upsample) {
  struct L {
    std::ptrdiff_t cin, cout, k, scale;
  };
  constexpr nn::UNetConfig config = Net::config;
  namespace presets = nn::unet_presets;
  static_assert(config == presets::deep_storm || config == presets::sub_pixel || config == presets::cell_storm ||
                    config == presets::cell_storm_shuffle,
                "preset_flops: layer lists exist for the presets of nn/unet.hpp only");
  const std::ptrdiff_t r2 = std::ptrdiff_t(upsample) * upsample;
  std::vector<L> layers;
  if constexpr (config == presets::deep_storm) {
    layers = {{1, 32, 3, 1},    {32, 64, 3, 2},  {64, 128, 3, 4}, {128, 512, 3, 8},
              {512, 128, 3, 4}, {128, 64, 3, 2}, {64, 32, 3, 1},  {32, 1, 1, 1}};
  } else if constexpr (config == presets::sub_pixel) {
    // Encoder 1→32→32 | 32→64→64 | bottleneck 64→128→128; up 128→64, merge 128→64; up 64→32,
    // merge 64→32; head 3×3 32 → r².
    layers = {{1, 32, 3, 1},    {32, 32, 3, 1},   {32, 64, 3, 2}, {64, 64, 3, 2}, {64, 128, 3, 4}, {128, 128, 3, 4},
              {128, 64, 3, 2},  {128, 64, 3, 2},  {64, 32, 3, 1}, {64, 32, 3, 1}, {32, r2, 3, 1}};
  } else {
    // Encoder 1→32, down 32→32 (stride 2) | 32→64, down 64→64 | 64→128, down 128→128 | bottleneck
    // 128→128; up 128→128, merge 256→128; up 128→64, merge 128→64; up 64→32, merge 64→32; head
    // 1×1 32 → 1 (cell_storm) or 3×3 32 → r² (cell_storm_shuffle).
    layers = {{1, 32, 3, 1},    {32, 32, 3, 2},   {32, 64, 3, 2},  {64, 64, 3, 4},  {64, 128, 3, 4},
              {128, 128, 3, 8}, {128, 128, 3, 8}, {128, 128, 3, 4}, {256, 128, 3, 4}, {128, 64, 3, 2},
              {128, 64, 3, 2},  {64, 32, 3, 1},   {64, 32, 3, 1}};
    layers.push_back(enlarges_input<Net> ? L{32, 1, 1, 1} : L{32, r2, 3, 1});
  }
  const std::ptrdiff_t ph = enlarges_input<Net> ? h * upsample : h, pw = enlarges_input<Net> ? w * upsample : w;
  Flops f;
  bool first = true;
  for (const L& l : layers) {
    const double c = 2.0 * double(l.cin * l.cout * l.k * l.k) * double(ph / l.scale) * double(pw / l.scale);
    f.forward += c;
    f.backward += first ? c : 2 * c;
    first = false;
  }
  return f;
}

/// One training step as nn::train does it with `smlm train`'s TargetLoss for spike targets:
/// tape.reset, zero_grad, forward, the target blurred by the loss kernel (fixed_conv2d),
/// deep_storm_loss (MSE of the blurred output against it + mean |output|), backward, Adam step.
/// Input: uniform noise; target: spikes of 100 (Deep-STORM's scale) on ~1 % of the fine pixels.
template <class Net>
void BM_preset_train_step(benchmark::State& state) {
  const std::ptrdiff_t batch = 16, patch = enlarges_input<Net> ? 16 : 32, fine = patch * preset_upsample;
  nn::WorkerPool pool(2);
  Net net = make_preset<Net>();
  nn::Tensor<float> x({batch, 1, patch, patch}), target({batch, 1, fine, fine});
  smlm::Philox4x32 rng(1, 0, smlm::rng_purpose::user);
  for (auto& v : x) v = smlm::uniform01<float>(rng);
  for (auto& v : target) v = smlm::uniform01<float>(rng) < 0.01f ? 100.0f : 0.0f;
  const nn::DeepStormLossOptions loss_options{};
  const std::ptrdiff_t k = loss_options.kernel_size;
  std::vector<float> kernel(static_cast<std::size_t>(k * k));
  nn::deep_storm_kernel(kernel.data(), loss_options);
  const nn::TensorView<const float> kernel_view(kernel.data(), {1, 1, k, k});
  nn::Adam<float> adam({.lr = 1e-3});
  nn::Tape<float> tape(&pool);
  auto step = [&] {
    tape.reset();
    nn::zero_grad(net);
    const nn::Var<float> y = net.forward(tape, tape.input(x.view()));
    const nn::Var<float> blurred = nn::fixed_conv2d(tape, tape.input(target.view()), kernel_view);
    const nn::Var<float> loss = nn::deep_storm_loss(tape, y, blurred, loss_options, kernel.data());
    tape.backward(loss);
    adam.step(net);
    return loss.value[0];
  };
  step();  // untimed: sizes the arena and Adam's moments; the second merges the arena blocks
  step();
  for (auto _ : state) {
    benchmark::DoNotOptimize(step());
  }
  const Flops f = preset_flops<Net>(patch, patch);
  state.SetItemsProcessed(state.iterations());  // items/s = training steps per second
  state.counters["GFLOPs"] = benchmark::Counter((f.forward + f.backward) * double(batch) * 1e-9 * double(state.iterations()),
                                                benchmark::Counter::kIsRate);
  state.counters["arena_MB"] = double(tape.arena().peak_bytes()) / 1e6;
  state.counters["params"] = double(net.parameter_count());
}
BENCHMARK(BM_preset_train_step<nn::DeepStorm>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);
BENCHMARK(BM_preset_train_step<nn::SubPixel>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);

/// 64 × 64 camera frames like the reference stack (shared/data: ~250 emitters of 2,000–2,500
/// photons, PSF σ ≈ 1.1 px, background 20 photons, baseline 100): Gaussian blobs with Gaussian
/// shot noise, a fixed seed per frame. Other sizes get the same 250 emitters per frame.
std::vector<smlm::Image<float>> synthetic_frames(std::ptrdiff_t count, std::ptrdiff_t size = 64) {
  std::vector<smlm::Image<float>> frames;
  for (std::ptrdiff_t f = 0; f < count; ++f) {
    smlm::Philox4x32 rng(7, static_cast<std::uint32_t>(f), smlm::rng_purpose::user);
    smlm::Image<float> mean = smlm::Image<float>::Constant(size, size, 20.0f);
    for (int e = 0; e < 250; ++e) {
      const double ex = size * smlm::uniform01<double>(rng), ey = size * smlm::uniform01<double>(rng);
      const double photons = 2000 + 500 * smlm::uniform01<double>(rng), s = 1.1;
      const auto y0 = std::max<std::ptrdiff_t>(0, std::ptrdiff_t(ey) - 4), y1 = std::min<std::ptrdiff_t>(size, std::ptrdiff_t(ey) + 5);
      const auto x0 = std::max<std::ptrdiff_t>(0, std::ptrdiff_t(ex) - 4), x1 = std::min<std::ptrdiff_t>(size, std::ptrdiff_t(ex) + 5);
      for (std::ptrdiff_t y = y0; y < y1; ++y)
        for (std::ptrdiff_t x = x0; x < x1; ++x) {
          const double dx = double(x) + 0.5 - ex, dy = double(y) + 0.5 - ey;
          mean(y, x) += float(photons / (2 * 3.14159265358979 * s * s) * std::exp(-(dx * dx + dy * dy) / (2 * s * s)));
        }
    }
    smlm::Image<float> frame(size, size);
    for (std::ptrdiff_t i = 0; i < frame.size(); ++i) {
      const double u1 = 1 - smlm::uniform01<double>(rng), u2 = smlm::uniform01<double>(rng);
      const double normal = std::sqrt(-2 * std::log(u1)) * std::cos(2 * 3.14159265358979 * u2);
      frame.data()[i] = float(std::max(0.0, mean.data()[i] + std::sqrt(double(mean.data()[i])) * normal) + 100);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

/// Network forward only: batches of normalized frames, inference mode without recording (batch
/// norm folded), 2 threads. items/s = frames per second.
template <class Net>
void preset_inference(benchmark::State& state, std::ptrdiff_t batch, std::ptrdiff_t size, int upsample) {
  nn::WorkerPool pool(2);
  Net net = make_preset<Net>(upsample);
  const auto frames = synthetic_frames(batch, size);
  nn::Tensor<float> x({batch, 1, size, size});
  std::vector<float> scratch(static_cast<std::size_t>(size * size));
  for (std::ptrdiff_t f = 0; f < batch; ++f)
    nn::normalize_frame(frames[static_cast<std::size_t>(f)].data(), size * size, nn::InputNormalization{},
                        x.data() + f * size * size, scratch.data());
  nn::Tape<float> tape(&pool);
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  for (int warm = 0; warm < 2; ++warm) {
    tape.reset();
    net.forward(tape, tape.input(x.view()));
  }
  for (auto _ : state) {
    tape.reset();
    auto y = net.forward(tape, tape.input(x.view()));
    benchmark::DoNotOptimize(y.value.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["GFLOPs"] = benchmark::Counter(preset_flops<Net>(size, size, upsample).forward * double(batch) * 1e-9 *
                                                    double(state.iterations()),
                                                benchmark::Counter::kIsRate);
  state.counters["arena_MB"] = double(tape.arena().peak_bytes()) / 1e6;
  state.counters["params"] = double(net.parameter_count());
}

/// What `smlm reconstruct` does per batch of frames: deep::Reconstructor::run (per-frame
/// normalization, padding, tiling, forward, stitching into (size·r)² maps), the maps added to the
/// sum image, and deep::MovieDecoder over the batch (the decoder's defaults for r, counting by
/// mass on at 1.4 times the batch's median blob); not the photon fit. With random weights there
/// is no learned threshold: it is set, once, to the value of the (250·batch)th-highest peak over
/// the batch's maps (so ~250 peaks per frame, the reference stack's emitter count). items/s =
/// frames per second; peaks = localizations per frame. The frames are no larger than a tile
/// (ReconstructOptions::tile_px), so each frame is one tile and GFLOPs counts what
/// preset_inference counts.
template <class Net>
void preset_reconstruct(benchmark::State& state, std::ptrdiff_t batch, std::ptrdiff_t size, int upsample) {
  const std::ptrdiff_t fine = size * upsample;
  nn::WorkerPool pool(2);
  Net net = make_preset<Net>(upsample);
  const auto frames = synthetic_frames(batch, size);
  smlm::deep::Reconstructor<Net> rec(net, nn::InputNormalization{}, upsample, smlm::deep::ReconstructOptions{}, &pool);
  std::vector<smlm::Image<float>> maps(static_cast<std::size_t>(batch), smlm::Image<float>(fine, fine));
  std::vector<smlm::ConstImageView<float>> in;
  std::vector<smlm::ImageView<float>> out;
  for (std::ptrdiff_t f = 0; f < batch; ++f) {
    in.push_back(smlm::const_view(frames[static_cast<std::size_t>(f)]));
    out.push_back(smlm::make_view(maps[static_cast<std::size_t>(f)]));
  }
  smlm::Image<float> sum = smlm::Image<float>::Zero(fine, fine);
  smlm::deep::DecodeOptions decode = smlm::deep::DecodeOptions::for_upsample(upsample);
  smlm::deep::DecodeWorkspace ws;
  smlm::LocalizationTable table;
  // Threshold: every peak above the lowest map value, then the batch·250th highest; counting by
  // mass at 1.4 times the median blob.
  rec.run(in, out);
  {
    std::vector<double> values;
    for (const auto& m : maps) {
      smlm::LocalizationTable t;
      decode.threshold = double(m.minCoeff()) - 1;
      const std::size_t n = smlm::deep::decode_frame(smlm::const_view(m), 1, 100.0, upsample, decode, ws, t);
      for (std::size_t i = 0; i < n; ++i) values.push_back(ws.peaks[i].value);
    }
    std::sort(values.begin(), values.end(), std::greater<>());
    decode.threshold = values[std::min<std::size_t>(values.size() - 1, 250 * std::size_t(batch))];
    decode.split_factor = 1.4;
    decode.single_mass = 1e-6;  // below MovieDecoder::min_blobs only; measured on the batch
  }
  std::size_t found = 0;
  for (auto _ : state) {
    rec.run(in, out);
    table = smlm::LocalizationTable{};
    smlm::deep::MovieDecoder movie(decode, 100.0, upsample);
    for (std::ptrdiff_t f = 0; f < batch; ++f) {
      const auto& m = maps[static_cast<std::size_t>(f)];
      sum += m;
      movie.add(smlm::const_view(m), static_cast<std::int32_t>(f + 1));
    }
    movie.finish(table);
    found += table.size();
    benchmark::DoNotOptimize(table.x_nm.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["GFLOPs"] = benchmark::Counter(preset_flops<Net>(size, size, upsample).forward * double(batch) * 1e-9 *
                                                    double(state.iterations()),
                                                benchmark::Counter::kIsRate);
  state.counters["peaks"] = double(found) / double(state.iterations() * batch);
  state.counters["arena_MB"] = double(rec.arena_bytes()) / 1e6;
  state.counters["params"] = double(net.parameter_count());
}

/// `smlm reconstruct`'s shapes at r = 8: batches of 4 frames of 64 × 64, one tile per frame.
template <class Net>
void BM_preset_inference_64(benchmark::State& state) {
  preset_inference<Net>(state, 4, 64, preset_upsample);
}
template <class Net>
void BM_preset_reconstruct_64(benchmark::State& state) {
  preset_reconstruct<Net>(state, 4, 64, preset_upsample);
}
BENCHMARK(BM_preset_inference_64<nn::DeepStorm>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_preset_inference_64<nn::SubPixel>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_preset_reconstruct_64<nn::DeepStorm>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_preset_reconstruct_64<nn::SubPixel>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);

/// A phone's video at cellSTORM's r = 4: one 128 × 128 frame per forward pass (a frame at a
/// time, as it arrives), output maps of 512 × 512. cell_storm convolves the frame enlarged to
/// 512 × 512 (~63 GFLOP per frame, about half a second): a few iterations only.
template <class Net>
void BM_phone_inference_128(benchmark::State& state) {
  preset_inference<Net>(state, 1, 128, phone_upsample);
}
template <class Net>
void BM_phone_reconstruct_128(benchmark::State& state) {
  preset_reconstruct<Net>(state, 1, 128, phone_upsample);
}
BENCHMARK(BM_phone_inference_128<nn::SubPixel>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_phone_inference_128<nn::CellStormShuffle>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_phone_inference_128<nn::CellStorm>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->Iterations(4);
BENCHMARK(BM_phone_reconstruct_128<nn::SubPixel>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_phone_reconstruct_128<nn::CellStormShuffle>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_phone_reconstruct_128<nn::CellStorm>)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->Iterations(4);

// --- data-movement ops of the U-Nets ---------------------------------------------------------

// The sub_pixel preset's pixel shuffle, up-sampling and skip concatenation at the shapes of
// inference on 4 frames of 64 × 64 (forward) and of a training batch (backward). Arg 0: the
// `_ref` twin (one thread); 1: the fast kernel on one thread; 2: the fast kernel in the op's
// fixed pieces on a 2-thread pool. Counter "GBs": bytes read + written per second.
enum class Move { pixel_shuffle, upsample, concat };

template <Move M, bool Backward>
void BM_move(benchmark::State& state) {
  const int variant = static_cast<int>(state.range(0));
  const std::ptrdiff_t batch = Backward ? 16 : 4, side = Backward ? 32 : 64;
  nn::Shape xs{}, ys{};
  if constexpr (M == Move::pixel_shuffle) xs = {batch, 64, side, side}, ys = {batch, 1, side * 8, side * 8};
  if constexpr (M == Move::upsample) xs = {batch, 64, side / 2, side / 2}, ys = {batch, 64, side, side};
  if constexpr (M == Move::concat) xs = {batch, 32, side, side}, ys = {batch, 64, side, side};
  nn::Tensor<float> x(xs, 0.5f), x2(xs, 0.25f), y(ys, 1.0f), gx(xs), gx2(xs);
  nn::WorkerPool pool(2);
  nn::Tape<float> tape(&pool);
  const std::ptrdiff_t na = xs.size() / batch;
  // Variant 2 runs the fast kernels in the op's fixed pieces on the pool (what the op does,
  // without the tape's allocation and gradient zeroing).
  auto pieces = [&](std::ptrdiff_t n, std::ptrdiff_t grain, auto&& kernel) { tape.parallel_range(n, kernel, grain); };
  auto run = [&] {
    if (variant == 2) {
      if constexpr (M == Move::pixel_shuffle) {
        const std::ptrdiff_t rows = ys.n * ys.c * ys.h, grain = std::max<std::ptrdiff_t>(1, (1 << 15) / ys.w);
        pieces(rows, grain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
          Backward ? nn::pixel_shuffle_backward_rows(xs, 8, y.data(), gx.data(), lo, hi)
                   : nn::pixel_shuffle_forward_rows(xs, 8, x.data(), y.data(), lo, hi);
        });
      }
      if constexpr (M == Move::upsample) {
        const std::ptrdiff_t rows = xs.n * xs.c * xs.h, grain = std::max<std::ptrdiff_t>(1, (1 << 15) / (4 * xs.w));
        pieces(rows, grain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
          Backward ? nn::upsample_nearest_backward_rows(xs, 2, y.data(), gx.data(), lo, hi)
                   : nn::upsample_nearest_forward_rows(xs, 2, x.data(), y.data(), lo, hi);
        });
      }
      if constexpr (M == Move::concat) {
        pieces(ys.size(), 1 << 15, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
          Backward ? nn::concat_backward_range(na, na, y.data(), gx.data(), gx2.data(), lo, hi)
                   : nn::concat_forward_range(na, na, x.data(), x2.data(), y.data(), lo, hi);
        });
      }
      return;
    }
    const bool ref = variant == 0;
    if constexpr (M == Move::pixel_shuffle) {
      if constexpr (Backward) {
        ref ? nn::pixel_shuffle_backward_ref(xs, 8, y.data(), gx.data())
            : nn::pixel_shuffle_backward_rows(xs, 8, y.data(), gx.data(), 0, ys.n * ys.c * ys.h);
      } else {
        ref ? nn::pixel_shuffle_forward_ref(xs, 8, x.data(), y.data()) : nn::pixel_shuffle_forward(xs, 8, x.data(), y.data());
      }
    }
    if constexpr (M == Move::upsample) {
      if constexpr (Backward) {
        ref ? nn::upsample_nearest_backward_ref(xs, 2, y.data(), gx.data())
            : nn::upsample_nearest_backward_rows(xs, 2, y.data(), gx.data(), 0, xs.n * xs.c * xs.h);
      } else {
        ref ? nn::upsample_nearest_forward_ref(xs, 2, x.data(), y.data()) : nn::upsample_nearest_forward(xs, 2, x.data(), y.data());
      }
    }
    if constexpr (M == Move::concat) {
      if constexpr (Backward) {
        ref ? nn::concat_backward_ref(batch, na, na, y.data(), gx.data(), gx2.data())
            : nn::concat_backward_range(na, na, y.data(), gx.data(), gx2.data(), 0, ys.size());
      } else {
        ref ? nn::concat_forward_ref(batch, na, na, x.data(), x2.data(), y.data())
            : nn::concat_forward_range(na, na, x.data(), x2.data(), y.data(), 0, ys.size());
      }
    }
  };
  run();
  run();
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(gx.data());
  }
  // Forward reads x (and x2) and writes y; backward reads dy and the gradients and writes them.
  const double bytes = 4.0 * double(Backward ? ys.size() + 2 * (M == Move::concat ? 2 * xs.size() : xs.size())
                                             : (M == Move::concat ? 2 * xs.size() : xs.size()) + ys.size());
  state.counters["GBs"] = benchmark::Counter(bytes * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_move<Move::pixel_shuffle, false>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_move<Move::pixel_shuffle, true>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_move<Move::upsample, false>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_move<Move::upsample, true>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_move<Move::concat, false>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_move<Move::concat, true>)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();

// --- single convolutions ------------------------------------------------------------------

// Args: C_in, C_out, plane size, batch. The big 3x3 layers of Deep-STORM at 512 x 512 input.
void BM_conv3x3_forward(benchmark::State& state) {
  const std::ptrdiff_t cin = state.range(0), cout = state.range(1), s = state.range(2), n = state.range(3);
  nn::WorkerPool pool(2);
  nn::Tensor<float> x({n, cin, s, s}, 0.25f), w({cout, cin, 3, 3}, 0.01f), y({n, cout, s, s});
  const auto g = nn::conv2d_geometry(x.shape(), w.shape(), 1, nn::Padding::same);
  nn::Tensor<float> scratch({1, 1, 1, static_cast<std::ptrdiff_t>(nn::conv_forward_scratch<float>(g, n, 2))});
  for (auto _ : state) {
    nn::conv2d_forward(g, n, x.data(), w.data(), static_cast<const float*>(nullptr), y.data(), scratch.data(), &pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] =
      benchmark::Counter(g.flops_per_sample() * double(n) * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}
// sub_pixel's layers in inference on 4 frames of 64 × 64: level 0, level 1, bottleneck, the
// merge after the level-0 skip, and the head (3×3 to r² = 64 channels).
void sub_pixel_layers(benchmark::internal::Benchmark* b) {
  for (const auto& a : {std::vector<std::int64_t>{32, 32, 64, 4}, {64, 64, 32, 4}, {128, 128, 16, 4}, {64, 32, 64, 4},
                        {32, 64, 64, 4}})
    b->Args(a);
  b->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
}
BENCHMARK(BM_conv3x3_forward)
    ->Args({128, 512, 64, 1})
    ->Args({512, 128, 128, 1})
    ->Args({64, 32, 512, 1})
    ->Args({128, 64, 256, 1})
    ->Args({64, 128, 32, 16})
    ->Apply(sub_pixel_layers);

// The same layers on the im2col + Eigen GEBP path, which conv2d_forward takes where no
// micro-kernel is compiled (and for stride 2, double): the same band jobs on 2 threads.
void BM_conv3x3_forward_im2col(benchmark::State& state) {
  const std::ptrdiff_t cin = state.range(0), cout = state.range(1), s = state.range(2), n = state.range(3);
  nn::WorkerPool pool(2);
  nn::Tensor<float> x({n, cin, s, s}, 0.25f), w({cout, cin, 3, 3}, 0.01f), y({n, cout, s, s});
  const auto g = nn::conv2d_geometry(x.shape(), w.shape(), 1, nn::Padding::same);
  const auto per_worker = static_cast<std::ptrdiff_t>(nn::conv_worker_scratch<float>(g));
  nn::Tensor<float> scratch({1, 1, 2, per_worker});
  const std::ptrdiff_t bands = nn::detail::forward_bands(g, n), plane = g.out_plane();
  for (auto _ : state) {
    pool.run(n * bands, [&](std::ptrdiff_t j, int worker) {
      const std::ptrdiff_t b = j / bands, r0 = j % bands * g.out_h / bands, r1 = (j % bands + 1) * g.out_h / bands;
      float* yn = y.data() + b * g.out_c * plane;
      for (std::ptrdiff_t o = 0; o < g.out_c; ++o) std::fill(yn + o * plane + r0 * g.out_w, yn + o * plane + r1 * g.out_w, 0.0f);
      nn::conv_forward_rows(g, x.data() + b * g.in_c * g.in_plane(), w.data(), yn, scratch.data() + worker * per_worker, r0, r1);
    });
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] =
      benchmark::Counter(g.flops_per_sample() * double(n) * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_conv3x3_forward_im2col)->Apply(sub_pixel_layers);

// The scalar reference, for scale (one small layer).
void BM_conv3x3_forward_ref(benchmark::State& state) {
  nn::Tensor<float> x({1, 32, 32, 32}, 0.25f), w({64, 32, 3, 3}, 0.01f), y({1, 64, 32, 32});
  const auto g = nn::conv2d_geometry(x.shape(), w.shape(), 1, nn::Padding::same);
  for (auto _ : state) {
    nn::conv2d_forward_ref(g, 1, x.data(), w.data(), static_cast<const float*>(nullptr), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] =
      benchmark::Counter(g.flops_per_sample() * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_conv3x3_forward_ref)->Unit(benchmark::kMillisecond);

}  // namespace
