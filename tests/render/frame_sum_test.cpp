#include <doctest/doctest.h>

#include <utility>

#include <smlm/render/frame_sum.hpp>

TEST_CASE("summed network output: pixel-wise sum of the frames, strided views") {
  smlm::Stack<float> stack(3, 2, 2);
  for (std::ptrdiff_t f = 0; f < 3; ++f)
    for (std::ptrdiff_t i = 0; i < 4; ++i) stack.data()[f * 4 + i] = static_cast<float>(f * 10 + i);
  const auto sum = smlm::render::sum_frames(stack);
  CHECK(sum(0, 0) == 30.0f);
  CHECK(sum(1, 1) == 39.0f);
  // A 2 × 2 window inside a 4 × 4 buffer.
  smlm::Image<float> big = smlm::Image<float>::Zero(4, 4);
  auto window = smlm::make_view(big.data() + 5, 2, 2, 4);
  smlm::render::add_frame<float, float>(std::as_const(stack).frame(2), window);
  CHECK(big(1, 1) == 20.0f);
  CHECK(big(2, 2) == 23.0f);
  CHECK(big.sum() == 20.0f + 21 + 22 + 23);
  smlm::Image<float> wrong(3, 3);
  CHECK_THROWS_AS((smlm::render::add_frame<float, float>(std::as_const(stack).frame(0), smlm::make_view(wrong))), smlm::assertion_error);
}
