// Tensors: 4-D NCHW arrays of a scalar type (float by default, double for gradient checks).
//
// Layout: element (n, c, y, x) of a contiguous tensor of shape {N, C, H, W} is at offset
// ((n·C + c)·H + y)·W + x — batch, channel, row, column, the column fastest; each channel plane
// is a row-major (y, x) image as everywhere else in smlmkit. A view carries explicit strides, so
// a sample, a channel range or a window of a larger tensor is a view without a copy; the kernels
// of this module take contiguous views (is_contiguous()) unless they say otherwise.
//
// Tensor<T> owns its elements in one 64-byte aligned block (a cache line; the widest SIMD load
// of AVX-512). TensorView<T> / TensorView<const T> never own: they map caller buffers, arena
// blocks or a Tensor.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include <smlm/core/config.hpp>

namespace smlm::nn {

inline constexpr std::size_t tensor_alignment = 64;

/// Extents of an NCHW tensor (all ≥ 0).
struct Shape {
  std::ptrdiff_t n = 0, c = 0, h = 0, w = 0;
  constexpr std::ptrdiff_t size() const noexcept { return n * c * h * w; }
  constexpr std::ptrdiff_t plane() const noexcept { return h * w; }
  constexpr bool valid() const noexcept { return n >= 0 && c >= 0 && h >= 0 && w >= 0; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

/// Strides (in elements) of the dense NCHW layout of `s`.
constexpr std::array<std::ptrdiff_t, 4> contiguous_strides(const Shape& s) noexcept {
  return {s.c * s.h * s.w, s.h * s.w, s.w, 1};
}

/// Non-owning view of NCHW data; T may be const.
template <class T = float>
class TensorView {
 public:
  using value_type = std::remove_const_t<T>;

  constexpr TensorView() noexcept = default;
  constexpr TensorView(T* data, Shape shape) noexcept
      : data_(data), shape_(shape), strides_(contiguous_strides(shape)) {}
  constexpr TensorView(T* data, Shape shape, std::array<std::ptrdiff_t, 4> strides) noexcept
      : data_(data), shape_(shape), strides_(strides) {}
  /// A view of mutable data converts to a read-only view.
  template <class U>
    requires(std::is_const_v<T> && std::is_same_v<const U, T>)
  constexpr TensorView(const TensorView<U>& other) noexcept  // NOLINT: implicit by design
      : data_(other.data()), shape_(other.shape()), strides_(other.strides()) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr const Shape& shape() const noexcept { return shape_; }
  constexpr const std::array<std::ptrdiff_t, 4>& strides() const noexcept { return strides_; }
  constexpr std::ptrdiff_t size() const noexcept { return shape_.size(); }
  constexpr bool empty() const noexcept { return shape_.size() == 0; }
  constexpr std::ptrdiff_t n() const noexcept { return shape_.n; }
  constexpr std::ptrdiff_t c() const noexcept { return shape_.c; }
  constexpr std::ptrdiff_t h() const noexcept { return shape_.h; }
  constexpr std::ptrdiff_t w() const noexcept { return shape_.w; }
  constexpr bool is_contiguous() const noexcept { return strides_ == contiguous_strides(shape_); }

  constexpr T& operator()(std::ptrdiff_t n, std::ptrdiff_t c, std::ptrdiff_t y,
                          std::ptrdiff_t x) const SMLM_NOEXCEPT {
    SMLM_ASSERT(n >= 0 && n < shape_.n && c >= 0 && c < shape_.c && y >= 0 && y < shape_.h &&
                    x >= 0 && x < shape_.w,
                "TensorView index out of range");
    return data_[n * strides_[0] + c * strides_[1] + y * strides_[2] + x * strides_[3]];
  }
  /// Flat access for contiguous views.
  constexpr T& operator[](std::ptrdiff_t i) const noexcept { return data_[i]; }

  /// Samples [first, first + count) as a view (no copy).
  constexpr TensorView samples(std::ptrdiff_t first, std::ptrdiff_t count) const SMLM_NOEXCEPT {
    SMLM_ASSERT(first >= 0 && count >= 0 && first + count <= shape_.n, "sample range out of range");
    return {data_ + first * strides_[0], {count, shape_.c, shape_.h, shape_.w}, strides_};
  }
  constexpr TensorView sample(std::ptrdiff_t i) const SMLM_NOEXCEPT { return samples(i, 1); }
  /// Channels [first, first + count) of every sample (not contiguous unless N == 1).
  constexpr TensorView channels(std::ptrdiff_t first, std::ptrdiff_t count) const SMLM_NOEXCEPT {
    SMLM_ASSERT(first >= 0 && count >= 0 && first + count <= shape_.c, "channel range out of range");
    return {data_ + first * strides_[1], {shape_.n, count, shape_.h, shape_.w}, strides_};
  }
  /// The same elements under another shape of equal size (contiguous views only).
  constexpr TensorView reshaped(Shape s) const SMLM_NOEXCEPT {
    SMLM_ASSERT(is_contiguous() && s.size() == size(), "reshape needs a contiguous view of equal size");
    return {data_, s};
  }

  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + size(); }

 private:
  T* data_ = nullptr;
  Shape shape_{};
  std::array<std::ptrdiff_t, 4> strides_{0, 0, 0, 0};
};

/// Copies `src` into `dst` (same shape; any strides).
template <class T>
void copy(TensorView<const T> src, TensorView<T> dst) SMLM_NOEXCEPT {
  SMLM_ASSERT(src.shape() == dst.shape(), "copy: shapes differ");
  if (src.is_contiguous() && dst.is_contiguous()) {
    if (src.size() > 0) std::memcpy(dst.data(), src.data(), sizeof(T) * static_cast<std::size_t>(src.size()));
    return;
  }
  for (std::ptrdiff_t n = 0; n < src.n(); ++n)
    for (std::ptrdiff_t c = 0; c < src.c(); ++c)
      for (std::ptrdiff_t y = 0; y < src.h(); ++y)
        for (std::ptrdiff_t x = 0; x < src.w(); ++x) dst(n, c, y, x) = src(n, c, y, x);
}

template <class T>
void fill(TensorView<T> t, T value) noexcept {
  if (t.is_contiguous()) {
    std::fill(t.begin(), t.end(), value);
    return;
  }
  for (std::ptrdiff_t n = 0; n < t.n(); ++n)
    for (std::ptrdiff_t c = 0; c < t.c(); ++c)
      for (std::ptrdiff_t y = 0; y < t.h(); ++y)
        for (std::ptrdiff_t x = 0; x < t.w(); ++x) t(n, c, y, x) = value;
}

namespace detail {
struct AlignedDelete {
  void operator()(void* p) const noexcept { ::operator delete(p, std::align_val_t(tensor_alignment)); }
};
}  // namespace detail

/// Owning, dense NCHW tensor in 64-byte aligned storage. Zero-initialised on construction.
/// Construction allocates (it is not a kernel); moving is cheap, copying copies the elements.
template <class T = float>
class Tensor {
  static_assert(std::is_floating_point_v<T>, "Tensor holds float or double");

