// The sweep's line chart (examples/cli/demo_plot.hpp): the bitmap font draws exactly its glyphs'
// pixels, and series land where their values say.
#include <doctest/doctest.h>

#include <bitset>
#include <cstdint>
#include <string>

#include "demo_plot.hpp"

using namespace smlm;
using namespace smlm::cli::demo;

namespace {

std::size_t count_colour(const render::RgbImage& image, render::Rgb8 c, double* mean_row = nullptr) {
  std::size_t n = 0;
  double rows = 0;
  for (std::ptrdiff_t y = 0; y < image.height; ++y)
    for (std::ptrdiff_t x = 0; x < image.width; ++x)
      if (image.at(y, x) == c) ++n, rows += double(y);
  if (mean_row) *mean_row = n ? rows / double(n) : -1;
  return n;
}

std::size_t glyph_bits(char c) {
  std::size_t n = 0;
  for (const std::uint8_t row : font::glyph(c)) n += std::bitset<8>(row).count();
  return n;
}

}  // namespace

TEST_CASE("the font: every glyph fits 5 x 7, lower case prints as upper case, unknown characters are blank") {
  for (const char c : std::string("0123456789.-:@()/=ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
    CAPTURE(c);
    CHECK(glyph_bits(c) > 0);
    for (const std::uint8_t row : font::glyph(c)) CHECK(row < 0x20);
  }
  CHECK(font::glyph('q') == font::glyph('Q'));
  CHECK(glyph_bits('~') == 0);
  CHECK(glyph_bits(' ') == 0);
  // Distinct glyphs for the characters a chart uses.
  CHECK(font::glyph('0') != font::glyph('O'));
  CHECK(font::glyph('1') != font::glyph('I'));
  CHECK(font::glyph('5') != font::glyph('S'));
}

TEST_CASE("draw_text sets scale^2 pixels per glyph bit, inside text_width") {
  const render::Rgb8 ink{10, 20, 30};
  for (const int scale : {1, 2, 3}) {
    CAPTURE(scale);
    render::RgbImage image(120, 40);
    const std::string text = "Q60 10";
    draw_text(image, 4, 5, text, ink, scale);
    std::size_t bits = 0;
    for (const char c : text) bits += glyph_bits(c);
    CHECK(count_colour(image, ink) == bits * static_cast<std::size_t>(scale * scale));
    std::ptrdiff_t max_x = -1, max_y = -1;
    for (std::ptrdiff_t y = 0; y < image.height; ++y)
      for (std::ptrdiff_t x = 0; x < image.width; ++x)
        if (image.at(y, x) == ink) max_x = std::max(max_x, x), max_y = std::max(max_y, y);
    CHECK(max_x < 4 + font::text_width(text, scale));
    CHECK(max_y == 5 + 7 * scale - 1);  // '6' and 'Q' reach the bottom row
  }
  // Clipped at the image's edges, never out of bounds.
  render::RgbImage small(8, 8);
  draw_text(small, -3, -3, "WWW", ink, 2);
  CHECK(count_colour(small, ink) > 0);
}

TEST_CASE("draw_line_chart: a higher value lies higher, a log axis spaces decades evenly") {
  const render::Rgb8 red{200, 0, 0};
  auto chart_of = [&](std::vector<std::pair<double, double>> points, bool log_x) {
    LineChart chart;
    chart.log_x = log_x;
    chart.x_min = 10, chart.x_max = 10000;
    chart.series.push_back({"A", std::move(points), red, false, marker::square});
    return draw_line_chart(chart);
  };
  double high = 0, low = 0;
  CHECK(count_colour(chart_of({{100, 0.9}}, true), red, &high) > 0);
  CHECK(count_colour(chart_of({{100, 0.1}}, true), red, &low) > 0);
  CHECK(high < low);
  // 100 and 1000 on a log axis from 10 to 10000: the square markers sit at 1/3 and 2/3 of the axis,
  // so the gap between them equals the gap from 10 (the axis start) to 100.
  auto marker_x = [&](double x) {
    const render::RgbImage image = chart_of({{x, 0.5}}, true);
    double sum = 0;
    std::size_t n = 0;
    for (std::ptrdiff_t y = 0; y < image.height; ++y)
      for (std::ptrdiff_t px = 0; px < image.width; ++px)
        if (image.at(y, px) == red && y > 100) sum += double(px), ++n;  // below the legend's marker
    return n ? sum / double(n) : -1.0;
  };
  const double x10 = marker_x(10), x100 = marker_x(100), x1000 = marker_x(1000);
  CHECK(x1000 - x100 == doctest::Approx(x100 - x10).epsilon(0.02));
}
