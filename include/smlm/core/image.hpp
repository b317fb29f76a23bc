// Images and stacks.
//
// Convention (DESIGN.md): images are row-major (y, x); rows() is the height, cols() the width;
// pixel (0,0) covers [0,1)×[0,1) in pixel units and its centre is at (0.5, 0.5).
//
// Image<T> is an owning Eigen array, so all of Eigen's array arithmetic applies; ImageView<T>
// and ConstImageView<T> are non-owning maps with an outer (row) stride, used for frames inside a
// Stack, windows inside a larger image, and caller-provided buffers (no allocation).
// Stack<T> owns `frames × height × width` values with frames contiguous, frame-major.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include <smlm/core/config.hpp>

namespace smlm {

template <class T>
using Image = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using ImageView = Eigen::Map<Image<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T>
using ConstImageView = Eigen::Map<const Image<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

/// A view of `height × width` values at `data`, rows `row_stride` elements apart (default: dense).
template <class T>
ImageView<T> make_view(T* data, std::ptrdiff_t height, std::ptrdiff_t width,
                       std::ptrdiff_t row_stride = -1) noexcept {
  return ImageView<T>(data, height, width, Eigen::OuterStride<>(row_stride < 0 ? width : row_stride));
}
template <class T>
ConstImageView<T> make_view(const T* data, std::ptrdiff_t height, std::ptrdiff_t width,
                            std::ptrdiff_t row_stride = -1) noexcept {
  return ConstImageView<T>(data, height, width,
                           Eigen::OuterStride<>(row_stride < 0 ? width : row_stride));
}
template <class T>
ImageView<T> make_view(Image<T>& image) noexcept {
  return make_view(image.data(), image.rows(), image.cols());
}
template <class T>
ConstImageView<T> make_view(const Image<T>& image) noexcept {
  return make_view(image.data(), image.rows(), image.cols());
}

/// The read-only view of a mutable view or image (Eigen does not convert Map<Image> to
/// Map<const Image> implicitly), for passing a caller's buffer where a ConstImageView is taken.
template <class T>
ConstImageView<T> const_view(const ImageView<T>& view) noexcept {
  return make_view(static_cast<const T*>(view.data()), view.rows(), view.cols(), view.outerStride());
}
template <class T>
ConstImageView<T> const_view(const Image<T>& image) noexcept {
  return make_view(image);
}

/// `frames` images of equal size, stored contiguously frame after frame (index 0-based here;
/// tables number frames from 1).
template <class T>
class Stack {
 public:
  Stack() = default;
  Stack(std::ptrdiff_t frames, std::ptrdiff_t height, std::ptrdiff_t width, T fill = T{})
      : frames_(frames), height_(height), width_(width) {
    SMLM_ASSERT(frames >= 0 && height >= 0 && width >= 0, "Stack dimensions must be non-negative");
    data_.assign(static_cast<std::size_t>(frames * height * width), fill);
  }

  std::ptrdiff_t frames() const noexcept { return frames_; }
  std::ptrdiff_t height() const noexcept { return height_; }
  std::ptrdiff_t width() const noexcept { return width_; }
  std::ptrdiff_t frame_size() const noexcept { return height_ * width_; }
  std::size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }

  T* data() noexcept { return data_.data(); }
  const T* data() const noexcept { return data_.data(); }

  ImageView<T> frame(std::ptrdiff_t index) SMLM_NOEXCEPT {
    SMLM_ASSERT(index >= 0 && index < frames_, "Stack::frame index out of range");
    return make_view(data_.data() + index * frame_size(), height_, width_);
  }
  ConstImageView<T> frame(std::ptrdiff_t index) const SMLM_NOEXCEPT {
    SMLM_ASSERT(index >= 0 && index < frames_, "Stack::frame index out of range");
    return make_view(data_.data() + index * frame_size(), height_, width_);
  }

  T& operator()(std::ptrdiff_t f, std::ptrdiff_t y, std::ptrdiff_t x) SMLM_NOEXCEPT {
    SMLM_ASSERT(f >= 0 && f < frames_ && y >= 0 && y < height_ && x >= 0 && x < width_,
                "Stack index out of range");
    return data_[static_cast<std::size_t>((f * height_ + y) * width_ + x)];
  }
  const T& operator()(std::ptrdiff_t f, std::ptrdiff_t y, std::ptrdiff_t x) const SMLM_NOEXCEPT {
    SMLM_ASSERT(f >= 0 && f < frames_ && y >= 0 && y < height_ && x >= 0 && x < width_,
                "Stack index out of range");
    return data_[static_cast<std::size_t>((f * height_ + y) * width_ + x)];
  }

  /// Appends one frame (copies); the first frame appended to an empty stack sets the size.
  template <class Derived>
  void push_back(const Eigen::ArrayBase<Derived>& image) {
    if (frames_ == 0) {
      height_ = image.rows();
      width_ = image.cols();
    }
    SMLM_ASSERT(image.rows() == height_ && image.cols() == width_, "Stack::push_back: frame size differs");
    data_.resize(data_.size() + static_cast<std::size_t>(frame_size()));
    frame(frames_++) = image.template cast<T>();
  }
  void clear() noexcept {
    data_.clear();
    frames_ = 0;
  }

 private:
  std::ptrdiff_t frames_ = 0, height_ = 0, width_ = 0;
  std::vector<T> data_;
};

}  // namespace smlm
