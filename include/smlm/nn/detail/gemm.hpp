// Matrix products for the convolution kernels: Eigen's blocked GEBP kernel, with its packing
// buffers supplied by the caller so that a product never allocates.
//
// Eigen::Map products would be simpler but Eigen takes its packing buffers from the heap once
// they exceed EIGEN_STACK_ALLOCATION_LIMIT, which a training step must not do. We therefore call
// Eigen's internal general_matrix_matrix_product (stable across Eigen 3.3–3.4) with a
// level3_blocking whose buffers live in the caller's scratch. gemm_ref is the plain triple loop
// that defines the result; tests compare the two.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cstddef>

#include <Eigen/Core>

namespace smlm::nn::detail {

/// Storage of a row-major operand: as stored, or transposed (op(A) = Aᵀ).
enum class trans { no, yes };

template <class T>
class ScratchBlocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  ScratchBlocking(T* a, T* b, Eigen::Index kc, Eigen::Index mc, Eigen::Index nc) noexcept {
    this->m_blockA = a;
    this->m_blockB = b;
    this->m_kc = kc;
    this->m_mc = mc;
    this->m_nc = nc;
  }
};

struct GemmBlocking {
  Eigen::Index kc, mc, nc;
  std::size_t size_a() const noexcept { return static_cast<std::size_t>(kc * mc); }
  std::size_t size_b() const noexcept { return static_cast<std::size_t>(kc * nc); }
};

/// Eigen's cache blocking for the column-major problem (N×K)·(K×M) that a row-major
/// (M×K)·(K×N) product is computed as.
template <class T>
GemmBlocking gemm_blocking(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) noexcept {
  Eigen::Index kc = k, mc = n, nc = m;
  Eigen::internal::computeProductBlockingSizes<T, T, 1, Eigen::Index>(kc, mc, nc, 1);
  return {kc, mc, nc};
}

/// Scratch elements the packing buffers of blocking b take (A's block rounded to 64 bytes, then
/// B's, plus alignment slack).
template <class T>
std::size_t gemm_footprint(const GemmBlocking& b) noexcept {
  constexpr std::size_t pad = 64 / sizeof(T);
  return (b.size_a() + pad - 1) / pad * pad + b.size_b() + pad;
}

/// Scratch elements gemm() prefers for these sizes: Eigen's cache blocking of the problem.
/// Eigen's blocking is not monotonic in the sizes (a smaller n can get larger blocks), so gemm()
/// also takes the size of the scratch it is given and shrinks its blocks to fit.
template <class T>
std::size_t gemm_scratch_size(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) noexcept {
  return gemm_footprint<T>(gemm_blocking<T>(m, n, k));
}

/// Eigen's blocking for (m, n, k), its blocks halved (mc first, then nc, then kc) until they fit
/// `capacity` elements of scratch.
template <class T>
GemmBlocking gemm_blocking_within(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, std::size_t capacity) noexcept {
  GemmBlocking b = gemm_blocking<T>(m, n, k);
  while (gemm_footprint<T>(b) > capacity && (b.mc > 1 || b.nc > 1 || b.kc > 1)) {
    if (b.mc > 8) {
      b.mc /= 2;
    } else if (b.nc > 4) {
      b.nc /= 2;
    } else if (b.kc > 1) {
      b.kc /= 2;
    } else {
      b.mc = std::max<Eigen::Index>(1, b.mc / 2), b.nc = std::max<Eigen::Index>(1, b.nc / 2);
    }
  }
  return b;
}

/// C (M×N, row-major, leading dimension ldc) += alpha · op(A) · op(B), where op(A) is M×K and
/// op(B) is K×N; A and B are row-major with leading dimensions lda, ldb. scratch holds
/// `scratch_size` elements, 64-byte aligned; gemm_scratch_size<T>(m, n, k) of them give Eigen's
/// preferred blocking, fewer (at least 2·64 bytes' worth plus 2) give smaller blocks.
template <trans TA, trans TB, class T>
void gemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T alpha, const T* a, std::ptrdiff_t lda,
          const T* b, std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc, T* scratch, std::size_t scratch_size) noexcept {
  if (m == 0 || n == 0 || k == 0) return;
  using namespace Eigen;
  const GemmBlocking bl = gemm_blocking_within<T>(m, n, k, scratch_size);
  constexpr std::size_t pad = 64 / sizeof(T);
  T* block_a = scratch;
  T* block_b = scratch + (bl.size_a() + pad - 1) / pad * pad;
  ScratchBlocking<T> blocking(block_a, block_b, bl.kc, bl.mc, bl.nc);
  // Column-major view: Cᵀ (N×M) = op(B)ᵀ (N×K) · op(A)ᵀ (K×M). A row-major matrix read
  // column-major is its transpose.
  constexpr int lhs_order = TB == trans::no ? ColMajor : RowMajor;
  constexpr int rhs_order = TA == trans::no ? ColMajor : RowMajor;
  internal::general_matrix_matrix_product<Index, T, lhs_order, false, T, rhs_order, false, ColMajor, 1>::run(
      n, m, k, b, ldb, a, lda, c, 1, ldc, alpha, blocking, nullptr);
}

/// The definition: C += alpha · op(A) · op(B), accumulated in the order p = 0 .. K-1.
template <trans TA, trans TB, class T>
void gemm_ref(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T alpha, const T* a, std::ptrdiff_t lda,
              const T* b, std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc) noexcept {
  for (std::ptrdiff_t i = 0; i < m; ++i)
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      T s = 0;
      for (std::ptrdiff_t p = 0; p < k; ++p) {
        const T av = TA == trans::no ? a[i * lda + p] : a[p * lda + i];
        const T bv = TB == trans::no ? b[p * ldb + j] : b[j * ldb + p];
        s += av * bv;
      }
      c[i * ldc + j] += alpha * s;
    }
}

}  // namespace smlm::nn::detail
