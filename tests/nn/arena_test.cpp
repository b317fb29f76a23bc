// arena.hpp: alignment, growth, reset keeps one block; a training step in steady state makes no
// heap allocation at all (counted by replacing the global allocation functions).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <smlm/nn/arena.hpp>
#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/loss.hpp>
#include <smlm/nn/norm.hpp>
#include <smlm/nn/optimizer.hpp>
#include <smlm/nn/pool.hpp>
#include <smlm/nn/resample.hpp>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

// Every heap allocation of the test executable goes through these; they count while armed.
namespace {
std::atomic<long> allocations{0};
std::atomic<bool> armed{false};
void* counted(std::size_t n, std::size_t align) {
  if (armed.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n) : std::aligned_alloc(align, (n + align - 1) / align * align);
  return p;
}
}  // namespace
void* operator new(std::size_t n) {
  if (void* p = counted(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace smlm::nn;

// With SMLM_ARENA_CHECKED (the asan preset) every piece is its own heap block: the block and
// allocation counts below describe the normal arena only.
#if !defined(SMLM_ARENA_CHECKED)
TEST_CASE("Arena: aligned pieces, growth, reset to one block of the peak size") {
  Arena arena(1000);
  CHECK(arena.heap_allocations() == 1);
  void* a = arena.allocate(3);
  void* b = arena.allocate(100);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 64 == 0);
  CHECK(static_cast<char*>(b) - static_cast<char*>(a) == 64);
  arena.allocate(5000);  // does not fit: a second block
  CHECK(arena.heap_allocations() == 2);
  const std::size_t peak = arena.peak_bytes();
  CHECK(peak == 64 + 128 + 5056);
  arena.reset();
  CHECK(arena.heap_allocations() == 3);  // the two blocks merged into one of `peak` bytes
  CHECK(arena.capacity() >= peak);
  CHECK(arena.bytes_in_use() == 0);
  arena.allocate(3);
  arena.allocate(100);
  arena.allocate(5000);
  arena.reset();
  CHECK(arena.heap_allocations() == 3);  // the same step again: nothing new
  auto* z = arena.allocate_zeroed<double>(17);
  for (int i = 0; i < 17; ++i) CHECK(z[i] == 0.0);
}

TEST_CASE("A training step in steady state performs no heap allocation (1 and 2 threads)") {
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    WorkerPool pool(threads);
    Tape<float> tape(&pool);
    Parameter<float> w1({4, 1, 3, 3}), g1({1, 4, 1, 1}), b1({1, 4, 1, 1}), w2({1, 8, 3, 3});
    Tensor<float> rm({1, 4, 1, 1}), rv({1, 4, 1, 1}, 1.0f);
    fill(g1.value.view(), 1.0f);
    auto x = smlm::testing::random_tensor<float>({2, 1, 16, 16}, 5, 1);
    auto target = smlm::testing::random_tensor<float>({2, 1, 16, 16}, 5, 2);
    Adam<float> adam({.lr = 1e-3});
    Parameter<float>* params[] = {&w1, &g1, &b1, &w2};
    long per_step[5] = {};
    for (int step = 0; step < 5; ++step) {
      const long before = allocations.load();
      armed = true;
      tape.reset();
      for (auto* p : params) p->zero_grad();
      auto h = conv2d(tape, tape.input(x.view()), tape.param(w1));
      h = batch_norm(tape, h, tape.param(g1), tape.param(b1), BatchNormStats<float>{rm.data(), rv.data()});
      h = relu(tape, h);
      auto skip = h;
      h = upsample_nearest(tape, max_pool2x2(tape, h), 2);
      h = conv2d(tape, concat(tape, h, skip), tape.param(w2));
      auto loss = deep_storm_loss(tape, h, tape.input(target.view()));
      tape.backward(loss);
      adam.step(std::span<Parameter<float>* const>(params));
      armed = false;
      per_step[step] = allocations.load() - before;
    }
    // Step 0 sizes the arena and Adam's moments (and step 1 may merge arena blocks); after that, nothing.
    CHECK(per_step[2] == 0);
    CHECK(per_step[3] == 0);
    CHECK(per_step[4] == 0);
    CHECK(per_step[0] > 0);  // the counter does see allocations
  }
}
#endif  // !SMLM_ARENA_CHECKED
