// A U-Net of nn/unet.hpp run for inference on an OpenCL device, mirroring the CPU network.
//
//   auto device = compute::open_device(0);                 // Expected<Device>
//   auto gpu = compute::Network<nn::DeepStorm>::create(net, *device);
//   Status s = gpu->forward(x, y);                         // x [N, 1, H, W] → y as net.forward's
//
// create() takes the network's current weights (batch norm folded into the convolutions, see
// graph.hpp), compiles the kernels (detail/kernels.hpp) and uploads the weights once. forward()
// plans device memory for the batch size and input size on first use and again only when either
// grows or the size changes: each intermediate value gets a buffer, and a buffer is reused by a
// later value once every reader of the earlier one has run. Inputs are checked as the CPU network
// asserts them (channels, sizes that are multiples of size_multiple()), but here a bad input is a
// Status, not a failed assertion. No member throws: Boost.Compute's exceptions become Status.
//
// Network<Net> also has the CPU network's `forward(tape, x)` and static `size_multiple(r)`, so
// deep::Reconstructor<compute::Network<Net>> tiles and batches whole frames on the device
// unchanged; an OpenCL error there leaves a zero output and is kept in status() (the first one),
// which the caller checks after the run.
//
// A Network is move-only and serves one thread at a time (it reuses its device buffers from call
// to call); create one per thread for concurrent inference.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <smlm/compute/detail/kernels.hpp>
#include <smlm/compute/device.hpp>
#include <smlm/compute/graph.hpp>
#include <smlm/core/status.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>

namespace smlm::compute {

namespace detail {

/// A Graph's weights and kernels on one device, and its buffers planned for one input size.
class Engine {
 public:
  Engine() = default;
  Engine(Engine&&) = default;
  Engine& operator=(Engine&&) = default;
  Engine(const Engine&) = delete;  // copies would share device buffers
  Engine& operator=(const Engine&) = delete;

  /// Compiles the kernels and uploads the graph's weights (packed for the conv kernel).
  static Expected<Engine> create(Graph graph, const Device& device) {
    if (!graph.status.ok()) return graph.status;
    Engine e;
    e.dev_ = device;
    try {
      e.program_ = boost::compute::program::build_with_source(kernel_source, device.context);
    } catch (const boost::compute::program_build_failure& ex) {
      return make_error(errc::unsupported, "OpenCL: building the inference kernels on ", device.info.name,
                        " failed: ", ex.what(), ": ", one_line(ex.build_log()));
    } catch (const std::exception& ex) {
      return make_error(errc::io_error, "OpenCL: building the inference kernels on ", device.info.name, " failed: ",
                        ex.what());
    }
    try {
      for (const char* name : {"conv2d_k1", "conv2d_k3", "conv2d_kn", "affine_act", "activation", "max_pool2x2",
                               "upsample_nearest", "pixel_shuffle", "copy_channels"})
        e.kernels_.push_back(e.program_.create_kernel(name));
      for (const Op& op : graph.ops) {
        std::vector<float> w = op.weights, b = op.bias;
        if (op.kind == OpKind::conv) pack_conv(op, w, b);
        e.weights_.push_back(upload(e.dev_, w));
        e.biases_.push_back(upload(e.dev_, b));
      }
      e.dev_.queue.finish();
    } catch (const std::exception& ex) {
      return make_error(errc::io_error, "OpenCL: uploading the network's weights to ", device.info.name, " failed: ",
                        ex.what());
    }
    e.graph_ = std::move(graph);
    return e;
  }

  const Graph& graph() const noexcept { return graph_; }
  const Device& device() const noexcept { return dev_; }
  /// Bytes of device memory the current plan holds for values (weights not counted).
  std::size_t planned_bytes() const noexcept {
    std::size_t b = 0;
    for (const auto& s : slot_bytes_) b += s;
    return b;
  }

