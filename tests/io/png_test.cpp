#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <png.h>

#include <smlm/io/png.hpp>

namespace {

using smlm::errc;
using smlm::Image;

std::string tmp_path(const std::string& name) { return std::string(SMLM_TEST_TMP_DIR) + "/png_test_" + name; }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

/// Reads any PNG as 8-bit RGB through libpng's simplified API: an independent decoder for
/// checking what our classic-API writer produced.
std::vector<std::uint8_t> read_rgb_simplified(const std::string& path, int& width, int& height) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
  image.format = PNG_FORMAT_RGB;
  std::vector<std::uint8_t> pixels(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) != 0);
  width = static_cast<int>(image.width);
  height = static_cast<int>(image.height);
  return pixels;
}

/// The file's size, depth, colour and whether it carries any colour-space chunk.
struct png_facts {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  bool colour_chunks = false;
};
png_facts inspect(const std::string& path) {
  png_facts facts;
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
  facts.width = image.width;
  facts.height = image.height;
  facts.bit_depth = (image.format & PNG_FORMAT_FLAG_LINEAR) ? 16 : 8;
  facts.color_type = (image.format & PNG_FORMAT_FLAG_COLOR) ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
  png_image_free(&image);
  // gAMA/cHRM/sRGB/iCCP would make other readers convert our samples: none may be present.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  facts.colour_chunks = contains(bytes, "gAMA") || contains(bytes, "cHRM") || contains(bytes, "sRGB") ||
                        contains(bytes, "iCCP");
  return facts;
}

}  // namespace

TEST_CASE("8-bit grey PNG round-trips bit-exactly") {
  Image<std::uint8_t> image(7, 13);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x) image(y, x) = static_cast<std::uint8_t>((y * 37 + x * 11) % 256);
  image(0, 0) = 0;
  image(6, 12) = 255;
  const std::string path = tmp_path("gray8.png");
  REQUIRE(smlm::io::write_png(path, smlm::make_view(image)).ok());
  const png_facts facts = inspect(path);
  CHECK(facts.width == 13u);
  CHECK(facts.height == 7u);
  CHECK(facts.bit_depth == 8);
  CHECK(facts.color_type == PNG_COLOR_TYPE_GRAY);
  CHECK_FALSE(facts.colour_chunks);
  auto back = smlm::io::read_png_gray(path);
  REQUIRE_MESSAGE(back.has_value(), back.message());
  CHECK(back->rows() == 7);
  CHECK(back->cols() == 13);
  CHECK((*back == image.cast<std::uint16_t>()).all());

  SUBCASE("a strided window and an Image are written as they are") {
    const auto window = smlm::make_view(image.data() + 2 * 13 + 3, 3, 5, 13);
    REQUIRE(smlm::io::write_png(path, window).ok());
    auto w = smlm::io::read_png_gray(path);
    REQUIRE(w.has_value());
    CHECK((*w == image.block(2, 3, 3, 5).cast<std::uint16_t>()).all());
    REQUIRE(smlm::io::write_png(path, image).ok());
    CHECK((*smlm::io::read_png_gray(path) == image.cast<std::uint16_t>()).all());
  }
}

TEST_CASE("16-bit grey PNG round-trips bit-exactly, stored big-endian") {
  Image<std::uint16_t> image(5, 9);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 9; ++x) image(y, x) = static_cast<std::uint16_t>(y * 9001 + x * 257 + 1);
  image(0, 0) = 0;
  image(4, 8) = 65535;
  image(1, 1) = 0x0102;
  const std::string path = tmp_path("gray16.png");
  REQUIRE(smlm::io::write_png(path, smlm::make_view(image)).ok());
  const png_facts facts = inspect(path);
  CHECK(facts.bit_depth == 16);
  CHECK(facts.color_type == PNG_COLOR_TYPE_GRAY);
  CHECK_FALSE(facts.colour_chunks);
  auto back = smlm::io::read_png_gray(path);
  REQUIRE_MESSAGE(back.has_value(), back.message());
  CHECK((*back == image).all());

  // An independent decoder (the simplified API, which assumes linear 16-bit data when the file
  // has no gAMA) sees the same values, so our byte order is the standard's, not just symmetric.
  png_image decoded{};
  decoded.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&decoded, path.c_str()) != 0);
  decoded.format = PNG_FORMAT_LINEAR_Y;
  std::vector<std::uint16_t> samples(PNG_IMAGE_SIZE(decoded) / 2);
  REQUIRE(png_image_finish_read(&decoded, nullptr, samples.data(), 0, nullptr) != 0);
  for (int i = 0; i < 45; ++i) {
    INFO("sample ", i);
    CHECK(samples[static_cast<std::size_t>(i)] == image.data()[i]);
  }
}

