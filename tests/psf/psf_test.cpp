// psf.hpp: the Model concept (what satisfies it, what does not), parameter addressing, windows,
// the Jacobian view.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/psf.hpp>

namespace psf = smlm::psf;
using psf::JacobianView;
using psf::Spot;
using psf::Window;
using smlm::ImageView;

namespace {

// A user's model: satisfies the concept with no help from the library (declarations suffice,
// the concept only looks at signatures).
struct UserModel {
  using scalar = double;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  double support_radius_px(const Spot<double>&) const noexcept;
  void evaluate(const Spot<double>&, Window, ImageView<double>) const noexcept;
  void evaluate(const Spot<double>&, Window, ImageView<double>, JacobianView<double>) const noexcept;
  void add_to(const Spot<double>&, ImageView<double>) const noexcept;
};

// Building blocks for types that each miss exactly one requirement.
struct Traits2D {
  using scalar = double;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
};
struct Radius {
  double support_radius_px(const Spot<double>&) const noexcept;
};
struct Values {
  void evaluate(const Spot<double>&, Window, ImageView<double>) const noexcept;
};
struct Derivatives {
  void evaluate(const Spot<double>&, Window, ImageView<double>, JacobianView<double>) const noexcept;
};
struct Render {
  void add_to(const Spot<double>&, ImageView<double>) const noexcept;
};

struct NoScalar : Radius, Values, Derivatives, Render {
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  using Values::evaluate;
  using Derivatives::evaluate;
};
struct IntegerScalar : NoScalar {
  using scalar = int;
};
struct NoHasZ : Radius, Values, Derivatives, Render {
  using scalar = double;
  static constexpr int num_params = 4;
  using Values::evaluate;
  using Derivatives::evaluate;
};
struct RuntimeHasZ : NoHasZ {
  static bool has_z;  // not a constant expression
};
struct WrongNumParams : Traits2D, Radius, Values, Derivatives, Render {
  static constexpr int num_params = 5;  // 2D models have x, y, photons, background
  using Values::evaluate;
  using Derivatives::evaluate;
};
struct NoSupportRadius : Traits2D, Values, Derivatives, Render {
  using Values::evaluate;
  using Derivatives::evaluate;
};
struct NoEvaluate : Traits2D, Radius, Derivatives, Render {};
struct NoJacobian : Traits2D, Radius, Values, Render {};
struct NoAddTo : Traits2D, Radius, Values, Derivatives {
  using Values::evaluate;
  using Derivatives::evaluate;
};
struct MutatingEvaluate : Traits2D, Radius, Derivatives, Render {  // evaluate is not const
  using Derivatives::evaluate;
  void evaluate(const Spot<double>&, Window, ImageView<double>) noexcept;
};
struct Complete : Traits2D, Radius, Values, Derivatives, Render {
  using Values::evaluate;
  using Derivatives::evaluate;
};

static_assert(psf::check_model<UserModel>());
static_assert(psf::check_model<Complete>());
static_assert(psf::Model<UserModel> && psf::Model<Complete>);
static_assert(!psf::Model<NoScalar>);
static_assert(!psf::Model<IntegerScalar>);
static_assert(!psf::Model<NoHasZ>);
static_assert(!psf::Model<RuntimeHasZ>);
static_assert(!psf::Model<WrongNumParams>);
static_assert(!psf::Model<NoSupportRadius>);
static_assert(!psf::Model<NoEvaluate>);
static_assert(!psf::Model<NoJacobian>);
static_assert(!psf::Model<NoAddTo>);
static_assert(!psf::Model<MutatingEvaluate>);
static_assert(!psf::Model<int>);

// The optional sigma hook.
static_assert(psf::SigmaModel<psf::IntegratedGaussian<float>>);
static_assert(psf::SigmaModel<psf::IntegratedGaussian<double>>);
static_assert(!psf::SigmaModel<psf::AstigmaticGaussian<double>>);
static_assert(!psf::SigmaModel<UserModel>);

}  // namespace

TEST_CASE("parameters are addressed by name, in the order x, y, [z], photons, background") {
  using G = psf::IntegratedGaussian<double>;
  using A = psf::AstigmaticGaussian<float>;
  static_assert(psf::param_index<G>(psf::param::x_px) == 0);
  static_assert(psf::param_index<G>(psf::param::y_px) == 1);
  static_assert(psf::param_index<G>(psf::param::z_nm) == -1);
  static_assert(psf::param_index<G>(psf::param::photons) == 2);
  static_assert(psf::param_index<G>(psf::param::background) == 3);
  static_assert(psf::param_index<A>(psf::param::z_nm) == 2);
  static_assert(psf::param_index<A>(psf::param::photons) == 3);
  static_assert(psf::param_index<A>(psf::param::background) == 4);

  constexpr auto g = psf::parameters<G>();
  constexpr auto a = psf::parameters<A>();
  static_assert(g.size() == 4 && a.size() == 5);
  for (int k = 0; k < 4; ++k) CHECK(psf::param_index<G>(g[k]) == k);
  for (int k = 0; k < 5; ++k) CHECK(psf::param_index<A>(a[k]) == k);
  CHECK(psf::to_string(psf::param::z_nm) == "z_nm");
  CHECK(psf::to_string(psf::param::background) == "background");
}