 public:
  Tensor() = default;
  explicit Tensor(Shape shape) : shape_(shape) {
    SMLM_ASSERT(shape.valid(), "Tensor extents must be non-negative");
    if (shape.size() > 0) {
      const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(shape.size());
      data_ = static_cast<T*>(::operator new(bytes, std::align_val_t(tensor_alignment)));
      std::memset(data_, 0, bytes);
    }
  }
  Tensor(Shape shape, T value) : Tensor(shape) { std::fill(begin(), end(), value); }
  Tensor(const Tensor& o) : Tensor(o.shape_) { std::copy(o.begin(), o.end(), begin()); }
  Tensor(Tensor&& o) noexcept : data_(std::exchange(o.data_, nullptr)), shape_(std::exchange(o.shape_, {})) {}
  Tensor& operator=(Tensor o) noexcept {
    std::swap(data_, o.data_);
    std::swap(shape_, o.shape_);
    return *this;
  }
  ~Tensor() { detail::AlignedDelete{}(data_); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  const Shape& shape() const noexcept { return shape_; }
  std::ptrdiff_t size() const noexcept { return shape_.size(); }
  bool empty() const noexcept { return size() == 0; }
  TensorView<T> view() noexcept { return {data_, shape_}; }
  TensorView<const T> view() const noexcept { return {data_, shape_}; }
  operator TensorView<T>() noexcept { return view(); }              // NOLINT
  operator TensorView<const T>() const noexcept { return view(); }  // NOLINT
  T& operator()(std::ptrdiff_t n, std::ptrdiff_t c, std::ptrdiff_t y, std::ptrdiff_t x) SMLM_NOEXCEPT {
    return view()(n, c, y, x);
  }
  const T& operator()(std::ptrdiff_t n, std::ptrdiff_t c, std::ptrdiff_t y, std::ptrdiff_t x) const SMLM_NOEXCEPT {
    return view()(n, c, y, x);
  }
  T& operator[](std::ptrdiff_t i) noexcept { return data_[i]; }
  const T& operator[](std::ptrdiff_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size(); }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size(); }

 private:
  T* data_ = nullptr;
  Shape shape_{};
};

}  // namespace smlm::nn
