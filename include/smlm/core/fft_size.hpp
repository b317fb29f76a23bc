// FFT lengths: Eigen's FFT (kissfft) is fast for lengths whose prime factors are 2, 3 and 5.
#pragma once

#include <algorithm>
#include <cstddef>

namespace smlm {

/// The smallest n' >= n (and >= 1) whose prime factors are 2, 3 and 5.
inline std::ptrdiff_t fast_fft_size(std::ptrdiff_t n) noexcept {
  for (std::ptrdiff_t m = std::max<std::ptrdiff_t>(n, 1);; ++m) {
    std::ptrdiff_t r = m;
    for (const std::ptrdiff_t p : {2, 3, 5})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

}  // namespace smlm
