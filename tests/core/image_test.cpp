#include <doctest/doctest.h>

#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>

TEST_CASE_TEMPLATE("Image is row-major (y, x)", T, float, double, std::uint16_t) {
  smlm::Image<T> img(3, 5);  // 3 rows (height), 5 columns (width)
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) img(y, x) = static_cast<T>(10 * y + x);
  CHECK(img.data()[1] == T(1));   // next in memory is the next x
  CHECK(img.data()[5] == T(10));  // then the next row
  auto v = smlm::make_view(img);
  CHECK(v(2, 4) == T(24));
}

TEST_CASE("views over a window of a larger image share its memory") {
  smlm::Image<float> img = smlm::Image<float>::Zero(6, 8);
  auto window = smlm::make_view(img.data() + 2 * 8 + 3, 2, 4, 8);  // rows 2..3, cols 3..6
  window.setConstant(1.0f);
  CHECK(img.sum() == doctest::Approx(8.0));
  CHECK(img(2, 3) == 1.0f);
  CHECK(img(3, 6) == 1.0f);
  CHECK(img(3, 7) == 0.0f);
  CHECK(img(4, 3) == 0.0f);
}

TEST_CASE("const_view keeps shape and stride of a mutable view") {
  smlm::Image<float> img = smlm::Image<float>::Zero(6, 8);
  img(3, 5) = 2.0f;
  auto window = smlm::make_view(img.data() + 2 * 8 + 3, 3, 4, 8);  // rows 2..4, cols 3..6
  smlm::ConstImageView<float> ro = smlm::const_view(window);
  CHECK(ro.rows() == 3);
  CHECK(ro.cols() == 4);
  CHECK(ro.outerStride() == 8);
  CHECK(ro.data() == img.data() + 19);
  CHECK(ro(1, 2) == 2.0f);
  CHECK(smlm::const_view(img)(3, 5) == 2.0f);
}

TEST_CASE("Stack keeps frames contiguous and checks indices") {
  smlm::Stack<std::uint16_t> s(3, 2, 4);
  CHECK(s.size() == 24u);
  s(1, 1, 3) = 7;
  CHECK(s.data()[1 * 8 + 1 * 4 + 3] == 7);
  CHECK(s.frame(1)(1, 3) == 7);
  CHECK(s.frame(0).sum() == 0);
  CHECK_THROWS_AS(s.frame(3), smlm::assertion_error);
  CHECK_THROWS_AS(s(0, 2, 0), smlm::assertion_error);

  smlm::Stack<float> grown;
  smlm::Image<float> a = smlm::Image<float>::Constant(2, 3, 1.5f);
  grown.push_back(a);
  grown.push_back(a * 2);
  CHECK(grown.frames() == 2);
  CHECK(grown.height() == 2);
  CHECK(grown.width() == 3);
  CHECK(grown.frame(1).sum() == doctest::Approx(18.0));
  smlm::Image<float> wrong(3, 3);
  CHECK_THROWS_AS(grown.push_back(wrong), smlm::assertion_error);
}

TEST_CASE("LocalizationTable converts emitters between pixels and nanometres") {
  smlm::LocalizationTable t;
  smlm::Emitter<double> e{.x_px = 12.25, .y_px = 3.5, .z_nm = -40, .photons = 1500, .frame = 7, .id = 9};
  t.push_back(e, 100.0);
  REQUIRE(t.size() == 1);
  CHECK(t.consistent());
  CHECK(t.x_nm[0] == doctest::Approx(1225.0));
  CHECK(t.y_nm[0] == doctest::Approx(350.0));
  auto back = t.emitter<float>(0, 100.0);
  CHECK(back.x_px == doctest::Approx(12.25));
  CHECK(back.y_px == doctest::Approx(3.5));
  CHECK(back.z_nm == doctest::Approx(-40));
  CHECK(back.photons == doctest::Approx(1500));
  CHECK(back.frame == 7);
  CHECK(back.id == 9);

  t.sigma_nm.push_back(110);
  CHECK(t.consistent());
  t.sigma_nm.push_back(111);  // longer than the table
  CHECK_FALSE(t.consistent());
  CHECK_THROWS_AS(t.push_back(e, 100.0), smlm::assertion_error);  // would leave sigma short
}
