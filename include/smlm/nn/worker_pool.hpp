// WorkerPool: a fixed set of threads, started once, that run parallel loops without allocating.
//
// core/parallel.hpp's parallel_for starts threads per call (it allocates); a training step calls
// dozens of kernels, so the network engine keeps its threads. run(n, f) calls f(i, worker) for
// every i in [0, n), worker in [0, threads()); items are handed out dynamically. Kernels make
// their results independent of that assignment (each item writes only its own output, and
// reductions are split into a fixed number of parts summed in a fixed order), which is why the
// same seed gives the same weights on 1 and 2 threads. f must not throw. A pool of 1 thread runs
// everything on the caller. run() is not reentrant and is meant for one caller thread.
//
// With SMLM_NO_THREADS (core/config.hpp: bare-metal targets) WorkerPool is the serial pool below,
// with the same interface and no hosted-only header: the kernels that take a WorkerPool* build
// unchanged, and every loop runs on the caller, as with a pool of 1 thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include <smlm/core/config.hpp>

#if defined(SMLM_NO_THREADS)

namespace smlm::nn {

class WorkerPool {
 public:
  explicit WorkerPool(int = 1) noexcept {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const noexcept { return 1; }

  template <class F>
  void run(std::ptrdiff_t n, F&& f) noexcept {
    for (std::ptrdiff_t i = 0; i < n; ++i) f(i, 0);
  }
};

}  // namespace smlm::nn

#else

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace smlm::nn {

class WorkerPool {
 public:
  explicit WorkerPool(int threads = 1) {
    threads_ = threads < 1 ? 1 : threads;
    workers_.reserve(static_cast<std::size_t>(threads_ - 1));
    for (int w = 1; w < threads_; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() const noexcept { return threads_; }

  template <class F>
  void run(std::ptrdiff_t n, F&& f) noexcept {
    if (n <= 0) return;
    if (threads_ == 1 || n == 1) {
      for (std::ptrdiff_t i = 0; i < n; ++i) f(i, 0);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    Job job{[](void* ctx, std::ptrdiff_t i, int worker) { (*static_cast<Fn*>(ctx))(i, worker); },
            const_cast<void*>(static_cast<const void*>(&f)), n};
    {
      std::lock_guard lock(mutex_);
      job_ = job;
      next_.store(0, std::memory_order_relaxed);
      busy_ = threads_ - 1;
      ++generation_;
    }
    wake_.notify_all();
    drain(job, 0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  struct Job {
    void (*call)(void*, std::ptrdiff_t, int) = nullptr;
    void* ctx = nullptr;
    std::ptrdiff_t n = 0;
  };
  void drain(const Job& job, int worker) noexcept {
    for (std::ptrdiff_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < job.n;)
      job.call(job.ctx, i, worker);
  }
  void worker_loop(int worker) {
    std::uint64_t seen = 0;
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      drain(job, worker);
      {
        std::lock_guard lock(mutex_);
        if (--busy_ == 0) done_.notify_one();
      }
    }
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  Job job_;
  std::atomic<std::ptrdiff_t> next_{0};
  int busy_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace smlm::nn

#endif  // SMLM_NO_THREADS
