// Simulating with your own PSF: a struct that satisfies psf::Model plugs into sim::Simulator
// next to the library's camera models, with no registration anywhere.
//
//   guide_simulate_custom_psf [OUT_PREFIX] [FRAMES]
//
// writes OUT_PREFIX.tif (16-bit EMCCD frames) and OUT_PREFIX.csv (the ground truth, ThunderSTORM
// columns); defaults: custom_psf, 20 frames.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include <smlm/camera/emccd.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/sim/simulator.hpp>

// An elliptical, pixel-integrated Gaussian: a microscope with a little astigmatism, seen at one
// focal plane. Pixel (i, j) receives the fraction h = E(j; x, σx) · E(i; y, σy) of the photons,
//   E(j; x, σ) = ½ [erf((j + 1 − x)/(√2 σ)) − erf((j − x)/(√2 σ))],   ∂E/∂x = g(j) − g(j + 1),
// g(t) the normal density N(t; x, σ²). The members are what the contract in psf/psf.hpp asks for.
struct EllipticalGaussian {
  using scalar = float;
  using Spot = smlm::psf::Spot<float>;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;  // x_px, y_px, photons, background

  float sigma_x_px = 1.3f;
  float sigma_y_px = 0.9f;

  // Half-width of the square that holds all but 1e-3 of the photons (4σ leaves 1.3e-4).
  float support_radius_px(const Spot&) const noexcept { return 4 * std::max(sigma_x_px, sigma_y_px); }

  // mu = background + photons · h over the window.
  void evaluate(const Spot& s, smlm::psf::Window w, smlm::ImageView<float> mu) const noexcept {
    for (std::ptrdiff_t r = 0; r < w.height; ++r)
      for (std::ptrdiff_t c = 0; c < w.width; ++c)
        mu(r, c) = s.background +
                   s.photons * axis(w.x0 + c, s.x_px, sigma_x_px).e * axis(w.y0 + r, s.y_px, sigma_y_px).e;
  }
  // mu and its derivatives, one plane per parameter: x, y, photons, background.
  void evaluate(const Spot& s, smlm::psf::Window w, smlm::ImageView<float> mu,
                smlm::psf::JacobianView<float> jacobian) const noexcept {
    for (std::ptrdiff_t r = 0; r < w.height; ++r)
      for (std::ptrdiff_t c = 0; c < w.width; ++c) {
        const Axis ex = axis(w.x0 + c, s.x_px, sigma_x_px), ey = axis(w.y0 + r, s.y_px, sigma_y_px);
        mu(r, c) = s.background + s.photons * ex.e * ey.e;
        jacobian.plane(0)(r, c) = s.photons * ex.de * ey.e;
        jacobian.plane(1)(r, c) = s.photons * ex.e * ey.de;
        jacobian.plane(2)(r, c) = ex.e * ey.e;
        jacobian.plane(3)(r, c) = 1;
      }
  }
  // What the simulator calls per emitter: photons · h added to the frame inside the support window.
  void add_to(const Spot& s, smlm::ImageView<float> frame) const noexcept {
    const auto w = smlm::psf::clip(smlm::psf::support_window(*this, s), frame.cols(), frame.rows());
    for (std::ptrdiff_t i = w.y0; i < w.y0 + w.height; ++i)
      for (std::ptrdiff_t j = w.x0; j < w.x0 + w.width; ++j)
        frame(i, j) += s.photons * axis(j, s.x_px, sigma_x_px).e * axis(i, s.y_px, sigma_y_px).e;
  }

 private:
  struct Axis {
    float e, de;  // E(j) and ∂E/∂x
  };
  static Axis axis(std::ptrdiff_t j, float x, float sigma) noexcept {
    const float lo = (static_cast<float>(j) - x) / sigma, hi = lo + 1 / sigma;  // pixel edges in σ
    const float g0 = 1 / (std::sqrt(2 * std::numbers::pi_v<float>) * sigma);
    return {0.5f * (std::erf(hi / std::numbers::sqrt2_v<float>) - std::erf(lo / std::numbers::sqrt2_v<float>)),
            g0 * (std::exp(-0.5f * lo * lo) - std::exp(-0.5f * hi * hi))};
  }
};
// A type that misses a member fails to compile here, with a sentence naming the member.
static_assert(smlm::psf::check_model<EllipticalGaussian>());

// A whole number from the command line: true when all of `text` is one.
bool parse_whole_number(const char* text, int& value) {
  const char* end = text + std::strlen(text);
  return end != text && std::from_chars(text, end, value).ptr == end;
}

// One line on stderr naming what failed, and the exit status for it.
int fail(const std::string& message) {
  std::fprintf(stderr, "simulate_custom_psf: %s\n", message.c_str());
  return 1;
}

int main(int argc, char** argv) {
  const std::string prefix = argc > 1 ? argv[1] : "custom_psf";
  int frames = 20;
  if (argc > 2 && !(parse_whole_number(argv[2], frames) && frames > 0))
    return fail(std::string("FRAMES \"") + argv[2] + "\" is not a positive whole number");

  // A first check of the model: its support window holds all of its photons but the tail.
  const EllipticalGaussian psf;
  const EllipticalGaussian::Spot spot{.x_px = 10.3f, .y_px = 7.8f, .photons = 1};
  const smlm::psf::Window window = smlm::psf::support_window(psf, spot);
  smlm::Image<float> mu(window.height, window.width);
  psf.evaluate(spot, window, smlm::make_view(mu));
  std::printf("PSF mass in its %tdx%td support window: %.5f\n", window.width, window.height, mu.sum());

  // 32 × 32 pixels of 100 nm; labels spread uniformly, each on in about 1 frame of 11
  // (P(off → on) = 0.05, P(on → off) = 0.5), 1,500–2,500 photons when on.
  smlm::sim::SimulationConfig<float> config;
  config.width_px = config.height_px = 32;
  config.pixel_nm = 100;
  config.background_photons = 20;
  config.kinetics = {.p_on_off = 0.5, .p_off_on = 0.05};
  config.photons = smlm::sim::PhotonDistribution::uniform(1500, 2500);
  config.seed = 7;
  std::vector<smlm::sim::Position> labels;
  if (auto s = smlm::sim::uniform(config.field(), {.density_per_um2 = 20}, config.seed, labels); !s.ok())
    return fail(s.message());

  // Our PSF and the library's EMCCD camera: the simulator asks each only for its concept.
  smlm::sim::Simulator simulator(psf, smlm::camera::Emccd<float>{}, config, labels);
  auto movie = smlm::sim::simulate(simulator, frames);
  if (!movie) return fail(movie.message());
  movie->truth.z_nm.clear();  // a 2D movie: no z column in the CSV

  const std::string tif = prefix + ".tif", csv = prefix + ".csv";
  if (auto s = smlm::io::write_tiff_stack(tif, movie->stack, smlm::io::pixel_type::u16); !s.ok())
    return fail(s.message());
  if (auto s = smlm::io::write_localizations_csv(csv, movie->truth); !s.ok()) return fail(s.message());
  std::printf("frames=%d labels=%zu emitters=%zu -> %s, %s\n", frames, labels.size(), movie->truth.size(),
              tif.c_str(), csv.c_str());
  return 0;
}
