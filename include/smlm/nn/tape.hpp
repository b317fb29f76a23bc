// Reverse-mode automatic differentiation at the level of tensor operations.
//
// A Tape<T> owns an Arena. Each op (conv2d, relu, ...) is a free function taking the tape and
// Vars; it allocates its output (and, when a gradient will flow, the output's gradient buffer)
// in the arena, computes the forward result, and — only when recording and some input needs a
// gradient — records one backward step: a small trivially-copyable closure placed in the arena
// and linked to the previous record. backward(loss) seeds d loss / d loss = 1 and runs the
// records newest first; every backward step *adds* its contribution into its inputs' gradient
// buffers, so a Var used twice receives the sum, and Parameter gradients accumulate across
// backward() calls until zero_grad(). reset() drops the records and every activation at once.
// One node per tensor op, no per-scalar nodes, no heap traffic in steady state.
//
// A Var is a handle (value view + gradient pointer), cheap to copy, valid until reset(). Its
// value is read-only once the op that made it has returned. A Parameter owns its value, its
// gradient and its optimizer state side by side (optimizer.hpp), outliving every tape.
//
// No-grad mode (NoGradScope, or set_recording(false)) records nothing and allocates no gradient
// buffers: the inference path. mode() says whether layers behave as in training (batch norm
// uses batch statistics, dropout drops) or inference; it is independent of recording.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include <smlm/core/config.hpp>
#include <smlm/nn/arena.hpp>
#include <smlm/nn/tensor.hpp>
#include <smlm/nn/worker_pool.hpp>

namespace smlm::nn {

template <class T = float>
struct Var {
  TensorView<T> value;  ///< dense NCHW; read-only after the op that made it returned
  T* grad = nullptr;    ///< dense, same shape as value; null when no gradient flows here

  bool requires_grad() const noexcept { return grad != nullptr; }
  const Shape& shape() const noexcept { return value.shape(); }
  TensorView<T> grad_view() const noexcept { return {grad, value.shape()}; }
  const T* data() const noexcept { return value.data(); }
};

/// A trainable tensor with its gradient and its optimizer state, kept together.
template <class T = float>
struct Parameter {
  Tensor<T> value;
  Tensor<T> grad;
  Tensor<T> moment1;  ///< optimizer state (Adam's m, SGD's velocity); sized on the first step
  Tensor<T> moment2;  ///< optimizer state (Adam's v)
  std::int64_t steps = 0;  ///< optimizer steps applied to this parameter
  bool trainable = true;   ///< false: used as a constant (no gradient, the optimizer skips it)

  Parameter() = default;
  explicit Parameter(Shape shape) : value(shape), grad(shape) {}
  const Shape& shape() const noexcept { return value.shape(); }
  void zero_grad() noexcept { fill(grad.view(), T(0)); }
};

enum class Mode { training, inference };

template <class T = float>
class Tape {
  static_assert(std::is_floating_point_v<T>, "Tape<float> or Tape<double>");

 public:
  using scalar = T;

  /// pool: threads for the kernels (null: the calling thread only). initial_bytes: the first
  /// arena block (0: grown on demand, then kept at the peak, see arena.hpp).
  explicit Tape(WorkerPool* pool = nullptr, std::size_t initial_bytes = 0) noexcept
      : arena_(initial_bytes), pool_(pool) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  Arena& arena() noexcept { return arena_; }
  WorkerPool* pool() const noexcept { return pool_; }
  int threads() const noexcept { return pool_ ? pool_->threads() : 1; }
  /// f(i, worker) for i in [0, n) on the pool (or inline).
  template <class F>
  void parallel(std::ptrdiff_t n, F&& f) noexcept {
    if (pool_) {
      pool_->run(n, f);
    } else {
      for (std::ptrdiff_t i = 0; i < n; ++i) f(i, 0);
    }
  }

  /// f(begin, end) over [0, n) cut into fixed pieces of `grain` (the cut never depends on the
  /// thread count), run on the pool: for element-wise and per-plane loops.
  template <class F>
  void parallel_range(std::ptrdiff_t n, F&& f, std::ptrdiff_t grain = std::ptrdiff_t(1) << 15) noexcept {
    if (n <= 0) return;
    const std::ptrdiff_t pieces = (n + grain - 1) / grain;
    parallel(pieces, [&](std::ptrdiff_t i, int) { f(i * grain, std::min(n, (i + 1) * grain)); });
  }

  bool recording() const noexcept { return recording_; }
  void set_recording(bool on) noexcept { recording_ = on; }
  Mode mode() const noexcept { return mode_; }
  bool training() const noexcept { return mode_ == Mode::training; }
  void set_mode(Mode m) noexcept { mode_ = m; }

  /// True when an op on these inputs must record a backward step.
  template <class... Vs>
  bool needs_grad(const Vs&... inputs) const noexcept {
    return recording_ && (inputs.requires_grad() || ...);
  }

