// Colour maps and colour-mapped RGB images for display.
//
// A colour map is a 256-entry table; value v of an image shown over [lo, hi] takes entry
// round(255 (v − lo) / (hi − lo)) clamped to 0 … 255 (NaN → 0), the rule io::colormap_index uses,
// so a PNG written by io::write_png_colormapped and an RgbImage from apply_colormap agree.
//   grey     black → white, linear.
//   hot      black → red → yellow → white: red ramps over the first 3/8, green over the next
//            3/8, blue over the last 1/4 (the classic "hot" of MATLAB, matplotlib and ImageJ).
//   viridis  a perceptually ordered dark-violet → blue → green → yellow map: piecewise-linear
//            through five sRGB anchors of matplotlib's viridis (van der Walt & Smith, 2015) at
//            0, ¼, ½, ¾, 1 — an approximation of it, not its 256-entry table. Its luminance rises
//            monotonically, so it stays readable in grey print and for colour-blind readers.
// Every map's luminance (Rec. 709 weights) is non-decreasing along the table.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>

namespace smlm::render {

struct Rgb8 {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(Rgb8, Rgb8) = default;
};

enum class colormap : std::uint8_t { grey, hot, viridis };

/// "grey" (or "gray"), "hot", "viridis"; nullopt otherwise.
inline std::optional<colormap> parse_colormap(std::string_view name) noexcept {
  if (name == "grey" || name == "gray") return colormap::grey;
  if (name == "hot") return colormap::hot;
  if (name == "viridis") return colormap::viridis;
  return std::nullopt;
}

namespace detail {
inline std::uint8_t unit_to_byte(double t) noexcept {
  return static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(t, 0.0, 1.0)));
}
}  // namespace detail

/// The 256 entries of `map`.
inline std::array<Rgb8, 256> colormap_table(colormap map) noexcept {
  std::array<Rgb8, 256> lut{};
  static constexpr std::array<std::array<double, 3>, 5> viridis_anchors{{
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  for (std::size_t i = 0; i < 256; ++i) {
    const double t = static_cast<double>(i) / 255.0;
    switch (map) {
      case colormap::grey: lut[i] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i)}; break;
      case colormap::hot:
        lut[i] = {detail::unit_to_byte(t / 0.375), detail::unit_to_byte((t - 0.375) / 0.375),
                  detail::unit_to_byte((t - 0.75) / 0.25)};
        break;
      case colormap::viridis: {
        const double s = t * 4.0;
        const auto k = std::min<std::size_t>(static_cast<std::size_t>(s), 3);
        const double f = s - static_cast<double>(k);
        auto mix = [&](std::size_t c) {
          return detail::unit_to_byte(((1 - f) * viridis_anchors[k][c] + f * viridis_anchors[k + 1][c]) / 255.0);
        };
        lut[i] = {mix(0), mix(1), mix(2)};
        break;
      }
    }
  }
  return lut;
}

/// An 8-bit RGB image: `height` rows of `width` interleaved r, g, b bytes.
struct RgbImage {
  std::ptrdiff_t width = 0;
  std::ptrdiff_t height = 0;
  std::vector<std::uint8_t> data;

  RgbImage() = default;
  RgbImage(std::ptrdiff_t w, std::ptrdiff_t h) : width(w), height(h), data(static_cast<std::size_t>(3 * w * h), 0) {}
  Rgb8 at(std::ptrdiff_t y, std::ptrdiff_t x) const SMLM_NOEXCEPT {
    SMLM_ASSERT(y >= 0 && y < height && x >= 0 && x < width, "RgbImage::at out of range");
    const std::uint8_t* p = data.data() + 3 * (y * width + x);
    return {p[0], p[1], p[2]};
  }
  void set(std::ptrdiff_t y, std::ptrdiff_t x, Rgb8 c) SMLM_NOEXCEPT {
    SMLM_ASSERT(y >= 0 && y < height && x >= 0 && x < width, "RgbImage::set out of range");
    std::uint8_t* p = data.data() + 3 * (y * width + x);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
};

/// Table index of `value` shown over [lo, hi] (see the top of this file).
inline int display_index(float value, float lo, float hi) noexcept {
  const double t = 255.0 * (static_cast<double>(value) - lo) / (static_cast<double>(hi) - lo);
  if (!(t > 0.0)) return 0;
  if (t >= 255.0) return 255;
  return static_cast<int>(std::round(t));
}

/// `image` through `map` over [lo, hi]. Precondition: lo < hi, both finite.
inline RgbImage apply_colormap(ConstImageView<float> image, float lo, float hi, colormap map) {
  SMLM_ASSERT(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "render::apply_colormap: need finite lo < hi");
  const std::array<Rgb8, 256> lut = colormap_table(map);
  RgbImage out(image.cols(), image.rows());
  for (std::ptrdiff_t y = 0; y < image.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < image.cols(); ++x)
      out.set(y, x, lut[static_cast<std::size_t>(display_index(image(y, x), lo, hi))]);
  return out;
}

inline RgbImage apply_colormap(const Image<float>& image, float lo, float hi, colormap map) {
  return apply_colormap(make_view(image), lo, hi, map);
}

/// A display range for sparse super-resolution images: [0, q-quantile of the positive pixels]
/// (q = saturation, e.g. 0.995 saturates the brightest 0.5 % of non-empty pixels, so that single
/// molecules stay visible next to dense clusters). An image with no positive pixel gives [0, 1].
inline std::pair<float, float> display_range(ConstImageView<float> image, double saturation = 0.995) {
  SMLM_ASSERT(saturation > 0 && saturation <= 1, "render::display_range: saturation must be in (0, 1]");
  std::vector<float> positive;
  for (std::ptrdiff_t y = 0; y < image.rows(); ++y)
    for (std::ptrdiff_t x = 0; x < image.cols(); ++x)
      if (image(y, x) > 0 && std::isfinite(image(y, x))) positive.push_back(image(y, x));
  if (positive.empty()) return {0.0f, 1.0f};
  const auto k = static_cast<std::size_t>(std::ceil(saturation * static_cast<double>(positive.size()))) - 1;
  std::nth_element(positive.begin(), positive.begin() + static_cast<std::ptrdiff_t>(k), positive.end());
  return {0.0f, positive[k]};
}

inline std::pair<float, float> display_range(const Image<float>& image, double saturation = 0.995) {
  return display_range(make_view(image), saturation);
}

}  // namespace smlm::render