  /// y = the graph applied to n samples of `in` (dense NCHW host arrays); y holds n outputs.
  Status run(const float* x, std::ptrdiff_t n, ValueShape in, float* y) noexcept {
    try {
      if (n > capacity_ || !(in == planned_)) SMLM_TRY(plan(std::max(n, in == planned_ ? capacity_ : n), in));
      auto& q = dev_.queue;
      q.enqueue_write_buffer(slot(0), 0, bytes(n, in), x);
      for (std::size_t i = 0; i < graph_.ops.size(); ++i) enqueue(i, n);
      const int out = graph_.output();
      q.enqueue_read_buffer(slot(out), 0, bytes(n, shapes_[static_cast<std::size_t>(out)]), y);
      return {};
    } catch (const std::exception& ex) {
      capacity_ = 0;  // buffers may be in an unknown state: plan again next time
      return make_error(errc::io_error, "OpenCL: inference on ", dev_.info.name, " failed: ", ex.what());
    }
  }

 private:
  enum kernel_id { conv_k1, conv_k3, conv_kn, affine_act, activation, max_pool, upsample, pixel_shuffle, copy_channels };

  static std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
  }
  static std::size_t bytes(std::ptrdiff_t n, ValueShape s) noexcept {
    return static_cast<std::size_t>(n * s.size()) * sizeof(float);
  }
  static boost::compute::buffer upload(Device& d, const std::vector<float>& v) {
    const std::vector<float> one{0.0f};  // OpenCL has no empty buffers
    const std::vector<float>& src = v.empty() ? one : v;
    boost::compute::buffer b(d.context, src.size() * sizeof(float), boost::compute::buffer::read_only);
    d.queue.enqueue_write_buffer(b, 0, src.size() * sizeof(float), src.data());
    return b;
  }
  /// [C_out, C_in, k, k] → [⌈C_out/8⌉, C_in, k, k, 8] and the bias to ⌈C_out/8⌉·8, zero padded.
  static void pack_conv(const Op& op, std::vector<float>& w, std::vector<float>& b) {
    const std::size_t groups = static_cast<std::size_t>((op.out_channels + conv_block - 1) / conv_block);
    const std::size_t depth = static_cast<std::size_t>(op.in_channels * op.k * op.k), blk = conv_block;
    w.assign(groups * depth * blk, 0.0f);
    b.assign(groups * blk, 0.0f);
    for (std::size_t o = 0; o < static_cast<std::size_t>(op.out_channels); ++o) {
      for (std::size_t i = 0; i < depth; ++i) w[((o / blk) * depth + i) * blk + o % blk] = op.weights[o * depth + i];
      b[o] = op.bias[o];
    }
  }

  boost::compute::buffer& slot(int value) { return slots_[static_cast<std::size_t>(slot_of_[static_cast<std::size_t>(value)])]; }

  /// Buffers for batches of up to n samples of `in`: one per value, shared between values whose
  /// lifetimes do not overlap (a value lives from its op to its last reader).
  Status plan(std::ptrdiff_t n, ValueShape in) {
    auto shapes = graph_.infer_shapes(in);
    if (!shapes) return shapes.status();
    shapes_ = std::move(*shapes);
    const std::size_t values = static_cast<std::size_t>(graph_.values), ops = graph_.ops.size();
    std::vector<std::size_t> last(values, 0);
    for (std::size_t i = 0; i < ops; ++i) {
      last[static_cast<std::size_t>(graph_.ops[i].input)] = i;
      if (graph_.ops[i].second >= 0) last[static_cast<std::size_t>(graph_.ops[i].second)] = i;
    }
    last[static_cast<std::size_t>(graph_.output())] = ops;  // read back after the last op
    slot_of_.assign(values, -1);
    slot_bytes_.clear();
    std::vector<bool> busy;
    auto take = [&](int value) {
      const std::size_t need = bytes(n, shapes_[static_cast<std::size_t>(value)]);
      int best = -1;
      for (std::size_t s = 0; s < busy.size(); ++s) {
        if (busy[s]) continue;
        const bool fits = slot_bytes_[s] >= need, best_fits = best >= 0 && slot_bytes_[static_cast<std::size_t>(best)] >= need;
        // The smallest free buffer that fits, else the largest free one (grown).
        if (best < 0 || (fits && (!best_fits || slot_bytes_[s] < slot_bytes_[static_cast<std::size_t>(best)])) ||
            (!fits && !best_fits && slot_bytes_[s] > slot_bytes_[static_cast<std::size_t>(best)]))
          best = static_cast<int>(s);
      }
      if (best < 0) {
        best = static_cast<int>(busy.size());
        busy.push_back(false);
        slot_bytes_.push_back(0);
      }
      busy[static_cast<std::size_t>(best)] = true;
      slot_bytes_[static_cast<std::size_t>(best)] = std::max(slot_bytes_[static_cast<std::size_t>(best)], need);
      slot_of_[static_cast<std::size_t>(value)] = best;
    };
    take(0);
    if (ops == 0) last[0] = 1;
    for (std::size_t i = 0; i < ops; ++i) {
      const Op& op = graph_.ops[i];
      take(op.output);
      for (int v : {op.input, op.second})
        if (v >= 0 && last[static_cast<std::size_t>(v)] == i) busy[static_cast<std::size_t>(slot_of_[static_cast<std::size_t>(v)])] = false;
    }
    slots_.clear();
    for (std::size_t b : slot_bytes_) slots_.emplace_back(dev_.context, b, boost::compute::buffer::read_write);
    capacity_ = n, planned_ = in;
    return {};
  }

