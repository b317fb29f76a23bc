// detail::add_to_frame (the simulator's path; the integrated model's erfc in xsimd batches for
// float) against its scalar definition detail::add_to_frame_ref, on random spots: centres inside,
// near and beyond the frame edges (clipped windows), widths from 1e-3 px to 1e3 px (windows of one
// pixel up to the whole frame, over several blocks), elliptic spots (the astigmatic model's path).
//
// Tolerance, per pixel: |simd − ref| ≤ 10·2^-24 · photons + 4 ε |ref|. xsimd 8.1's float erfc and
// std::erfc give pixel masses E within 3.4·2^-24 and 1.7·2^-24 of the exact mass (measured over
// 2e5 random centres, σ in [0.3, 5]), so the factors differ by at most 4·2^-24 each; the pixel
// photons · E_y · E_x then differs by ≤ photons · (E_x + E_y) · 4·2^-24 ≤ 8·2^-24 · photons, plus
// the rounding of the product and of the addition to the frame's previous value (the 4 ε |ref|
// term). For pixels holding at least 1e-3 of the photons the relative difference is also bounded,
// by 1e-5 (both masses are within 2.7e-6 relative of the exact one there). Double takes the
// scalar path, so its frames are identical.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>

namespace psf = smlm::psf;
namespace detail = smlm::psf::detail;
using smlm::Image;

namespace {

template <class T>
struct spot_maker {
  std::mt19937_64 rng{12345};
  T uniform(T a, T b) { return std::uniform_real_distribution<T>(a, b)(rng); }
  T log_uniform(T a, T b) { return std::exp(uniform(std::log(a), std::log(b))); }
  detail::elliptic_spot<T> next(bool elliptic) {
    const T sx = rng() % 4 == 0 ? log_uniform(T(1e-3), T(1e3)) : log_uniform(T(0.3), T(5));
    const T sy = elliptic ? sx * log_uniform(T(0.5), T(2)) : sx;
    return {uniform(-6, 46), uniform(-6, 43), sx, sy, log_uniform(T(10), T(1e5)), T(0)};
  }
};

}  // namespace

TEST_CASE("integrated add_to_frame: the float SIMD path agrees with the scalar reference") {
  spot_maker<float> make;
  const float eps = std::numeric_limits<float>::epsilon();
  double worst_abs = 0, worst_rel = 0;  // in units of 2^-24 · photons, and relative
  for (int it = 0; it < 4000; ++it) {
    const bool elliptic = it % 3 == 0;
    const detail::elliptic_spot<float> g = make.next(elliptic);
    const float radius = 4 * std::max(g.sigma_x, g.sigma_y);
    const float previous = it % 2 == 0 ? 0.0f : 100.0f;
    Image<float> simd(37, 40), ref(37, 40);  // 37 rows × 40 columns: more than one 32-pixel block
    simd.setConstant(previous);
    ref.setConstant(previous);
    detail::add_to_frame<detail::sampling::integrated>(g, radius, smlm::make_view(simd));
    detail::add_to_frame_ref<detail::sampling::integrated>(g, radius, smlm::make_view(ref));
    for (int r = 0; r < ref.rows(); ++r) {
      for (int c = 0; c < ref.cols(); ++c) {
        const double d = std::abs(double(simd(r, c)) - double(ref(r, c)));
        const double tol = 10.0 * 0x1.0p-24 * g.photons + 4.0 * eps * std::abs(ref(r, c));
        worst_abs = std::max(worst_abs, d / (0x1.0p-24 * g.photons));
        if (d > tol) {
          INFO("spot x=" << g.x << " y=" << g.y << " sx=" << g.sigma_x << " sy=" << g.sigma_y
                         << " photons=" << g.photons << " pixel (" << r << ", " << c << ")");
          CHECK(simd(r, c) == doctest::Approx(ref(r, c)));  // reports both values
          CHECK(d <= tol);
        }
        if (previous == 0 && ref(r, c) >= 1e-3f * g.photons) {
          const double rel = d / ref(r, c);
          worst_rel = std::max(worst_rel, rel);
          CHECK(rel <= 1e-5);
        }
      }
    }
  }
  MESSAGE("worst |simd - ref|: " << worst_abs << " · 2^-24 · photons; worst relative (pixels ≥ "
                                 << "1e-3 photons): " << worst_rel);
}

TEST_CASE("integrated add_to_frame: nothing is rendered for a spot without a window") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const detail::elliptic_spot<float> g :
       {detail::elliptic_spot<float>{nan, 5, 1, 1, 100, 0}, {5, 5, nan, nan, 100, 0},
        {-100, 5, 1, 1, 100, 0}, {5, 200, 1, 1, 100, 0}}) {
    Image<float> frame(16, 16);
    frame.setConstant(3.0f);
    detail::add_to_frame<detail::sampling::integrated>(g, 4 * g.sigma_x, smlm::make_view(frame));
    CHECK((frame.array() == 3.0f).all());
  }
}

TEST_CASE("integrated add_to: the public models render through add_to_frame") {
  spot_maker<float> make;
  const psf::IntegratedGaussian<float> model{.sigma_px = 1.3f};
  for (int it = 0; it < 50; ++it) {
    const detail::elliptic_spot<float> g = make.next(false);
    const psf::Spot<float> s{g.x, g.y, 0, g.photons, 0};
    Image<float> a(24, 24), b(24, 24);
    a.setZero();
    b.setZero();
    model.add_to(s, smlm::make_view(a));
    detail::add_to_frame<detail::sampling::integrated>(
        detail::elliptic_spot<float>{g.x, g.y, 1.3f, 1.3f, g.photons, 0},
        model.support_radius_px(s), smlm::make_view(b));
    CHECK((a.array() == b.array()).all());
  }
}

TEST_CASE("integrated add_to_frame: double takes the scalar path, identically") {
  spot_maker<double> make;
  for (int it = 0; it < 200; ++it) {
    const detail::elliptic_spot<double> g = make.next(it % 2 == 0);
    const double radius = 4 * std::max(g.sigma_x, g.sigma_y);
    Image<double> a(37, 40), b(37, 40);
    a.setZero();
    b.setZero();
    detail::add_to_frame<detail::sampling::integrated>(g, radius, smlm::make_view(a));
    detail::add_to_frame_ref<detail::sampling::integrated>(g, radius, smlm::make_view(b));
    CHECK((a.array() == b.array()).all());
  }
}
