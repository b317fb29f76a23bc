// The pictures of `smlm demo` (demo_command.hpp): every panel shows the same field of view at the
// same pixel size, with a scale bar and a zoomed inset of the densest part of the ground truth.
//
// A panel is drawn from a function that renders any field of view at any pixel size (a
// localization table through render::render_gaussian, or an image such as the widefield sum or
// the network's output resampled nearest-neighbour), so the inset is a rendering of its region at
// a finer pixel, not an enlargement of the panel's pixels. The inset sits in a corner whose box
// misses the region it shows; a rectangle marks that region in the panel.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/io/png.hpp>
#include <smlm/render/colormap.hpp>
#include <smlm/render/field_of_view.hpp>
#include <smlm/render/gaussian.hpp>
#include <smlm/render/histogram.hpp>
#include <smlm/render/scale_bar.hpp>

#include "cli_common.hpp"
#include "demo_plot.hpp"

namespace smlm::cli::demo {

/// Renders `fov` at `pixel_nm` (an image of render::image_size(fov, pixel_nm)).
using RenderFn = std::function<Image<float>(const render::FieldOfView& fov, double pixel_nm)>;

/// How values become colours: `sparse` shows [0, 99.5th percentile of the positive pixels]
/// (render::display_range, for localization renderings and network output), otherwise
/// [min, max] (camera images, whose background is part of the picture).
struct Style {
  render::colormap map = render::colormap::hot;
  bool sparse = true;
};

/// Where the panels and their insets lie; one layout serves every panel of a run.
struct Layout {
  render::FieldOfView field;     ///< the whole camera field, nm
  double pixel_nm = 20;          ///< panel pixel
  render::FieldOfView region;    ///< the zoomed region, nm (on the panel's pixel grid)
  double inset_pixel_nm = 5;     ///< inset pixel (panel pixel / zoom)
  std::ptrdiff_t inset_x = 0, inset_y = 0;  ///< top-left of the inset's border, panel pixels
  std::ptrdiff_t inset_px = 0;   ///< inset side without its border, pixels
  std::ptrdiff_t border_px = 2;
  double bar_nm = 1000, inset_bar_nm = 100;
  int zoom = 4;
};

/// `table` rendered as unit-mass Gaussians of one pixel's sigma (the same for every method).
inline RenderFn gaussian_of(const LocalizationTable& table) {
  return [&table](const render::FieldOfView& fov, double pixel_nm) {
    render::GaussianRenderOptions g;
    g.sigma_nm = pixel_nm;
    return render::render_gaussian(table, fov, pixel_nm, g);
  };
}

/// `image` (pixels of `image_pixel_nm`, its pixel (0, 0) at the origin) resampled
/// nearest-neighbour; outside the image: 0.
inline RenderFn resampled(const Image<float>& image, double image_pixel_nm) {
  return [&image, image_pixel_nm](const render::FieldOfView& fov, double pixel_nm) {
    const render::ImageSize size = render::image_size(fov, pixel_nm);
    Image<float> out = Image<float>::Zero(size.rows, size.cols);
    for (std::ptrdiff_t i = 0; i < size.rows; ++i) {
      const auto sy = static_cast<std::ptrdiff_t>(std::floor((fov.y_nm + (double(i) + 0.5) * pixel_nm) / image_pixel_nm));
      if (sy < 0 || sy >= image.rows()) continue;
      for (std::ptrdiff_t j = 0; j < size.cols; ++j) {
        const auto sx = static_cast<std::ptrdiff_t>(std::floor((fov.x_nm + (double(j) + 0.5) * pixel_nm) / image_pixel_nm));
        if (sx >= 0 && sx < image.cols()) out(i, j) = image(sy, sx);
      }
    }
    return out;
  };
}

/// The layout for a `field` shown at `pixel_nm`: the inset is 3/8 of the panel's width, `zoom`
/// times finer, and shows the square of the panel grid that holds the most rows of `truth`.
inline Layout make_layout(const render::FieldOfView& field, double pixel_nm, const LocalizationTable& truth, int zoom = 4) {
  Layout l;
  l.field = field;
  l.pixel_nm = pixel_nm;
  l.zoom = zoom;
  l.inset_pixel_nm = pixel_nm / zoom;
  const render::ImageSize size = render::image_size(field, pixel_nm);
  const std::ptrdiff_t side = std::min(size.rows, size.cols);
  const std::ptrdiff_t region_px = std::max<std::ptrdiff_t>(1, (3 * side / 8) / zoom);
  l.inset_px = region_px * zoom;
  l.border_px = 2;

  // The densest region_px × region_px window of the truth histogram (summed-area table).
  const Image<float> counts = render::render_histogram(truth, field, pixel_nm);
  Image<double> sat = Image<double>::Zero(size.rows + 1, size.cols + 1);
  for (std::ptrdiff_t i = 0; i < size.rows; ++i)
    for (std::ptrdiff_t j = 0; j < size.cols; ++j)
      sat(i + 1, j + 1) = counts(i, j) + sat(i, j + 1) + sat(i + 1, j) - sat(i, j);
  std::ptrdiff_t best_i = 0, best_j = 0;
  double best = -1;
  for (std::ptrdiff_t i = 0; i + region_px <= size.rows; ++i)
    for (std::ptrdiff_t j = 0; j + region_px <= size.cols; ++j) {
      const double s = sat(i + region_px, j + region_px) - sat(i, j + region_px) - sat(i + region_px, j) + sat(i, j);
      if (s > best) best = s, best_i = i, best_j = j;
    }
  l.region = {field.x_nm + double(best_j) * pixel_nm, field.y_nm + double(best_i) * pixel_nm, double(region_px) * pixel_nm,
              double(region_px) * pixel_nm};

  // Upper left, upper right or lower left (the scale bar holds the lower right): the corner
  // whose box misses the region, farthest from it.
  const std::ptrdiff_t box = l.inset_px + 2 * l.border_px, margin = std::max<std::ptrdiff_t>(4, side / 64);
  const std::array<std::array<std::ptrdiff_t, 2>, 3> corners{{{margin, margin},
                                                              {size.cols - margin - box, margin},
                                                              {margin, size.rows - margin - box}}};
  const double cx = double(best_j) + 0.5 * double(region_px), cy = double(best_i) + 0.5 * double(region_px);
  double best_score = -1e300;
  for (const auto& [x, y] : corners) {
    const bool overlaps = x < best_j + region_px + 2 && best_j - 2 < x + box && y < best_i + region_px + 2 && best_i - 2 < y + box;
    const double distance = std::hypot(double(x) + 0.5 * double(box) - cx, double(y) + 0.5 * double(box) - cy);
    const double score = distance - (overlaps ? 1e9 : 0.0);
    if (score > best_score) best_score = score, l.inset_x = x, l.inset_y = y;
  }
  l.bar_nm = render::nice_scale_bar_nm(field.width_nm);
  l.inset_bar_nm = render::nice_scale_bar_nm(l.region.width_nm);
  return l;
}

/// The colour-mapped image under `style`.
inline render::RgbImage colour(const Image<float>& image, const Style& style) {
  float lo = 0, hi = 1;
  if (style.sparse) {
    std::tie(lo, hi) = render::display_range(image);
  } else if (image.size() > 0) {
    lo = image.minCoeff(), hi = image.maxCoeff();
  }
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  return render::apply_colormap(image, lo, hi, style.map);
}

/// The outline of the rectangle [x0, x1] × [y0, y1] (clipped), `width` pixels thick inwards.
inline void draw_rectangle(render::RgbImage& image, std::ptrdiff_t x0, std::ptrdiff_t y0, std::ptrdiff_t x1, std::ptrdiff_t y1,
                           render::Rgb8 c, std::ptrdiff_t width = 1) {
  auto put = [&](std::ptrdiff_t y, std::ptrdiff_t x) {
    if (y >= 0 && y < image.height && x >= 0 && x < image.width) image.set(y, x, c);
  };
  for (std::ptrdiff_t t = 0; t < width; ++t) {
    for (std::ptrdiff_t x = x0; x <= x1; ++x) put(y0 + t, x), put(y1 - t, x);
    for (std::ptrdiff_t y = y0; y <= y1; ++y) put(y, x0 + t), put(y, x1 - t);
  }
}

/// A circle outline of `radius` pixels around the continuous pixel coordinate (x, y).
inline void draw_circle(render::RgbImage& image, double x, double y, double radius, render::Rgb8 c) {
  const int steps = std::max(16, static_cast<int>(8 * radius));
  for (int k = 0; k < steps; ++k) {
    const double a = 2 * 3.14159265358979323846 * k / steps;
    const auto px = static_cast<std::ptrdiff_t>(std::floor(x + radius * std::cos(a)));
    const auto py = static_cast<std::ptrdiff_t>(std::floor(y + radius * std::sin(a)));
    if (py >= 0 && py < image.height && px >= 0 && px < image.width) image.set(py, px, c);
  }
}

/// The panel: the field, its scale bar, the region's rectangle and the inset (with its own bar).
inline render::RgbImage panel(const RenderFn& render_fn, const Layout& l, const Style& style) {
  render::RgbImage rgb = colour(render_fn(l.field, l.pixel_nm), style);
  render::burn_scale_bar(rgb, l.pixel_nm, {.length_nm = l.bar_nm});
  const render::Rgb8 cyan{0, 220, 255};
  const auto rx = static_cast<std::ptrdiff_t>(std::lround((l.region.x_nm - l.field.x_nm) / l.pixel_nm));
  const auto ry = static_cast<std::ptrdiff_t>(std::lround((l.region.y_nm - l.field.y_nm) / l.pixel_nm));
  const auto rs = static_cast<std::ptrdiff_t>(std::lround(l.region.width_nm / l.pixel_nm));
  draw_rectangle(rgb, rx - 1, ry - 1, rx + rs, ry + rs, cyan);

  render::RgbImage inset = colour(render_fn(l.region, l.inset_pixel_nm), style);
  render::burn_scale_bar(inset, l.inset_pixel_nm, {.length_nm = l.inset_bar_nm});
  const std::ptrdiff_t box = l.inset_px + 2 * l.border_px;
  draw_rectangle(rgb, l.inset_x, l.inset_y, l.inset_x + box - 1, l.inset_y + box - 1, cyan, l.border_px);
  for (std::ptrdiff_t y = 0; y < std::min(inset.height, l.inset_px); ++y)
    for (std::ptrdiff_t x = 0; x < std::min(inset.width, l.inset_px); ++x) {
      const std::ptrdiff_t py = l.inset_y + l.border_px + y, px = l.inset_x + l.border_px + x;
      if (py >= 0 && py < rgb.height && px >= 0 && px < rgb.width) rgb.set(py, px, inset.at(y, x));
    }
  return rgb;
}

/// A panel without inset: the field and its scale bar (one frame and its network output).
inline render::RgbImage plain_panel(const RenderFn& render_fn, const Layout& l, const Style& style) {
  render::RgbImage rgb = colour(render_fn(l.field, l.pixel_nm), style);
  render::burn_scale_bar(rgb, l.pixel_nm, {.length_nm = l.bar_nm});
  return rgb;
}

/// `panels` side by side on white, each under its caption (the 5 × 7 font at twice its size).
inline render::RgbImage side_by_side(const std::vector<std::pair<std::string, render::RgbImage>>& panels,
                                     std::ptrdiff_t gap = 8) {
  constexpr int scale = 2;
  const std::ptrdiff_t caption = font::glyph_height * scale + 2 * gap;
  std::ptrdiff_t width = gap, height = 0;
  for (const auto& [text, p] : panels) width += p.width + gap, height = std::max(height, p.height);
  render::RgbImage out(width, caption + height + gap);
  std::fill(out.data.begin(), out.data.end(), std::uint8_t{255});
  std::ptrdiff_t x0 = gap;
  for (const auto& [text, p] : panels) {
    draw_text(out, x0, gap, text, {40, 40, 40}, scale);
    for (std::ptrdiff_t y = 0; y < p.height; ++y)
      for (std::ptrdiff_t x = 0; x < p.width; ++x) out.set(caption + y, x0 + x, p.at(y, x));
    x0 += p.width + gap;
  }
  return out;
}

inline void write_rgb_png(const std::string& path, const render::RgbImage& rgb) {
  check(io::write_png_rgb(path, rgb.data.data(), rgb.width, rgb.height));
}

}  // namespace smlm::cli::demo
