// target_maps.hpp: spikes land in the fine pixel that contains the emitter with the stated value;
// distance maps peak at e^α − 1 on an emitter, vanish at d_max and follow the nearest emitter.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

#include <smlm/sim/target_maps.hpp>

using namespace smlm;

TEST_CASE("spike targets: one value per emitter in the fine pixel containing it; outside emitters dropped") {
  std::vector<Emitter<double>> e(4);
  e[0].x_px = 1.26, e[0].y_px = 0.01;   // fine (0, 5) at r = 4
  e[1].x_px = 1.26, e[1].y_px = 0.2;    // fine (0, 5) too: values add
  e[2].x_px = 3.99, e[2].y_px = 2.999;  // fine (11, 15), the last pixel
  e[3].x_px = 4.0, e[3].y_px = 1.0;     // on the right border: outside
  Image<float> map(12, 16);
  sim::TargetOptions o;
  o.spike_value = 100;
  sim::render_target(std::span<const Emitter<double>>(e), 4, o, make_view(map));
  CHECK(map(0, 5) == 200);
  CHECK(map(11, 15) == 100);
  CHECK(map.sum() == 300);
}

TEST_CASE("distance targets: f(d) = exp(α(1 − d/d_max)) − 1 to the nearest emitter") {
  std::vector<Emitter<double>> e(2);
  e[0].x_px = 2.0 + 0.5 / 8, e[0].y_px = 2.0 + 0.5 / 8;  // the centre of fine pixel (16, 16) at r = 8
  e[1].x_px = 2.5, e[1].y_px = 2.0 + 0.5 / 8;           // 3.5 fine pixels to the right of it
  Image<float> map(40, 40);
  sim::TargetOptions o;
  o.kind = sim::TargetKind::distance;
  o.alpha = 3;
  o.d_max_px = 3;
  sim::render_target(std::span<const Emitter<double>>(e), 8, o, make_view(map));
  CHECK(map(16, 16) == doctest::Approx(std::expm1(3.0)).epsilon(1e-6));
  CHECK(map(16, 17) == doctest::Approx(std::expm1(3.0 * (1 - 1.0 / 3))).epsilon(1e-6));
  CHECK(map(16, 13) == 0);  // exactly d_max away
  CHECK(map(20, 16) == 0);  // beyond d_max
  // Between the two emitters the nearer one decides: pixel 18 is 2 from the first, 1.5 from the second.
  CHECK(map(16, 18) == doctest::Approx(std::expm1(3.0 * (1 - 1.5 / 3))).epsilon(1e-6));
  // An emitter outside the grid still contributes its tail inside.
  std::vector<Emitter<double>> out(1);
  out[0].x_px = -0.1, out[0].y_px = 1;
  sim::render_target(std::span<const Emitter<double>>(out), 8, o, make_view(map));
  CHECK(map(8, 0) > 0);
  CHECK(!sim::TargetOptions{sim::TargetKind::distance, 1, 0, 2}.valid());
}
