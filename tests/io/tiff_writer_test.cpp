#include <doctest/doctest.h>

#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <tiffio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

using smlm::errc;
using smlm::Image;
using smlm::io::pixel_type;
using smlm::io::TiffReader;
using smlm::io::TiffWriter;

std::string tmp_path(const std::string& name) { return std::string(SMLM_TEST_TMP_DIR) + "/tiff_writer_" + name; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Values that every file type holds exactly: integers in 0..255 and a few more for u16/f32.
template <class T>
Image<T> ramp(std::ptrdiff_t height, std::ptrdiff_t width, int frame, int max_value) {
  Image<T> image(height, width);
  for (std::ptrdiff_t y = 0; y < height; ++y)
    for (std::ptrdiff_t x = 0; x < width; ++x)
      image(y, x) = static_cast<T>((frame * 31 + y * 17 + x * 5) % (max_value + 1));
  return image;
}

/// Opens `path` with libtiff directly (the reference reader); errors go to the test log.
struct libtiff_file {
  explicit libtiff_file(const std::string& path) : tiff(TIFFOpen(path.c_str(), "r")) {}
  ~libtiff_file() {
    if (tiff) TIFFClose(tiff);
  }
  libtiff_file(const libtiff_file&) = delete;
  libtiff_file& operator=(const libtiff_file&) = delete;
  TIFF* tiff;
};

}  // namespace

TEST_CASE_TEMPLATE("the writer round-trips uint8, uint16 and float32 from any sample type", T, std::uint8_t,
                   std::uint16_t, std::int32_t, float, double) {
  const std::ptrdiff_t width = 19, height = 7, frames = 4;
  for (pixel_type type : {pixel_type::u8, pixel_type::u16, pixel_type::f32}) {
    CAPTURE(smlm::io::pixel_type_name(type));
    const std::string path = tmp_path("roundtrip.tif");
    std::vector<Image<T>> written;
    {
      auto writer = TiffWriter::create(path, type, width, height, frames);
      REQUIRE_MESSAGE(writer.has_value(), writer.message());
      for (int f = 0; f < frames; ++f) {
        written.push_back(ramp<T>(height, width, f, 255));
        REQUIRE(writer->write_frame(written.back()).ok());
      }
      CHECK(writer->frames_written() == frames);
      REQUIRE(writer->close().ok());
    }
    auto reader = TiffReader::open(path);
    REQUIRE_MESSAGE(reader.has_value(), reader.message());
    CHECK(reader->info().type == type);
    CHECK(reader->frames() == frames);
    CHECK(reader->width() == width);
    CHECK(reader->height() == height);
    CHECK_FALSE(reader->info().big_endian);
    CHECK_FALSE(reader->info().bigtiff);
    CHECK(reader->info().description == "ImageJ=1.11a\nimages=4\nslices=4\n");
    Image<T> frame;
    for (int f = 0; f < frames; ++f) {
      REQUIRE(reader->read_frame(f, frame).ok());
      CHECK((frame == written[static_cast<std::size_t>(f)]).all());
    }
  }
}

TEST_CASE("integer files round to nearest, clamp to the type's range and write NaN as 0") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  Image<double> values(1, 12);
  values << -3.0, 2.4, 2.5, -0.5, 0.49, 254.5, 255.6, 70000.0, 65535.4, nan, inf, -inf;
  const std::uint8_t want_u8[] = {0, 2, 3, 0, 0, 255, 255, 255, 255, 0, 255, 0};
  const std::uint16_t want_u16[] = {0, 2, 3, 0, 0, 255, 256, 65535, 65535, 0, 65535, 0};
  const std::string path = tmp_path("clamp.tif");

  for (pixel_type type : {pixel_type::u8, pixel_type::u16, pixel_type::f32}) {
    CAPTURE(smlm::io::pixel_type_name(type));
    auto writer = TiffWriter::create(path, type, 12, 1);
    REQUIRE(writer.has_value());
    REQUIRE(writer->write_frame(values).ok());
    REQUIRE(writer->close().ok());
    auto reader = TiffReader::open(path);
    REQUIRE(reader.has_value());
    Image<double> back;
    REQUIRE(reader->read_frame(0, back).ok());
    for (int i = 0; i < 12; ++i) {
      CAPTURE(values(0, i));
      if (type == pixel_type::u8) CHECK(back(0, i) == want_u8[i]);
      else if (type == pixel_type::u16) CHECK(back(0, i) == want_u16[i]);
      else if (std::isnan(values(0, i))) CHECK(std::isnan(back(0, i)));
      else CHECK(back(0, i) == static_cast<double>(static_cast<float>(values(0, i))));
    }
  }

  // Integer sources clamp too.
  Image<std::int32_t> ints(1, 4);
  ints << -7, 300, 65536, 12;
  auto writer = TiffWriter::create(path, pixel_type::u8, 4, 1);
  REQUIRE(writer.has_value());
  REQUIRE(writer->write_frame(ints).ok());
  REQUIRE(writer->close().ok());
  auto stack = smlm::io::read_tiff_stack<int>(path);
  REQUIRE(stack.has_value());
  CHECK((*stack)(0, 0, 0) == 0);
  CHECK((*stack)(0, 0, 1) == 255);
  CHECK((*stack)(0, 0, 2) == 255);
  CHECK((*stack)(0, 0, 3) == 12);
}

