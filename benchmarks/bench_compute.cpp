// OpenCL inference (smlm::compute, built with the optional smlmkit::compute target) against the
// CPU path: the deep_storm preset's forward pass on batches of camera frames, on OpenCL device 0
// (pocl's CPU device here) and on the CPU network with a 2-thread WorkerPool, in inference mode
// without recording (batch norm folded in both). items/s = frames per second; GFLOPs counts the
// convolutions' multiply–adds × 2 (from compute::Graph, the same for both paths).
//
//   build/release/benchmarks/bench_compute --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Arguments: camera frame side, the network's up-sampling factor r (Deep-STORM enlarges the frame
// ×r before the first convolution), frames per batch. 128 × 128 at r = 1 is a 128² network
// input; 128 × 128 at r = 8 is Deep-STORM's own setting (a 1024² network input, ~190 GFLOP a frame).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <smlm/compute/network.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/nn.hpp>
#include <smlm/nn/unet.hpp>

namespace nn = smlm::nn;
namespace compute = smlm::compute;

namespace {

struct Case {
  std::ptrdiff_t size, batch;
  int upsample;
};
Case case_of(const benchmark::State& state) {
  return {state.range(0), state.range(2), static_cast<int>(state.range(1))};
}

nn::Tensor<float> random_frames(Case c) {
  nn::Tensor<float> x({c.batch, 1, c.size, c.size});
  smlm::Philox4x32 rng(5, 0, smlm::rng_purpose::user);
  for (std::ptrdiff_t i = 0; i < x.size(); ++i) x[i] = float(2 * smlm::uniform01<double>(rng) - 1);
  return x;
}

/// Multiply–adds × 2 of the network's convolutions per frame.
double conv_flops(const compute::Graph& g, std::ptrdiff_t size) {
  const auto shapes = g.infer_shapes({1, size, size});
  double flops = 0;
  for (const compute::Op& op : g.ops)
    if (op.kind == compute::OpKind::conv) {
      const compute::ValueShape y = (*shapes)[static_cast<std::size_t>(op.output)];
      flops += 2.0 * double(op.in_channels) * op.k * op.k * double(y.size());
    }
  return flops;
}

void report(benchmark::State& state, const compute::Graph& g, Case c) {
  state.SetItemsProcessed(state.iterations() * c.batch);
  state.counters["GFLOPs"] = benchmark::Counter(conv_flops(g, c.size) * double(c.batch) * 1e-9 * double(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void BM_deep_storm_cpu(benchmark::State& state) {
  const Case c = case_of(state);
  nn::WorkerPool pool(2);
  nn::DeepStorm net(c.upsample);
  net.init(1);
  const nn::Tensor<float> x = random_frames(c);
  nn::Tape<float> tape(&pool);
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  for (auto _ : state) {
    tape.reset();
    const nn::Var<float> y = net.forward(tape, tape.input(x.view()));
    benchmark::DoNotOptimize(y.data());
  }
  report(state, compute::make_graph(net), c);
}

void BM_deep_storm_opencl(benchmark::State& state) {
  const Case c = case_of(state);
  auto device = compute::open_device(0);
  if (!device) {
    state.SkipWithError(device.message().c_str());
    return;
  }
  nn::DeepStorm net(c.upsample);
  net.init(1);
  auto gpu = compute::Network<nn::DeepStorm>::create(net, *device);
  if (!gpu) {
    state.SkipWithError(gpu.message().c_str());
    return;
  }
  const nn::Tensor<float> x = random_frames(c);
  nn::Tensor<float> y(gpu->output_shape(x.shape()));
  // The first call plans device memory and lets the driver finish compiling the kernels.
  if (const smlm::Status s = gpu->forward(x.view(), y.view()); !s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    const smlm::Status s = gpu->forward(x.view(), y.view());
    benchmark::DoNotOptimize(y.data());
    if (!s.ok()) state.SkipWithError(s.message().c_str());
  }
  report(state, gpu->graph(), c);
  state.SetLabel(device->info.name);
}

void cases(benchmark::internal::Benchmark* b) {
  b->ArgNames({"size", "r", "batch"});
  b->Args({128, 1, 4});
  b->Args({128, 8, 1});
}

}  // namespace

BENCHMARK(BM_deep_storm_cpu)->Apply(cases)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_deep_storm_opencl)->Apply(cases)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
