// Network-engine benchmarks: the Deep-STORM network (Nehme et al., Optica 2018) forward and
// training step, single large convolutions, and the machine's float32 FMA peak that the
// GFLOP/s figures are compared with. Everything runs on a WorkerPool of 2 threads unless the
// name says otherwise. PyTorch's figures for the same shapes come from torch_compare.py.
//
//   build/release/benchmarks/bench_nn --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// The machine these figures come from is shared: the Time column is wall-clock, the CPU column
// is the CPU time of the whole process (both threads), which is less sensitive to other load.
// Counters: GFLOPs = convolution multiply–adds × 2 per second (the convolutions are > 99% of
// the arithmetic; batch norm, pooling and the loss are not counted), in units of 1e9.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <thread>
#include <vector>

#include <smlm/nn/nn.hpp>

namespace nn = smlm::nn;

namespace {

// --- FMA peak ---------------------------------------------------------------------------------

// 16 independent chains of 16-lane FMAs: enough to cover FMA latency × ports on current cores.
// The compiler emits one vfmadd per line with -march=native (AVX-512: 16 floats per register).
using v16 = float __attribute__((vector_size(64)));
constexpr int chains = 16;

[[gnu::noinline]] float fma_loop(std::int64_t iters, float seed) {
  v16 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = v16{} + seed * float(c + 1);
  const v16 a = v16{} + 0.999999f, b = v16{} + 1e-7f;
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < chains; ++c) acc[c] = acc[c] * a + b;
  }
  float s = 0;
  for (int c = 0; c < chains; ++c)
    for (int l = 0; l < 16; ++l) s += acc[c][l];
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
  const double flops = 2.0 * 16 * chains * double(iters) * threads;
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
BENCHMARK(BM_conv3x3_forward)
    ->Args({128, 512, 64, 1})
    ->Args({512, 128, 128, 1})
    ->Args({64, 32, 512, 1})
    ->Args({128, 64, 256, 1})
    ->Args({64, 128, 32, 16})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

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
