// camera.hpp: the Model concept (what satisfies it, what does not), record_frame's stream.
#include <doctest/doctest.h>

#include <cstdint>
#include <smlm/camera/camera.hpp>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/ideal.hpp>

namespace camera = smlm::camera;
using camera::Pixel;
using smlm::bit_engine;
using smlm::ConstImageView;
using smlm::ImageView;

namespace {

// A user's camera: satisfies the concept with no help from the library (declarations suffice).
struct UserCamera {
  using scalar = float;
  template <bit_engine Rng>
  void record(ConstImageView<float>, Rng&, ImageView<float>) const noexcept;
  double mean_adu(double, Pixel = {}) const noexcept;
  double variance_adu(double, Pixel = {}) const noexcept;
  void to_photons(ConstImageView<float>, ImageView<float>) const noexcept;
  float max_adu() const noexcept;
};

// Building blocks for types that each miss exactly one requirement.
struct Scalar {
  using scalar = float;
};
struct Record {
  template <bit_engine Rng>
  void record(ConstImageView<float>, Rng&, ImageView<float>) const noexcept;
};
struct Mean {
  double mean_adu(double, Pixel = {}) const noexcept;
};
struct Variance {
  double variance_adu(double, Pixel = {}) const noexcept;
};
struct ToPhotons {
  void to_photons(ConstImageView<float>, ImageView<float>) const noexcept;
};
struct MaxAdu {
  float max_adu() const noexcept;
};
struct NoScalar : Record, Mean, Variance, ToPhotons, MaxAdu {};
struct NoRecord : Scalar, Mean, Variance, ToPhotons, MaxAdu {};
struct NoMean : Scalar, Record, Variance, ToPhotons, MaxAdu {};
struct NoVariance : Scalar, Record, Mean, ToPhotons, MaxAdu {};
struct NoToPhotons : Scalar, Record, Mean, Variance, MaxAdu {};
struct NoMaxAdu : Scalar, Record, Mean, Variance, ToPhotons {};
struct IntScalar : Record, Mean, Variance, ToPhotons, MaxAdu {
  using scalar = int;
};
// record that only accepts one specific engine type other than Philox4x32.
struct NarrowEngine {
  std::uint32_t operator()() noexcept;
  std::uint64_t next_u64() noexcept;
};
struct NarrowRecord : Scalar, Mean, Variance, ToPhotons, MaxAdu {
  void record(ConstImageView<float>, NarrowEngine&, ImageView<float>) const noexcept;
};
// Per-pixel statistics that do not take the Pixel argument.
struct NoPixelMean : Scalar, Record, Variance, ToPhotons, MaxAdu {
  double mean_adu(double) const noexcept;
};

}  // namespace

TEST_CASE("camera::Model accepts the library's models and a user's") {
  static_assert(camera::Model<camera::Ideal<float>>);
  static_assert(camera::Model<camera::Ideal<double>>);
  static_assert(camera::Model<camera::Emccd<float>>);
  static_assert(camera::Model<camera::Emccd<double>>);
  static_assert(camera::Model<UserCamera>);
  static_assert(camera::check_model<UserCamera>());
}

TEST_CASE("camera::Model rejects a type missing any member") {
  static_assert(!camera::Model<NoScalar>);
  static_assert(!camera::Model<NoRecord>);
  static_assert(!camera::Model<NoMean>);
  static_assert(!camera::Model<NoVariance>);
  static_assert(!camera::Model<NoToPhotons>);
  static_assert(!camera::Model<NoMaxAdu>);
  static_assert(!camera::Model<IntScalar>);
  static_assert(!camera::Model<NarrowRecord>);
  static_assert(!camera::Model<NoPixelMean>);
  static_assert(!camera::Model<int>);
}

TEST_CASE_TEMPLATE("record_frame uses the (seed, frame, camera) stream", T, float, double) {
  const camera::Emccd<T> emccd;
  const smlm::Image<T> photons = smlm::Image<T>::Constant(8, 8, T(20));
  smlm::Image<T> a(8, 8), b(8, 8);
  const std::uint64_t seed = 12345;
  camera::record_frame(emccd, smlm::make_view(photons), seed, 7, smlm::make_view(a));
  smlm::Philox4x32 rng(seed, 7, smlm::rng_purpose::camera);
  emccd.record(smlm::make_view(photons), rng, smlm::make_view(b));
  CHECK((a == b).all());
  smlm::Philox4x32 other(seed, 7, smlm::rng_purpose::photons);
  emccd.record(smlm::make_view(photons), other, smlm::make_view(b));
  CHECK((a != b).any());
}

