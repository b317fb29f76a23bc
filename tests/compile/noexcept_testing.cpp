// Compile-and-run check of the installed conformance suites and gradient checker without
// exceptions, RTTI or SIMD: a user's exception-free build can run them on its own models. Exits 0
// only when the library's models pass and a deliberately broken one fails.
#include <smlm/camera/ideal.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/testing/camera_conformance.hpp>
#include <smlm/testing/gradcheck.hpp>
#include <smlm/testing/psf_conformance.hpp>

#include <smlm/nn/elementwise.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif

namespace {
// The ideal camera declaring half the variance it records.
struct HalfVariance : smlm::camera::Ideal<float> {
  double variance_adu(double photons, smlm::camera::Pixel = {}) const noexcept { return 0.5 * photons; }
};
}  // namespace

int main() {
  using smlm::psf::IntegratedGaussian;
  namespace st = smlm::testing;
  int failures = 0;
  const smlm::psf::Spot<double> spot{10.3, 7.8, 0, 1000, 10};
  failures += !st::check_psf(std::vector<st::PsfCase<IntegratedGaussian<double>>>{{"sigma 1.3", {.sigma_px = 1.3}, spot}}).passed();
  failures += !st::check_camera<smlm::camera::Ideal<float>>({"ideal", {}, 7, 32, 32, {5, 50}}).passed();
  failures += st::check_camera<HalfVariance>({"half variance", {}, 7, 32, 32, {5, 50}}).passed();
  std::vector<smlm::nn::Tensor<double>> in{st::random_tensor({1, 2, 3, 3}, 1, 0)};
  failures += !st::gradcheck(in, [](smlm::nn::Tape<double>& t, const st::Vars& v) { return smlm::nn::tanh(t, v[0]); }, 1)
                   .passed();
  return failures;
}
