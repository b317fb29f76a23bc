// Must NOT compile: a PSF without add_to, checked with psf::check_model. The diagnostic must name
// the missing member:
//   psf::Model: missing member `void add_to(const Spot<scalar>&, ImageView<scalar> frame) const`
// Not part of test_psf (the glob there takes *_test.cpp only); registered as a compile-fail test
// by running the compiler on it and matching that sentence.
#include <smlm/psf/psf.hpp>

struct NoAddTo {
  using scalar = float;
  static constexpr bool has_z = false;
  static constexpr int num_params = 4;
  float support_radius_px(const smlm::psf::Spot<float>&) const noexcept;
  void evaluate(const smlm::psf::Spot<float>&, smlm::psf::Window, smlm::ImageView<float>) const noexcept;
  void evaluate(const smlm::psf::Spot<float>&, smlm::psf::Window, smlm::ImageView<float>,
                smlm::psf::JacobianView<float>) const noexcept;
};

static_assert(smlm::psf::check_model<NoAddTo>());