  void enqueue(std::size_t i, std::ptrdiff_t n) {
    const Op& op = graph_.ops[i];
    const ValueShape x = shapes_[static_cast<std::size_t>(op.input)], y = shapes_[static_cast<std::size_t>(op.output)];
    auto& in = slot(op.input);
    auto& out = slot(op.output);
    const auto sz = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
    const auto ci = [](std::ptrdiff_t v) { return static_cast<cl_int>(v); };
    const cl_int act = static_cast<cl_int>(op.act);
    const cl_float slope = op.slope;
    auto run = [&](kernel_id id, std::size_t dims, std::array<std::size_t, 3> global) {
      dev_.queue.enqueue_nd_range_kernel(kernels_[id], dims, nullptr, global.data(), nullptr);
    };
    switch (op.kind) {
      case OpKind::conv: {
        const nn::ConvGeometry g = nn::conv2d_geometry(nn::Shape{1, x.c, x.h, x.w},
                                                       nn::Shape{op.out_channels, op.in_channels, op.k, op.k},
                                                       op.stride, op.padding);
        const kernel_id id = op.k == 1 ? conv_k1 : op.k == 3 ? conv_k3 : conv_kn;
        auto& k = kernels_[id];
        k.set_args(in, weights_[i], biases_[i], out, ci(x.c), ci(x.h), ci(x.w), ci(y.c), ci(y.h), ci(y.w), ci(op.stride),
                   ci(g.pad_top), ci(g.pad_left), act, slope);
        if (id == conv_kn) k.set_arg(15, ci(op.k));
        const std::ptrdiff_t groups = (y.c + conv_block - 1) / conv_block;
        run(id, 3, {sz((y.w + conv_strip - 1) / conv_strip), sz(y.h), sz(n * groups)});
        break;
      }
      case OpKind::affine:
        kernels_[affine_act].set_args(in, weights_[i], biases_[i], out, ci(x.c), act, slope);
        run(affine_act, 3, {sz(x.h * x.w), sz(x.c), sz(n)});
        break;
      case OpKind::activation:
        kernels_[activation].set_args(in, out, act, slope);
        run(activation, 1, {sz(n * x.size()), 1, 1});
        break;
      case OpKind::max_pool:
        kernels_[max_pool].set_args(in, out, ci(x.h), ci(x.w), ci(y.h), ci(y.w));
        run(max_pool, 3, {sz(y.w), sz(y.h), sz(n * y.c)});
        break;
      case OpKind::upsample:
        kernels_[upsample].set_args(in, out, ci(x.h), ci(x.w), ci(op.factor));
        run(upsample, 3, {sz(y.w), sz(y.h), sz(n * y.c)});
        break;
      case OpKind::pixel_shuffle:
        kernels_[pixel_shuffle].set_args(in, out, ci(y.c), ci(x.h), ci(x.w), ci(op.factor));
        run(pixel_shuffle, 3, {sz(y.w), sz(y.h), sz(n * y.c)});
        break;
      case OpKind::concat: {
        const ValueShape b = shapes_[static_cast<std::size_t>(op.second)];
        kernels_[copy_channels].set_args(in, out, ci(x.c), ci(y.c), ci(0));
        run(copy_channels, 3, {sz(x.h * x.w), sz(x.c), sz(n)});
        kernels_[copy_channels].set_args(slot(op.second), out, ci(b.c), ci(y.c), ci(x.c));
        run(copy_channels, 3, {sz(b.h * b.w), sz(b.c), sz(n)});
        break;
      }
    }
  }

