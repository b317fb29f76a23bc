// The plot of `smlm demo --sweep` (demo_sweep.hpp): a line chart drawn straight into an RGB image,
// so the report needs no plotting program. Text is a 5 × 7 bitmap font (digits, capitals and a
// little punctuation; lower case prints as capitals), scaled by an integer.
//
//   LineChart chart{.title = "JACCARD AT 100 NM", ...};
//   chart.series.push_back({"Q60 NETWORK", {{50, 0.41}, {100, 0.83}}, red, /*dashed=*/false, marker::circle});
//   render::RgbImage png = draw_line_chart(chart);
//
// The x axis may be logarithmic; its ticks are the values given (the sweep's photon counts).
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <smlm/render/colormap.hpp>

namespace smlm::cli::demo {

namespace font {

inline constexpr int glyph_width = 5, glyph_height = 7, advance = 6;

/// The rows of `c`'s glyph, top first, bit 4 the leftmost column; blank for unknown characters.
inline std::array<std::uint8_t, 7> glyph(char c) {
  struct Glyph {
    char c;
    std::array<std::uint8_t, 7> rows;
  };
  static constexpr Glyph glyphs[] = {
      {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
      {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
      {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
      {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
      {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'@', {0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E}},
      {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
      {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
      {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
      {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
      {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
      {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
      {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
      {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
      {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
      {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
      {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
      {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
      {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
      {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
  };
  const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : glyphs)
    if (g.c == u) return g.rows;
  return {};
}

/// Width in pixels of `text` at `scale` (no trailing gap).
inline std::ptrdiff_t text_width(const std::string& text, int scale) {
  return text.empty() ? 0 : static_cast<std::ptrdiff_t>((advance * text.size() - 1) * static_cast<std::size_t>(scale));
}

}  // namespace font

inline void put_pixel(render::RgbImage& image, std::ptrdiff_t x, std::ptrdiff_t y, render::Rgb8 c) {
  if (y >= 0 && y < image.height && x >= 0 && x < image.width) image.set(y, x, c);
}

/// `text` with its top-left corner at (x, y), each font pixel a `scale` × `scale` square.
inline void draw_text(render::RgbImage& image, std::ptrdiff_t x, std::ptrdiff_t y, const std::string& text, render::Rgb8 c,
                      int scale = 2) {
  for (std::size_t k = 0; k < text.size(); ++k) {
    const std::array<std::uint8_t, 7> rows = font::glyph(text[k]);
    const std::ptrdiff_t x0 = x + static_cast<std::ptrdiff_t>(k) * font::advance * scale;
    for (int r = 0; r < font::glyph_height; ++r)
      for (int col = 0; col < font::glyph_width; ++col)
        if (rows[static_cast<std::size_t>(r)] & (0x10 >> col))
          for (int dy = 0; dy < scale; ++dy)
            for (int dx = 0; dx < scale; ++dx) put_pixel(image, x0 + col * scale + dx, y + r * scale + dy, c);
  }
}

/// A line `width` pixels thick from (x0, y0) to (x1, y1); `dash` > 0 draws dash-long dashes with
/// equal gaps.
inline void draw_line(render::RgbImage& image, double x0, double y0, double x1, double y1, render::Rgb8 c, int width = 1,
                      double dash = 0) {
  const double length = std::hypot(x1 - x0, y1 - y0);
  const int steps = std::max(1, static_cast<int>(std::ceil(2 * length)));
  for (int k = 0; k <= steps; ++k) {
    const double t = double(k) / steps;
    if (dash > 0 && std::fmod(t * length, 2 * dash) >= dash) continue;
    const double x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
    for (int dy = 0; dy < width; ++dy)
      for (int dx = 0; dx < width; ++dx)
        put_pixel(image, static_cast<std::ptrdiff_t>(std::lround(x - 0.5 * (width - 1))) + dx,
                  static_cast<std::ptrdiff_t>(std::lround(y - 0.5 * (width - 1))) + dy, c);
  }
}

enum class marker : std::uint8_t { circle, square };

/// A filled marker of `radius` pixels centred on (x, y).
inline void draw_marker(render::RgbImage& image, double x, double y, marker m, int radius, render::Rgb8 c) {
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx)
      if (m == marker::square || dx * dx + dy * dy <= radius * radius + radius)
        put_pixel(image, static_cast<std::ptrdiff_t>(std::lround(x)) + dx, static_cast<std::ptrdiff_t>(std::lround(y)) + dy, c);
}

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  ///< (x, y); drawn in this order
  render::Rgb8 colour;
  bool dashed = false;
  marker mark = marker::circle;
  int mark_size = 4;     ///< marker radius, pixels; 0: no markers
  bool connect = true;   ///< draw the line through the points
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<double> x_ticks;  ///< labelled x values (also the grid)
  bool log_x = false;
  double x_min = 1, x_max = 10, y_min = 0, y_max = 1, y_step = 0.2;
  std::ptrdiff_t width = 760, height = 460;
  std::vector<Series> series;
};

/// The chart on a white background: title, axes with labelled ticks and a light grid, the series
/// (lines and markers), and a legend to the right of the axes.
inline render::RgbImage draw_line_chart(const LineChart& chart) {
  constexpr int scale = 2;
  const render::Rgb8 ink{40, 40, 40}, grid{225, 225, 225};
  render::RgbImage image(chart.width, chart.height);
  std::fill(image.data.begin(), image.data.end(), std::uint8_t{255});

  std::size_t legend_chars = 0;
  for (const Series& s : chart.series) legend_chars = std::max(legend_chars, s.label.size());
  auto tick_text = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
    return std::string(buf);
  };
  std::ptrdiff_t widest = 0;
  for (double v = chart.y_min; v <= chart.y_max + 1e-9; v += chart.y_step)
    widest = std::max(widest, font::text_width(tick_text(v), scale));
  const double left = static_cast<double>(std::max<std::ptrdiff_t>(70, widest + 20)), top = 70,
               bottom = static_cast<double>(chart.height) - 60;
  const double right = static_cast<double>(chart.width) - 40 -
                       static_cast<double>(font::text_width(std::string(legend_chars, 'M'), scale)) - 34;
  auto x_of = [&](double v) {
    const double t = chart.log_x ? (std::log(v) - std::log(chart.x_min)) / (std::log(chart.x_max) - std::log(chart.x_min))
                                 : (v - chart.x_min) / (chart.x_max - chart.x_min);
    return left + t * (right - left);
  };
  auto y_of = [&](double v) { return bottom - (v - chart.y_min) / (chart.y_max - chart.y_min) * (bottom - top); };
  const std::ptrdiff_t glyph_h = font::glyph_height * scale;

  draw_text(image, static_cast<std::ptrdiff_t>(left), 12, chart.title, ink, scale);
  // Grid and ticks.
  for (double v = chart.y_min; v <= chart.y_max + 1e-9; v += chart.y_step) {
    const double y = y_of(v);
    draw_line(image, left, y, right, y, grid);
    const std::string label = tick_text(v);
    draw_text(image, static_cast<std::ptrdiff_t>(left) - 10 - font::text_width(label, scale),
              static_cast<std::ptrdiff_t>(std::lround(y)) - glyph_h / 2, label, ink, scale);
  }
  for (const double v : chart.x_ticks) {
    const double x = x_of(v);
    draw_line(image, x, top, x, bottom, grid);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    draw_text(image, static_cast<std::ptrdiff_t>(std::lround(x)) - font::text_width(buf, scale) / 2,
              static_cast<std::ptrdiff_t>(bottom) + 8, buf, ink, scale);
  }
  draw_line(image, left, top, left, bottom, ink);
  draw_line(image, left, bottom, right, bottom, ink);
  draw_text(image, static_cast<std::ptrdiff_t>((left + right) / 2) - font::text_width(chart.x_label, scale) / 2,
            static_cast<std::ptrdiff_t>(bottom) + 16 + glyph_h, chart.x_label, ink, scale);
  draw_text(image, 8, static_cast<std::ptrdiff_t>(top) - glyph_h - 14, chart.y_label, ink, scale);

  // Series, then the legend.
  for (const Series& s : chart.series) {
    for (std::size_t k = 1; s.connect && k < s.points.size(); ++k)
      draw_line(image, x_of(s.points[k - 1].first), y_of(s.points[k - 1].second), x_of(s.points[k].first),
                y_of(s.points[k].second), s.colour, 2, s.dashed ? 7 : 0);
    if (s.mark_size > 0)
      for (const auto& [x, y] : s.points) draw_marker(image, x_of(x), y_of(y), s.mark, s.mark_size, s.colour);
  }
  double ly = top + 4;
  for (const Series& s : chart.series) {
    const double lx = right + 16;
    if (s.connect) draw_line(image, lx, ly + glyph_h / 2.0, lx + 24, ly + glyph_h / 2.0, s.colour, 2, s.dashed ? 5 : 0);
    if (s.mark_size > 0) draw_marker(image, lx + 12, ly + glyph_h / 2.0, s.mark, s.mark_size, s.colour);
    draw_text(image, static_cast<std::ptrdiff_t>(lx) + 32, static_cast<std::ptrdiff_t>(ly), s.label, ink, scale);
    ly += glyph_h + 10;
  }
  return image;
}

}  // namespace smlm::cli::demo