TEST_CASE("libtiff reads the writer's files: little-endian, uncompressed, one strip per frame, contiguous data") {
  const std::ptrdiff_t width = 13, height = 5, frames = 3;
  for (auto container : {smlm::io::tiff_container::automatic, smlm::io::tiff_container::bigtiff}) {
    const bool bigtiff = container == smlm::io::tiff_container::bigtiff;
    CAPTURE(bigtiff);
    const std::string path = tmp_path(bigtiff ? "libtiff_big.tif" : "libtiff_classic.tif");
    std::vector<Image<std::uint16_t>> written;
    {
      auto writer = TiffWriter::create(path, pixel_type::u16, width, height, 0, container);
      REQUIRE(writer.has_value());
      for (int f = 0; f < frames; ++f) {
        written.push_back(ramp<std::uint16_t>(height, width, f, 65535) * 251);
        REQUIRE(writer->write_frame(written.back()).ok());
      }
      REQUIRE(writer->close().ok());
    }
    const std::string description = "ImageJ=1.11a\nimages=3\nslices=3\n";
    // The writer's size formula is what decides classic vs BigTIFF: it must match the file.
    CHECK(std::filesystem::file_size(path) ==
          smlm::io::detail::tiff_writer_file_bytes(frames, width * height * 2, description.size() + 1, bigtiff));

    libtiff_file file(path);
    REQUIRE(file.tiff != nullptr);
    TIFF* tiff = file.tiff;
    CHECK(TIFFIsBigTIFF(tiff) == (bigtiff ? 1 : 0));
    CHECK(TIFFIsBigEndian(tiff) == 0);
    CHECK(TIFFNumberOfDirectories(tiff) == frames);
    for (int f = 0; f < frames; ++f) {
      CAPTURE(f);
      REQUIRE(TIFFSetDirectory(tiff, static_cast<tdir_t>(f)) == 1);
      std::uint32_t w = 0, h = 0, rows_per_strip = 0;
      std::uint16_t bits = 0, compression = 0, format = 0, samples = 0, photometric = 0;
      TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &w);
      TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &h);
      TIFFGetField(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
      TIFFGetField(tiff, TIFFTAG_COMPRESSION, &compression);
      TIFFGetField(tiff, TIFFTAG_SAMPLEFORMAT, &format);
      TIFFGetField(tiff, TIFFTAG_SAMPLESPERPIXEL, &samples);
      TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &photometric);
      TIFFGetField(tiff, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
      CHECK(w == width);
      CHECK(h == height);
      CHECK(bits == 16);
      CHECK(compression == COMPRESSION_NONE);
      CHECK(format == SAMPLEFORMAT_UINT);
      CHECK(samples == 1);
      CHECK(photometric == PHOTOMETRIC_MINISBLACK);
      CHECK(rows_per_strip == height);
      CHECK(TIFFNumberOfStrips(tiff) == 1);
      // Frames back to back from byte 16: what makes "images=N" true for ImageJ.
      CHECK(TIFFGetStrileOffset(tiff, 0) == 16 + static_cast<std::uint64_t>(f * width * height * 2));
      const char* text = nullptr;
      if (f == 0) {
        REQUIRE(TIFFGetField(tiff, TIFFTAG_IMAGEDESCRIPTION, &text) == 1);
        CHECK(std::string(text) == description);
      } else {
        CHECK(TIFFGetField(tiff, TIFFTAG_IMAGEDESCRIPTION, &text) == 0);
      }
      Image<std::uint16_t> strip(height, width);
      REQUIRE(TIFFReadEncodedStrip(tiff, 0, strip.data(), width * height * 2) == width * height * 2);
      CHECK((strip == written[static_cast<std::size_t>(f)]).all());
    }
    auto reader = TiffReader::open(path);
    REQUIRE(reader.has_value());
    CHECK(reader->info().bigtiff == bigtiff);
  }
}

