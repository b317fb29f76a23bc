// Weight initialisation, seeded from the library RNG: parameter `stream` (a layer index chosen by
// the model) draws from Philox4x32(seed, stream, rng_purpose::init), so a model's initial weights
// depend only on (seed, layer), never on the order layers were built or the thread count.
//
// For weights [C_out, C_in, k, k]: fan_in = C_in·k², fan_out = C_out·k² (PyTorch's convention).
//   he_normal        N(0, 2/fan_in)                     (He et al. 2015, for ReLU networks)
//   glorot_uniform   U(−a, a), a = √(6/(fan_in + fan_out))  (Glorot & Bengio 2010)
//   orthogonal       rows of the C_out × fan_in matrix orthonormal (or its columns, when
//                    C_out > fan_in), times gain (Saxe et al. 2014); Q of the QR decomposition of
//                    a Gaussian matrix with signs fixed by diag(R), as torch.nn.init.orthogonal_.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <cmath>
#include <cstdint>

#include <Eigen/Core>
#include <Eigen/QR>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/nn/tape.hpp>

namespace smlm::nn {

struct Fans {
  double in, out;
};
inline Fans fans(const Shape& w) noexcept {
  return {double(w.c * w.h * w.w), double(w.n * w.h * w.w)};
}

template <class T>
void he_normal(Parameter<T>& p, std::uint64_t seed, std::uint32_t stream) {
  Philox4x32 rng(seed, stream, rng_purpose::init);
  const double sd = std::sqrt(2.0 / fans(p.shape()).in);
  for (auto& v : p.value) v = static_cast<T>(normal(rng, 0.0, sd));
}

template <class T>
void glorot_uniform(Parameter<T>& p, std::uint64_t seed, std::uint32_t stream) {
  Philox4x32 rng(seed, stream, rng_purpose::init);
  const Fans f = fans(p.shape());
  const double a = std::sqrt(6.0 / (f.in + f.out));
  for (auto& v : p.value) v = static_cast<T>(a * (2 * uniform01<double>(rng) - 1));
}

template <class T>
void orthogonal(Parameter<T>& p, std::uint64_t seed, std::uint32_t stream, double gain = 1.0) {
  const Eigen::Index rows = p.shape().n, cols = p.shape().c * p.shape().h * p.shape().w;
  const bool tall = rows >= cols;
  const Eigen::Index r = tall ? rows : cols, c = tall ? cols : rows;
  Philox4x32 rng(seed, stream, rng_purpose::init);
  Eigen::MatrixXd a(r, c);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j) a(i, j) = normal(rng, 0.0, 1.0);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(r, c);
  const Eigen::MatrixXd rr = qr.matrixQR().topLeftCorner(c, c);
  for (Eigen::Index j = 0; j < c; ++j)
    if (rr(j, j) < 0) q.col(j) *= -1;
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) p.value[i * cols + j] = static_cast<T>(gain * (tall ? q(i, j) : q(j, i)));
}

}  // namespace smlm::nn
