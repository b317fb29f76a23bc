// Must NOT compile: a camera without variance_adu, checked with camera::check_model. The
// diagnostic must name the missing member (registered in tests/CMakeLists.txt as a compile-fail
// test matching that sentence; not part of test_camera, whose glob takes *_test.cpp only).
#include <smlm/camera/camera.hpp>

struct NoVariance {
  using scalar = float;
  template <smlm::bit_engine Rng>
  void record(smlm::ConstImageView<float>, Rng&, smlm::ImageView<float>) const noexcept {}
  double mean_adu(double photons, smlm::camera::Pixel) const noexcept { return photons; }
  void to_photons(smlm::ConstImageView<float>, smlm::ImageView<float>) const noexcept {}
  float max_adu() const noexcept { return 65535.0f; }
};

static_assert(smlm::camera::check_model<NoVariance>());