  /// A fresh arena tensor (value uninitialised); with a zeroed gradient buffer when with_grad.
  Var<T> make(Shape shape, bool with_grad) noexcept {
    SMLM_ASSERT(shape.valid(), "tensor extents must be non-negative");
    const auto count = static_cast<std::size_t>(shape.size());
    Var<T> v{{arena_.allocate_array<T>(count), shape}, nullptr};
    if (with_grad) {
      v.grad = arena_.allocate_array<T>(count);
      T* g = v.grad;
      parallel_range(shape.size(), [g](std::ptrdiff_t b, std::ptrdiff_t e) { std::fill(g + b, g + e, T(0)); },
                     std::ptrdiff_t(1) << 16);
    }
    return v;
  }
  /// Caller data as a constant input (no gradient). The data must outlive the tape's use of it;
  /// ops never write through it.
  Var<T> input(TensorView<const T> data) SMLM_NOEXCEPT {
    SMLM_ASSERT(data.is_contiguous(), "tape inputs must be dense NCHW");
    return {{const_cast<T*>(data.data()), data.shape()}, nullptr};
  }
  /// An input whose gradient is wanted (gradient checks, input attribution): grad must be a
  /// zeroed buffer of the same size; backward() adds into it.
  Var<T> input(TensorView<const T> data, T* grad) SMLM_NOEXCEPT {
    Var<T> v = input(data);
    v.grad = recording_ ? grad : nullptr;
    return v;
  }
  /// A parameter; its gradient flows into p.grad when recording and p.trainable.
  Var<T> param(Parameter<T>& p) noexcept {
    return {p.value.view(), (recording_ && p.trainable) ? p.grad.data() : nullptr};
  }
  /// Uninitialised arena scratch for kernels (valid until reset()).
  T* scratch(std::size_t count) noexcept { return arena_.allocate_array<T>(count); }
  template <class U>
  U* scratch_as(std::size_t count) noexcept { return arena_.allocate_array<U>(count); }

  /// Records backward step `f` (called as f() during backward()). f is copied into the arena;
  /// it must be trivially copyable and destructible (capture views and numbers by value).
  template <class F>
  void record(F f) noexcept {
    static_assert(std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>,
                  "a backward step may capture only views, pointers and numbers by value");
    void* mem = arena_.allocate(sizeof(Node<F>));
    last_ = ::new (mem) Node<F>(last_, std::move(f));
    ++records_;
  }
  std::size_t records() const noexcept { return records_; }

  /// Back-propagates from a scalar (one-element) loss through every record, newest first.
  void backward(const Var<T>& loss) SMLM_NOEXCEPT {
    SMLM_ASSERT(loss.value.size() == 1, "backward() needs a one-element loss");
    const T one = 1;
    backward(loss, TensorView<const T>(&one, loss.shape()));
  }
  /// Vector–Jacobian product: back-propagates the output gradient `dy` (same shape as y), i.e.
  /// the gradient of Σ dy_i · y_i.
  void backward(const Var<T>& y, TensorView<const T> dy) SMLM_NOEXCEPT {
    SMLM_ASSERT(dy.shape() == y.shape() && dy.is_contiguous(), "backward: dy must have y's shape");
    SMLM_ASSERT(y.requires_grad(), "backward: the output does not depend on anything that needs a gradient");
    SMLM_ASSERT(!backward_done_, "backward() ran already on this tape since the last reset()");
    for (std::ptrdiff_t i = 0; i < dy.size(); ++i) y.grad[i] = dy[i];
    for (Record* r = last_; r != nullptr; r = r->prev) r->run(r);
    backward_done_ = true;
  }

  /// Forgets every Var and record; keeps the memory for the next step.
  void reset() noexcept {
    arena_.reset();
    last_ = nullptr;
    records_ = 0;
    backward_done_ = false;
  }

 private:
  struct Record {
    Record* prev;
    void (*run)(Record*) noexcept;
  };
  template <class F>
  struct Node : Record {
    F f;
    Node(Record* prev, F fn) noexcept : Record{prev, &call}, f(std::move(fn)) {}
    static void call(Record* r) noexcept { static_cast<Node*>(r)->f(); }
  };
  static_assert(std::is_trivially_destructible_v<Record>);

  Arena arena_;
  WorkerPool* pool_ = nullptr;
  Record* last_ = nullptr;
  std::size_t records_ = 0;
  bool recording_ = true;
  bool backward_done_ = false;
  Mode mode_ = Mode::training;
};

/// Within its lifetime the tape records nothing (inference); restores the previous state.
template <class T>
class NoGradScope {
 public:
  explicit NoGradScope(Tape<T>& tape) noexcept : tape_(tape), was_(tape.recording()) {
    tape.set_recording(false);
  }
  ~NoGradScope() { tape_.set_recording(was_); }
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  Tape<T>& tape_;
  bool was_;
};

}  // namespace smlm::nn
