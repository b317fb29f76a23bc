#include <doctest/doctest.h>

#include <smlm/render/scale_bar.hpp>

namespace render = smlm::render;

TEST_CASE("scale bar: length in pixels, placement, does-not-fit") {
  render::RgbImage image(200, 100);
  render::ScaleBarOptions o;
  o.length_nm = 1000;
  o.thickness_px = 3;
  o.margin_px = 5;
  // 1 µm at 10 nm per pixel: 100 pixels.
  REQUIRE(render::burn_scale_bar(image, 10.0, o) == 100);
  int lit = 0, lit_row = 0;
  for (std::ptrdiff_t y = 0; y < image.height; ++y)
    for (std::ptrdiff_t x = 0; x < image.width; ++x) lit += image.at(y, x) == render::Rgb8{255, 255, 255};
  for (std::ptrdiff_t x = 0; x < image.width; ++x) lit_row += image.at(93, x) == render::Rgb8{255, 255, 255};
  CHECK(lit == 300);
  CHECK(lit_row == 100);
  CHECK(image.at(94, 194) == render::Rgb8{255, 255, 255});  // bottom-right corner of the bar
  CHECK(image.at(95, 194) == render::Rgb8{0, 0, 0});
  CHECK(image.at(94, 195) == render::Rgb8{0, 0, 0});
  CHECK(image.at(92, 95) == render::Rgb8{255, 255, 255});  // its left end
  CHECK(image.at(92, 94) == render::Rgb8{0, 0, 0});
  // 2.5 µm at 12 nm per pixel: round(208.3) = 208 > 200 − 5: not drawn.
  render::RgbImage small(200, 100);
  o.length_nm = 2500;
  CHECK(render::burn_scale_bar(small, 12.0, o) == 0);
  CHECK(small.data == std::vector<std::uint8_t>(small.data.size(), 0));
  CHECK(render::nice_scale_bar_nm(6400) == 1000);
  CHECK(render::nice_scale_bar_nm(30000) == 5000);
  CHECK(render::nice_scale_bar_nm(12000) == 2000);
}
