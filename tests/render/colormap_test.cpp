#include <doctest/doctest.h>

#include <smlm/render/colormap.hpp>

namespace render = smlm::render;

namespace {
double luma(render::Rgb8 c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }
}  // namespace

TEST_CASE("colour maps: end points and non-decreasing luminance") {
  for (auto map : {render::colormap::grey, render::colormap::hot, render::colormap::viridis}) {
    const auto lut = render::colormap_table(map);
    for (std::size_t i = 1; i < 256; ++i) CHECK(luma(lut[i]) >= luma(lut[i - 1]) - 1e-9);
  }
  const auto grey = render::colormap_table(render::colormap::grey);
  CHECK(grey[0] == render::Rgb8{0, 0, 0});
  CHECK(grey[255] == render::Rgb8{255, 255, 255});
  CHECK(grey[100] == render::Rgb8{100, 100, 100});
  const auto hot = render::colormap_table(render::colormap::hot);
  CHECK(hot[0] == render::Rgb8{0, 0, 0});
  CHECK(hot[255] == render::Rgb8{255, 255, 255});
  CHECK(hot[96].r == 255);  // red saturates at 3/8 (index 95.6), green starts there
  CHECK(hot[96].g <= 1);
  CHECK(hot[96].b == 0);
  CHECK(hot[192].g == 255);  // green saturates at 3/4 (index 191.25), blue starts there
  CHECK(hot[192].b <= 3);
  const auto viridis = render::colormap_table(render::colormap::viridis);
  CHECK(viridis[0] == render::Rgb8{68, 1, 84});
  CHECK(viridis[255] == render::Rgb8{253, 231, 37});
  CHECK(render::parse_colormap("gray") == render::colormap::grey);
  CHECK(!render::parse_colormap("jet"));
}

TEST_CASE("apply_colormap and display_range") {
  smlm::Image<float> image(2, 3);
  image << 0, 1, 2, 3, 4, 100;
  const auto rgb = render::apply_colormap(smlm::const_view(image), 0, 4, render::colormap::grey);
  REQUIRE(rgb.width == 3);
  REQUIRE(rgb.height == 2);
  CHECK(rgb.at(0, 0) == render::Rgb8{0, 0, 0});
  CHECK(rgb.at(0, 1) == render::Rgb8{64, 64, 64});  // round(63.75)
  CHECK(rgb.at(1, 1) == render::Rgb8{255, 255, 255});
  CHECK(rgb.at(1, 2) == render::Rgb8{255, 255, 255});  // saturated
  CHECK(render::display_index(std::numeric_limits<float>::quiet_NaN(), 0, 1) == 0);
  // 5 positive pixels; q = 0.8 → the 4th smallest (ceil(0.8·5) = 4): 4.
  CHECK(render::display_range(smlm::const_view(image), 0.8).second == 4.0f);
  CHECK(render::display_range(smlm::const_view(image), 1.0).second == 100.0f);
  const smlm::Image<float> zeros = smlm::Image<float>::Zero(3, 3);
  CHECK(render::display_range(smlm::const_view(zeros)).second == 1.0f);
}
