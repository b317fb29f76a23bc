// Summed network output: the super-resolved image of a movie is the sum of the network's output
// frames (each an estimate of that frame's molecule density on the up-sampled grid), as
// Deep-STORM and cellSTORM reconstruct.
#pragma once

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>

namespace smlm::render {

/// sum += frame, pixel by pixel (same size; any strides). Never allocates. Non-finite values
/// are added as they are, so a NaN in the network output shows in the sum.
template <class T, class U>
void add_frame(ConstImageView<U> frame, ImageView<T> sum) SMLM_NOEXCEPT {
  SMLM_ASSERT(frame.rows() == sum.rows() && frame.cols() == sum.cols(), "render::add_frame: sizes differ");
  for (std::ptrdiff_t y = 0; y < sum.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < sum.cols(); ++x) sum(y, x) += static_cast<T>(frame(y, x));
}

/// The sum of every frame of `stack` (frames × height × width) as one image.
template <class T>
Image<T> sum_frames(const Stack<T>& stack) {
  Image<T> sum = Image<T>::Zero(stack.height(), stack.width());
  for (std::ptrdiff_t f = 0; f < stack.frames(); ++f) add_frame<T, T>(stack.frame(f), make_view(sum));
  return sum;
}

}  // namespace smlm::render
