// `smlm render LOCS.csv -o IMAGE.png [--pixel-nm 10]`: a super-resolved image of a localization
// table (docs/render.md). The PNG is colour-mapped with a scale bar; --tif also writes the image
// values (localizations per pixel) as a 32-bit float or 16-bit TIFF.
//
// Prints one line: image=<W>x<H> pixel_nm= localizations= rendered= max= display_max= scale_bar_nm= scale_bar_px=
#pragma once

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/io/csv.hpp>
#include <smlm/io/png.hpp>
#include <smlm/io/tiff_writer.hpp>
#include <smlm/render/colormap.hpp>
#include <smlm/render/gaussian.hpp>
#include <smlm/render/histogram.hpp>
#include <smlm/render/scale_bar.hpp>

#include "cli_common.hpp"

namespace smlm::cli {

struct RenderOptions {
  std::string input;
  std::string png;
  std::string tif;
  std::string tif_type = "f32";
  double pixel_nm = 10.0;
  std::string method = "gaussian";
  double sigma_nm = 0.0;  ///< 0: the uncertainty column when present, else one pixel
  std::string colormap = "hot";
  double scale_bar_nm = -1.0;  ///< < 0: a round length about a fifth of the width; 0: none
  std::vector<double> fov;     ///< x, y, width, height in nm; empty: the table's bounding field
  double saturation = 0.995;
};

inline void run_render(const RenderOptions& opt) {
  auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!positive(opt.pixel_nm)) throw CLI::ValidationError("--pixel-nm", "must be a finite number of nm > 0");
  if (!(std::isfinite(opt.sigma_nm) && opt.sigma_nm >= 0))
    throw CLI::ValidationError("--sigma-nm", "must be a finite number of nm >= 0 (0: automatic)");
  if (!(opt.saturation > 0 && opt.saturation <= 1)) throw CLI::ValidationError("--saturation", "must be in (0, 1]");
  if (!std::isfinite(opt.scale_bar_nm)) throw CLI::ValidationError("--scale-bar-nm", "must be finite");
  const auto map = render::parse_colormap(opt.colormap);
  if (!map) throw CLI::ValidationError("--colormap", "'" + opt.colormap + "' is not one of grey, hot, viridis");

  const LocalizationTable table = unwrap(io::read_localizations_csv(opt.input));
  render::FieldOfView fov;
  if (opt.fov.empty()) {
    fov = render::bounding_field_of_view(table, opt.pixel_nm);
  } else {
    if (opt.fov.size() != 4) throw CLI::ValidationError("--fov", "expects X,Y,WIDTH,HEIGHT in nm");
    fov = {opt.fov[0], opt.fov[1], opt.fov[2], opt.fov[3]};
    if (!fov.valid()) throw CLI::ValidationError("--fov", "needs finite values and WIDTH, HEIGHT > 0");
  }
  const render::ImageSize size = render::image_size(fov, opt.pixel_nm);
  if (size.rows * size.cols > (std::ptrdiff_t{1} << 28))
    throw CLI::ValidationError("--pixel-nm", "gives a " + std::to_string(size.cols) + " x " + std::to_string(size.rows) +
                                                 " image, more than 2^28 pixels; choose a larger pixel or a smaller --fov");

  Image<float> image = Image<float>::Zero(size.rows, size.cols);
  std::size_t rendered = 0;
  if (opt.method == "histogram") {
    rendered = render::add_histogram(table, fov, opt.pixel_nm, make_view(image));
  } else {
    render::GaussianRenderOptions g;
    g.sigma_nm = opt.sigma_nm > 0 ? opt.sigma_nm : opt.pixel_nm;
    g.sigma_from_uncertainty = opt.sigma_nm == 0 && table.uncertainty_xy_nm.size() == table.size() && !table.empty();
    rendered = render::add_gaussian(table, fov, opt.pixel_nm, g, make_view(image));
  }

  if (!opt.tif.empty()) {
    Stack<float> stack(1, size.rows, size.cols);
    stack.frame(0) = image;
    check(io::write_tiff_stack(opt.tif, stack, opt.tif_type == "u16" ? io::pixel_type::u16 : io::pixel_type::f32));
  }
  const auto [lo, hi] = render::display_range(image, opt.saturation);
  render::RgbImage rgb = render::apply_colormap(image, lo, hi, *map);
  double bar_nm = opt.scale_bar_nm < 0 ? render::nice_scale_bar_nm(fov.width_nm) : opt.scale_bar_nm;
  std::ptrdiff_t bar_px = 0;
  if (bar_nm > 0) {
    render::ScaleBarOptions bar;
    bar.length_nm = bar_nm;
    bar_px = render::burn_scale_bar(rgb, opt.pixel_nm, bar);
    if (bar_px == 0) bar_nm = 0;
  }
  check(io::write_png_rgb(opt.png, rgb.data.data(), rgb.width, rgb.height));
  std::printf("image=%tdx%td pixel_nm=%g localizations=%zu rendered=%zu max=%.6g display_max=%.6g scale_bar_nm=%g scale_bar_px=%td\n",
              size.cols, size.rows, opt.pixel_nm, table.size(), rendered, static_cast<double>(image.maxCoeff()),
              static_cast<double>(hi), bar_nm, bar_px);
}

inline void register_render(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("render", "render a localization CSV as a super-resolved image (PNG, optional TIFF)");
  auto opt = std::make_shared<RenderOptions>();
  cmd->add_option("LOCS", opt->input, "localization CSV (ThunderSTORM format)")->required();
  cmd->add_option("-o,--output", opt->png, "colour-mapped PNG with a scale bar")->required();
  cmd->add_option("--pixel-nm", opt->pixel_nm, "pixel size of the rendering in nm")->capture_default_str();
  cmd->add_option("--method", opt->method, "gaussian (unit mass per localization) or histogram (counts)")
      ->check(CLI::IsMember({"gaussian", "histogram"}))
      ->capture_default_str();
  cmd->add_option("--sigma-nm", opt->sigma_nm,
                  "Gaussian sigma in nm; 0: the uncertainty column if present, else one pixel")
      ->capture_default_str();
  cmd->add_option("--colormap", opt->colormap, "grey, hot or viridis")->capture_default_str();
  cmd->add_option("--scale-bar-nm", opt->scale_bar_nm, "scale bar length in nm; 0: none; default: about 1/5 of the width");
  cmd->add_option("--fov", opt->fov, "field of view X,Y,WIDTH,HEIGHT in nm (default: origin to the largest coordinate)")
      ->delimiter(',');
  cmd->add_option("--saturation", opt->saturation, "display maximum at this quantile of the non-empty pixels")
      ->capture_default_str();
  cmd->add_option("--tif", opt->tif, "also write the image values as a TIFF");
  cmd->add_option("--tif-type", opt->tif_type, "f32 (float) or u16 (values rounded and clamped)")
      ->check(CLI::IsMember({"f32", "u16"}))
      ->capture_default_str();
  cmd->callback([opt, &exit_code] {
    run_render(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