TEST_CASE_TEMPLATE("record works on strided views (a window of a larger frame)", T, float, double) {
  const camera::Ideal<T> ideal;
  smlm::Image<T> frame = smlm::Image<T>::Constant(10, 12, T(-1));
  const smlm::Image<T> photons = smlm::Image<T>::Constant(4, 5, T(30));
  auto window = smlm::make_view(frame.data() + 2 * 12 + 3, 4, 5, 12);
  camera::record_frame(ideal, smlm::make_view(photons), 99, 0, window);
  smlm::Image<T> dense(4, 5);
  camera::record_frame(ideal, smlm::make_view(photons), 99, 0, smlm::make_view(dense));
  CHECK((frame.block(2, 3, 4, 5) == dense).all());
  CHECK((frame.block(2, 3, 4, 5) >= 0).all());
  CHECK(frame(0, 0) == T(-1));
  CHECK(frame(6, 3) == T(-1));
  CHECK(frame(2, 8) == T(-1));
}

TEST_CASE("record asserts equal sizes") {
  const camera::Ideal<float> ideal;
  const smlm::Image<float> photons = smlm::Image<float>::Constant(4, 4, 1.0f);
  smlm::Image<float> adu(4, 5);
  CHECK_THROWS_AS(camera::record_frame(ideal, smlm::make_view(photons), 1, 0, smlm::make_view(adu)),
                  smlm::assertion_error);
}

TEST_CASE("optional hooks: frame dependence and the linear range") {
  static_assert(camera::FrameDependent<camera::CmosPhone<float>>);
  static_assert(!camera::FrameDependent<camera::Emccd<float>>);
  static_assert(!camera::FrameDependent<UserCamera>);
  const camera::Emccd<double> emccd;
  CHECK(camera::linear_max_adu(emccd) == 65535.0);
  CHECK(camera::saturation_adu(emccd) == 65535.0);
  CHECK(camera::mean_adu_at(emccd, 10, Pixel{}, 17) == emccd.mean_adu(10));
  CHECK(camera::variance_adu_at(emccd, 10, Pixel{}, 17) == emccd.variance_adu(10));
  const camera::CmosPhone<double> phone;
  CHECK(camera::linear_max_adu(phone) == 220.0);
  CHECK(camera::saturation_adu(phone) == 290.0);
  CHECK(camera::mean_adu_at(phone, 10, Pixel{}, 17) == phone.mean_adu(10, Pixel{}, 17));
  CHECK(camera::mean_adu_at(phone, 10, Pixel{}, 17) != phone.mean_adu(10, Pixel{}, 0));
  // record_frame passes the frame index: frame 0 of a dip model differs from frame 1 on the
  // same engine state only through m(f).
  const smlm::Image<double> photons = smlm::Image<double>::Constant(16, 16, 60.0);
  smlm::Image<double> a(16, 16), b(16, 16);
  camera::record_frame(phone, smlm::make_view(photons), 5, 1, smlm::make_view(a));
  smlm::Philox4x32 rng = camera::frame_engine(5, 1);
  phone.record(smlm::make_view(photons), rng, smlm::make_view(b));  // frame 0's gain
  CHECK(a.mean() > b.mean());
}

TEST_CASE("PixelWords: fixed by (seed, pixel, salt), repeating after four outputs") {
  camera::PixelWords a(7, Pixel{2, 3}, 0), b(7, Pixel{2, 3}, 0), c(7, Pixel{3, 2}, 0), d(7, Pixel{2, 3}, 1);
  const std::uint32_t a0 = a();
  CHECK(a0 == b());
  CHECK(a0 != c());
  CHECK(a0 != d());
  a();
  a();
  a();
  CHECK(a() == a0);
  // Not a frame stream: frame_engine(7, 3) starts elsewhere.
  smlm::Philox4x32 frame = camera::frame_engine(7, 3);
  CHECK(frame() != a0);
}
