#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <smlm/render/histogram.hpp>

namespace render = smlm::render;

namespace {
smlm::LocalizationTable points(std::initializer_list<std::pair<double, double>> xy) {
  smlm::LocalizationTable t;
  for (auto [x, y] : xy) {
    t.frame.push_back(1);
    t.x_nm.push_back(x);
    t.y_nm.push_back(y);
  }
  return t;
}
}  // namespace

TEST_CASE("image_size: whole pixels, rounding guard, preconditions") {
  const render::FieldOfView fov{0, 0, 6400, 3000};
  CHECK(render::image_size(fov, 10).cols == 640);
  CHECK(render::image_size(fov, 10).rows == 300);
  CHECK(render::image_size(fov, 7).cols == 915);  // 914.3 → 915
  CHECK(render::image_size({0, 0, 0.1 * 3, 1}, 0.1).cols == 3);  // 0.30000000000000004 / 0.1
  CHECK_THROWS_AS(render::image_size(fov, 0), smlm::assertion_error);
  CHECK_THROWS_AS(render::image_size({0, 0, -1, 5}, 10), smlm::assertion_error);
}

TEST_CASE("histogram: each localization lands in the pixel that contains it; mass is the count inside") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Field starts at (100, 200) nm, 10 nm pixels, 5 × 4 pixels.
  const render::FieldOfView fov{100, 200, 50, 40};
  const auto t = points({{100, 200}, {149.999, 239.999}, {125, 215}, {125, 219.9}, {150, 210}, {99.9, 210}, {nan, 210}});
  smlm::Image<float> image = smlm::Image<float>::Zero(4, 5);
  const std::size_t rendered = render::add_histogram(t, fov, 10, smlm::make_view(image));
  CHECK(rendered == 4);
  CHECK(image.sum() == 4.0f);
  CHECK(image(0, 0) == 1.0f);
  CHECK(image(3, 4) == 1.0f);
  CHECK(image(1, 2) == 2.0f);
  // Adds, not overwrites.
  render::add_histogram(t, fov, 10, smlm::make_view(image));
  CHECK(image(1, 2) == 4.0f);
  // The bounding field keeps the row at the maximum inside.
  const auto bounded = render::bounding_field_of_view(t, 10);
  CHECK(bounded.x_nm == 0.0);
  CHECK(render::image_size(bounded, 10).cols == 16);  // x = 150 is in pixel 15
  CHECK(render::image_size(bounded, 10).rows == 24);
  CHECK(render::render_histogram(t, bounded, 10).sum() == 6.0f);
}