TEST_CASE("RGB and colour-mapped PNGs read back with the colours written") {
  const int width = 4, height = 3;
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(3 * width * height));
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>(i * 21 + 5);
  const std::string path = tmp_path("rgb.png");
  REQUIRE(smlm::io::write_png_rgb(path, rgb.data(), width, height).ok());
  CHECK_FALSE(inspect(path).colour_chunks);
  int w = 0, h = 0;
  CHECK(read_rgb_simplified(path, w, h) == rgb);
  CHECK(w == width);
  CHECK(h == height);
  // A grey reader refuses colour.
  auto grey = smlm::io::read_png_gray(path);
  REQUIRE_FALSE(grey.has_value());
  CHECK(grey.status().code() == errc::unsupported);
  CHECK(contains(grey.message(), path + ": colour type RGB"));

  SUBCASE("colour map: linear in [lo, hi], clamped, NaN to the first entry") {
    std::array<smlm::io::Rgb8, 256> lut{};
    for (int i = 0; i < 256; ++i)
      lut[static_cast<std::size_t>(i)] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(255 - i),
                                          static_cast<std::uint8_t>(i / 2)};
    Image<float> values(2, 4);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    values << 10.0f, 20.0f, 15.0f, 12.0f,  // lo, hi, middle: round(127.5) = 128, round(51) = 51
        -5.0f, 99.0f, nan, -inf;
    const std::string mapped = tmp_path("mapped.png");
    REQUIRE(smlm::io::write_png_colormapped(mapped, smlm::make_view(values), 10.0f, 20.0f, lut).ok());
    const std::array<int, 8> expected_index{0, 255, 128, 51, 0, 255, 0, 0};
    const auto pixels = read_rgb_simplified(mapped, w, h);
    REQUIRE(w == 4);
    REQUIRE(h == 2);
    for (std::size_t i = 0; i < 8; ++i) {
      INFO("pixel ", i);
      const auto& c = lut[static_cast<std::size_t>(expected_index[i])];
      CHECK(pixels[3 * i] == c.r);
      CHECK(pixels[3 * i + 1] == c.g);
      CHECK(pixels[3 * i + 2] == c.b);
    }
    const auto empty_range = smlm::io::write_png_colormapped(mapped, smlm::make_view(values), 3.0f, 3.0f, lut);
    CHECK(empty_range.code() == errc::invalid_argument);
    CHECK(contains(empty_range.message(), mapped + ": colour-map range [3, 3]"));
  }
}

TEST_CASE("PNG errors name the file") {
  Image<std::uint8_t> image = Image<std::uint8_t>::Constant(2, 2, 7);
  const std::string bad_dir = tmp_path("no_such_dir/out.png");
  const auto s = smlm::io::write_png(bad_dir, smlm::make_view(image));
  CHECK(s.code() == errc::io_error);
  CHECK(contains(s.message(), bad_dir + ": cannot open for writing"));

  auto missing = smlm::io::read_png_gray(tmp_path("missing.png"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.status().code() == errc::io_error);
  CHECK(contains(missing.message(), tmp_path("missing.png") + ": cannot open"));

  const std::string not_png = tmp_path("not_png.png");
  std::ofstream(not_png) << "this is not a PNG file";
  auto garbage = smlm::io::read_png_gray(not_png);
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.status().code() == errc::format_error);
  CHECK(contains(garbage.message(), not_png + ": not a PNG file"));

  // A truncated file: libpng's error arrives through longjmp and becomes a Status.
  const std::string good = tmp_path("truncate.png");
  Image<std::uint16_t> big(64, 64);
  for (int i = 0; i < 64 * 64; ++i) big.data()[i] = static_cast<std::uint16_t>(i * 7919);
  REQUIRE(smlm::io::write_png(good, smlm::make_view(big)).ok());
  const auto size = std::filesystem::file_size(good);
  std::filesystem::resize_file(good, size / 2);
  auto truncated = smlm::io::read_png_gray(good);
  REQUIRE_FALSE(truncated.has_value());
  CHECK(truncated.status().code() == errc::format_error);
  CHECK(contains(truncated.message(), good + ": "));

  Image<std::uint8_t> empty(0, 3);
  const auto e = smlm::io::write_png(tmp_path("empty.png"), smlm::make_view(empty));
  CHECK(e.code() == errc::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(tmp_path("empty.png")));
}

TEST_CASE("PNG files are replaced only once complete") {
  namespace fs = std::filesystem;
  const std::string path = tmp_path("replace.png");
  Image<std::uint8_t> first = Image<std::uint8_t>::Constant(3, 4, 11), second = Image<std::uint8_t>::Constant(3, 4, 22);
  REQUIRE(smlm::io::write_png(path, smlm::make_view(first)).ok());
  CHECK_FALSE(fs::exists(path + ".partial"));
  // The temporary cannot be created (a directory has its name): the write fails, naming the
  // file, and the previous image is still there, whole.
  fs::create_directory(path + ".partial");
  const auto s = smlm::io::write_png(path, smlm::make_view(second));
  CHECK(s.code() == errc::io_error);
  CHECK(contains(s.message(), path + ": cannot open for writing"));
  fs::remove(path + ".partial");
  auto back = smlm::io::read_png_gray(path);
  REQUIRE(back.has_value());
  CHECK((*back == first.cast<std::uint16_t>()).all());
  // A successful write replaces it and leaves no temporary.
  REQUIRE(smlm::io::write_png(path, smlm::make_view(second)).ok());
  CHECK_FALSE(fs::exists(path + ".partial"));
  back = smlm::io::read_png_gray(path);
  REQUIRE(back.has_value());
  CHECK((*back == second.cast<std::uint16_t>()).all());
}