TEST_CASE("to_spot carries an emitter's position and photons over a background") {
  const smlm::Emitter<double> e{.x_px = 3.25, .y_px = 4.5, .z_nm = -80, .photons = 1200, .frame = 3,
                                .id = 7};
  const auto s = psf::to_spot<float>(e, 12.5f);
  CHECK(s.x_px == 3.25f);
  CHECK(s.y_px == 4.5f);
  CHECK(s.z_nm == -80.0f);
  CHECK(s.photons == 1200.0f);
  CHECK(s.background == 12.5f);
}

TEST_CASE("clip intersects a window with the frame") {
  CHECK(psf::clip({-3, -2, 10, 6}, 20, 10) == Window{0, 0, 7, 4});
  CHECK(psf::clip({15, 8, 10, 6}, 20, 10) == Window{15, 8, 5, 2});
  CHECK(psf::clip({2, 3, 4, 5}, 20, 10) == Window{2, 3, 4, 5});
  CHECK(psf::clip({20, 0, 4, 5}, 20, 10).empty());
  CHECK(psf::clip({-5, 0, 5, 5}, 20, 10).empty());
  CHECK(psf::clip({0, 0, 0, 5}, 20, 10).empty());
  CHECK(Window{1, 2, 3, 4}.size() == 12);
}

TEST_CASE_TEMPLATE("support_window covers the support square around the emitter", T, float,
                   double) {
  const psf::IntegratedGaussian<T> model{.sigma_px = T(1.5)};  // radius 6 px
  const Spot<T> s{T(10.25), T(20.75), 0, 100, 0};
  const Window w = psf::support_window(model, s);
  CHECK(model.support_radius_px(s) == doctest::Approx(6.0));
  // columns meeting [4.25, 16.25]: 4 … 16; rows meeting [14.75, 26.75]: 14 … 26
  CHECK(w == Window{4, 14, 13, 13});

  Spot<T> at_corner{T(10), T(20), 0, 100, 0};  // [4, 16] meets columns 4 … 16
  CHECK(psf::support_window(model, at_corner) == Window{4, 14, 13, 13});

  Spot<T> bad = s;
  bad.x_px = std::numeric_limits<T>::quiet_NaN();
  CHECK(psf::support_window(model, bad).empty());
  bad.x_px = std::numeric_limits<T>::infinity();
  CHECK(psf::support_window(model, bad).empty());
  bad.x_px = T(1e30);
  CHECK(psf::support_window(model, bad).empty());
  const psf::IntegratedGaussian<T> nan_width{.sigma_px = std::numeric_limits<T>::quiet_NaN()};
  CHECK(psf::support_window(nan_width, s).empty());
}

TEST_CASE("JacobianView lays planes out densely, one after another") {
  std::vector<double> buffer(3 * 2 * 4);
  JacobianView<double> j(buffer.data(), 3, Window{5, 6, 4, 2});
  CHECK(j.num_planes() == 3);
  CHECK(j.height() == 2);
  CHECK(j.width() == 4);
  CHECK(j.plane_size() == 8);
  j.plane(2)(1, 3) = 42;
  j.plane(1)(0, 1) = 7;
  CHECK(buffer[2 * 8 + 1 * 4 + 3] == 42);
  CHECK(buffer[1 * 8 + 0 * 4 + 1] == 7);
  CHECK_THROWS_AS(j.plane(3), smlm::assertion_error);
  CHECK_THROWS_AS(j.plane(-1), smlm::assertion_error);
}

TEST_CASE("evaluate checks the buffer sizes against the window") {
  const psf::IntegratedGaussian<double> model{.sigma_px = 1.2};
  const Spot<double> s{5, 5, 0, 100, 1};
  smlm::Image<double> mu(4, 5), small(4, 4);
  std::vector<double> buffer(4 * 4 * 5);
  CHECK_NOTHROW(model.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(mu)));
  CHECK_THROWS_AS(model.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(small)),
                  smlm::assertion_error);
  CHECK_NOTHROW(model.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(mu),
                               JacobianView<double>(buffer.data(), 4, 4, 5)));
  CHECK_THROWS_AS(model.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(mu),
                                 JacobianView<double>(buffer.data(), 3, 4, 5)),
                  smlm::assertion_error);
  CHECK_THROWS_AS(model.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(mu),
                                 JacobianView<double>(buffer.data(), 4, 5, 4)),
                  smlm::assertion_error);
  const psf::AstigmaticGaussian<double> astigmatic;
  CHECK_THROWS_AS(astigmatic.evaluate(s, Window{1, 1, 5, 4}, smlm::make_view(mu),
                                      JacobianView<double>(buffer.data(), 4, 4, 5)),
                  smlm::assertion_error);  // a 3D model has five planes
}
