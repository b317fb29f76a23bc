#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include <smlm/core/parallel.hpp>

TEST_CASE("parallel_for visits every item exactly once") {
  for (int threads : {0, 1, 2, 3, 8}) {
    CAPTURE(threads);
    for (std::ptrdiff_t n : {0, 1, 2, 7, 1000}) {
      CAPTURE(n);
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> max_worker{-1};
      smlm::parallel_for(n, threads, [&](std::ptrdiff_t i, int worker) {
        hits[static_cast<std::size_t>(i)].fetch_add(1);
        int seen = max_worker.load();
        while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {
        }
      });
      for (auto& h : hits) CHECK(h.load() == 1);
      const int limit = threads == 0 ? smlm::hardware_threads() : threads;
      CHECK(max_worker.load() < limit);
    }
  }
}