TEST_CASE("classic TIFF up to 4 GiB - 1 bytes, BigTIFF beyond") {
  using smlm::io::detail::tiff_needs_bigtiff;
  using smlm::io::detail::tiff_writer_file_bytes;
  CHECK_FALSE(tiff_needs_bigtiff(0xFFFFFFFFull));
  CHECK(tiff_needs_bigtiff(0x100000000ull));
  // 512 x 512 uint16 frames (524,288 bytes), worked by hand: 8189 frames make 16 + 8189 x 524,288
  // data + 38 description + 8189 x 150 directory + 12 = 4,294,622,848 bytes, a classic file;
  // 8190 make 4,295,147,286: their data would fit, the directories push them over.
  const std::uint64_t frame_bytes = 512 * 512 * 2;
  const std::uint64_t text = sizeof("ImageJ=1.11a\nimages=8189\nslices=8189\n");
  CHECK(tiff_writer_file_bytes(8189, frame_bytes, text, false) == 4294622848ull);
  CHECK_FALSE(tiff_needs_bigtiff(tiff_writer_file_bytes(8189, frame_bytes, text, false)));
  CHECK(tiff_writer_file_bytes(8190, frame_bytes, text, false) == 4295147286ull);
  CHECK(tiff_needs_bigtiff(tiff_writer_file_bytes(8190, frame_bytes, text, false)));
}

TEST_CASE("one frame gets a plain ImageJ description") {
  const std::string path = tmp_path("single.tif");
  Image<float> frame = Image<float>::Constant(4, 6, 2.25f);
  REQUIRE(smlm::io::write_tiff_stack(path, [&] {
            smlm::Stack<float> s;
            s.push_back(frame);
            return s;
          }(), pixel_type::f32).ok());
  auto reader = TiffReader::open(path);
  REQUIRE(reader.has_value());
  CHECK(reader->frames() == 1);
  CHECK(reader->info().description == "ImageJ=1.11a\n");
  auto stack = smlm::io::read_tiff_stack<float>(path);
  REQUIRE(stack.has_value());
  CHECK((stack->frame(0) == frame).all());
}

