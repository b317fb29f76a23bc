// A small parallel-for over independent items (frames, tiles).
//
// Items are handed out dynamically, so the assignment of items to threads varies from run to run;
// results stay reproducible because every item draws its randomness from its own counter-based
// RNG stream (rng.hpp) and writes only its own output.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace smlm {

/// Threads to use when the caller asks for 0 ("all"): the hardware concurrency, at least 1.
inline int hardware_threads() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

/// Calls f(i, worker) for every i in [0, n) on up to `threads` threads (0 = all hardware threads);
/// worker in [0, threads) lets f use per-thread scratch buffers. f must not throw. With one
/// thread, or n ≤ 1, everything runs on the calling thread.
template <class F>
void parallel_for(std::ptrdiff_t n, int threads, F&& f) {
  if (n <= 0) return;
  if (threads <= 0) threads = hardware_threads();
  const int workers = static_cast<int>(std::min<std::ptrdiff_t>(threads, n));
  if (workers <= 1) {
    for (std::ptrdiff_t i = 0; i < n; ++i) f(i, 0);
    return;
  }
  std::atomic<std::ptrdiff_t> next{0};
  auto run = [&](int worker) {
    for (std::ptrdiff_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) f(i, worker);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (auto& t : pool) t.join();
}

}  // namespace smlm