  Device dev_;
  Graph graph_;
  boost::compute::program program_;
  std::vector<boost::compute::kernel> kernels_;
  std::vector<boost::compute::buffer> weights_, biases_;  ///< per op (a one-element placeholder when unused)
  std::ptrdiff_t capacity_ = 0;                           ///< samples the plan holds (0: no plan)
  ValueShape planned_{};
  std::vector<ValueShape> shapes_;
  std::vector<int> slot_of_;
  std::vector<std::size_t> slot_bytes_;
  std::vector<boost::compute::buffer> slots_;
};

}  // namespace detail

/// The network `Net` (a UNet of nn/unet.hpp) for inference on an OpenCL device.
template <class Net>
class Network {
 public:
  using scalar = float;
  static constexpr auto config = Net::config;

  /// Compiles `net` (its weights as they are now) for `device`.
  static Expected<Network> create(const Net& net, const Device& device) {
    auto engine = detail::Engine::create(make_graph(net), device);
    if (!engine) return engine.status();
    return Network(net.upsample(), std::move(*engine));
  }

  static constexpr std::ptrdiff_t size_multiple(int upsample) noexcept { return Net::size_multiple(upsample); }
  int upsample() const noexcept { return upsample_; }
  bool accepts(std::ptrdiff_t h, std::ptrdiff_t w) const noexcept {
    const std::ptrdiff_t m = size_multiple(upsample_);
    return h > 0 && w > 0 && h % m == 0 && w % m == 0;
  }
  nn::Shape output_shape(nn::Shape in) const noexcept {
    const std::ptrdiff_t r = config.resolution == nn::Resolution::same ? 1 : upsample_;
    return {in.n, config.out_channels, in.h * r, in.w * r};
  }
  const DeviceInfo& device() const noexcept { return engine_.device().info; }
  const Graph& graph() const noexcept { return engine_.graph(); }
  std::size_t planned_bytes() const noexcept { return engine_.planned_bytes(); }

  /// y = net.forward(x) on the device, for dense x [N, C_in, H, W] and y [N, C_out, H·r, W·r]
  /// (r = 1 for Resolution::same). A wrong shape is an errc::invalid_argument Status naming it.
  Status forward(nn::TensorView<const float> x, nn::TensorView<float> y) noexcept {
    const nn::Shape s = x.shape();
    if (s.c != config.in_channels)
      return make_error(errc::invalid_argument, "compute: the input has ", s.c, " channels, the network takes ",
                        config.in_channels);
    if (s.n < 1 || !accepts(s.h, s.w))
      return make_error(errc::invalid_argument, "compute: input of ", s.n, " x ", s.h, " x ", s.w,
                        ": needs at least one sample and a height and width that are positive multiples of ",
                        size_multiple(upsample_));
    if (y.shape() != output_shape(s)) {
      const nn::Shape o = output_shape(s), g = y.shape();
      return make_error(errc::invalid_argument, "compute: the output is ", g.n, " x ", g.c, " x ", g.h, " x ", g.w,
                        ", the network writes ", o.n, " x ", o.c, " x ", o.h, " x ", o.w);
    }
    if (!x.is_contiguous() || !y.is_contiguous())
      return make_error(errc::invalid_argument, "compute: input and output must be dense tensors");
    return engine_.run(x.data(), s.n, {s.c, s.h, s.w}, y.data());
  }

  /// The CPU network's interface (deep::Reconstructor calls it): the output is made on the tape;
  /// on an error it is zero and the error is kept in status().
  nn::Var<float> forward(nn::Tape<float>& tape, const nn::Var<float>& x) noexcept {
    nn::Var<float> y = tape.make(output_shape(x.shape()), false);
    Status s = forward(nn::TensorView<const float>(x.value), y.value);
    if (!s.ok()) {
      std::fill(y.value.data(), y.value.data() + y.value.size(), 0.0f);
      if (status_.ok()) status_ = std::move(s);
    }
    return y;
  }
  /// The first error of forward(tape, x), ok when there was none.
  const Status& status() const noexcept { return status_; }

 private:
  Network(int upsample, detail::Engine engine) : upsample_(upsample), engine_(std::move(engine)) {}

  int upsample_;
  detail::Engine engine_;
  Status status_;
};

}  // namespace smlm::compute