TEST_CASE("the writer refuses what it cannot write, with the file named") {
  const std::string path = tmp_path("refused.tif");
  for (pixel_type type : {pixel_type::u32, pixel_type::i8, pixel_type::i16, pixel_type::i32}) {
    auto writer = TiffWriter::create(path, type, 4, 4);
    REQUIRE_FALSE(writer.has_value());
    CHECK(writer.status().code() == errc::invalid_argument);
    CHECK(contains(writer.message(), path));
  }
  CHECK(TiffWriter::create(path, pixel_type::u16, 0, 4).status().code() == errc::invalid_argument);
  CHECK(TiffWriter::create(path, pixel_type::u16, 4, -1).status().code() == errc::invalid_argument);
  CHECK(TiffWriter::create(path, pixel_type::u16, 4, 4, -2).status().code() == errc::invalid_argument);
  CHECK(TiffWriter::create(path, pixel_type::f32, 1 << 30, 1 << 30, 1 << 30).status().code() == errc::out_of_range);

  const std::string no_directory = tmp_path("missing_dir/x.tif");
  auto unwritable = TiffWriter::create(no_directory, pixel_type::u16, 4, 4);
  REQUIRE_FALSE(unwritable.has_value());
  CHECK(unwritable.status().code() == errc::io_error);
  CHECK(contains(unwritable.message(), no_directory));

  if (std::filesystem::exists("/dev/full")) {  // Linux: every write fails with ENOSPC
    auto full = TiffWriter::create("/dev/full", pixel_type::u16, 128, 128);
    REQUIRE(full.has_value());
    const Image<std::uint16_t> frame = Image<std::uint16_t>::Zero(128, 128);
    const smlm::Status status = full->write_frame(frame);
    CHECK(status.code() == errc::io_error);
    CHECK(contains(status.message(), "/dev/full: page 1: write failed"));
    CHECK(full->write_frame(frame).code() == errc::io_error);  // sticky
    CHECK(full->close().code() == errc::io_error);
  }

  auto writer = TiffWriter::create(path, pixel_type::u16, 4, 3);
  REQUIRE(writer.has_value());
  Image<float> wrong(4, 4);
  const smlm::Status size = writer->write_frame(wrong);
  CHECK(size.code() == errc::invalid_argument);
  CHECK(contains(size.message(), path + ": page 1"));
  CHECK(writer->frames_written() == 0);
  const Image<float> right = Image<float>::Zero(3, 4);
  REQUIRE(writer->write_frame(right).ok());
  REQUIRE(writer->close().ok());
  CHECK(writer->close().ok());  // again: the first result
  CHECK(writer->write_frame(right).code() == errc::invalid_argument);

  auto empty = TiffWriter::create(path, pixel_type::u8, 4, 3);
  REQUIRE(empty.has_value());
  const smlm::Status nothing = empty->close();
  CHECK(nothing.code() == errc::invalid_argument);
  CHECK(contains(nothing.message(), path));
  CHECK_FALSE(std::filesystem::exists(path));  // no half-made TIFF is left behind
  CHECK(smlm::io::write_tiff_stack(path, smlm::Stack<float>(), pixel_type::u8).code() == errc::invalid_argument);
}

TEST_CASE("writers move, and the destructor closes the file") {
  const std::string first = tmp_path("moved_first.tif"), second = tmp_path("moved_second.tif");
  const Image<std::uint8_t> frame = ramp<std::uint8_t>(3, 5, 1, 255);
  {
    auto created = TiffWriter::create(first, pixel_type::u8, 5, 3);
    REQUIRE(created.has_value());
    TiffWriter writer = std::move(*created);
    REQUIRE(writer.write_frame(frame).ok());
    auto other = TiffWriter::create(second, pixel_type::u8, 5, 3);
    REQUIRE(other.has_value());
    REQUIRE(other->write_frame(frame).ok());
    REQUIRE(other->write_frame(frame).ok());
    writer = std::move(*other);  // closes `first` (one frame); `writer` now continues `second`
    REQUIRE(writer.write_frame(frame).ok());
    CHECK(writer.frames_written() == 3);
  }  // the destructor closes `second`
  auto a = TiffReader::open(first);
  REQUIRE_MESSAGE(a.has_value(), a.message());
  CHECK(a->frames() == 1);
  auto b = TiffReader::open(second);
  REQUIRE_MESSAGE(b.has_value(), b.message());
  CHECK(b->frames() == 3);
  Image<std::uint8_t> back;
  REQUIRE(b->read_frame(2, back).ok());
  CHECK((back == frame).all());
}

TEST_CASE("writing frame by frame keeps the heap flat") {
#if defined(SMLM_SANITIZED) || !defined(__GLIBC__)
  MESSAGE("skipped: sanitizers replace malloc, or this is not glibc");
#else
  const std::ptrdiff_t frames = 300, side = 128;
  auto writer = TiffWriter::create(tmp_path("streaming.tif"), pixel_type::f32, side, side);
  REQUIRE(writer.has_value());
  const Image<double> frame = Image<double>::Constant(side, side, 3.5);
  for (int f = 0; f < 10; ++f) REQUIRE(writer->write_frame(frame).ok());
  const std::size_t baseline = mallinfo2().uordblks;
  std::size_t peak = baseline;
  bool ok = true;
  for (std::ptrdiff_t f = 10; f < frames; ++f) {
    ok = writer->write_frame(frame).ok() && ok;
    peak = std::max(peak, mallinfo2().uordblks);
  }
  CHECK(ok);
  CAPTURE(peak - baseline);
  CHECK(peak - baseline < 3 * static_cast<std::size_t>(side * side) * sizeof(float));
  REQUIRE(writer->close().ok());
  auto reader = TiffReader::open(tmp_path("streaming.tif"));
  REQUIRE(reader.has_value());
  CHECK(reader->frames() == frames);
#endif
}
