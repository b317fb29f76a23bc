#include <doctest/doctest.h>

#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <tiffio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <csignal>
#include <sys/resource.h>
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

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The first `count` of `bytes` as the file `path`. A new file each time: ext4 flushes a file
/// that was truncated and rewritten when it is closed, milliseconds per file.
void write_bytes(const std::string& path, const std::vector<char>& bytes, std::size_t count) {
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(count));
  REQUIRE(out.good());
}

/// Frame `f` of a test stack for `type`: distinct per page and pixel, exact in the file's type,
/// with the type's extremes at (0,0) and (0,1).
Image<double> test_frame(pixel_type type, std::ptrdiff_t height, std::ptrdiff_t width, int f) {
  Image<double> image(height, width);
  for (std::ptrdiff_t y = 0; y < height; ++y)
    for (std::ptrdiff_t x = 0; x < width; ++x) {
      const long long k = f * 7919LL + y * 104729LL + x * 1299709LL;
      image(y, x) = type == pixel_type::u8    ? static_cast<double>(k % 256)
                    : type == pixel_type::u16 ? static_cast<double>(k % 65536)
                                              : static_cast<double>(k % 100003) * 0.25 - 1000.0;
    }
  image(0, 0) = type == pixel_type::u8 ? 255.0 : type == pixel_type::u16 ? 65535.0 : static_cast<double>(3.0e38f);
  image(0, 1) = type == pixel_type::f32 ? static_cast<double>(-1.5e-38f) : 0.0;
  return image;
}

/// Where a page of a TIFF lies: its IFD, the offset field that links the next one, its strip.
struct page_extent {
  std::uint64_t directory_begin = 0, directory_end = 0, next_field = 0;
  std::uint64_t data_begin = 0, data_end = 0;
};

/// The pages of a complete little-endian single-strip TIFF, as libtiff finds them.
std::vector<page_extent> page_extents(const std::string& path) {
  const std::vector<char> bytes = read_bytes(path);
  libtiff_file file(path);
  REQUIRE(file.tiff != nullptr);
  TIFF* tiff = file.tiff;
  const bool big = TIFFIsBigTIFF(tiff) != 0;
  std::vector<page_extent> pages;
  do {
    page_extent page;
    page.directory_begin = TIFFCurrentDirOffset(tiff);
    std::uint64_t entries = 0;
    std::memcpy(&entries, bytes.data() + page.directory_begin, big ? 8 : 2);  // little-endian host and file
    page.next_field = page.directory_begin + (big ? 8 + 20 * entries : 2 + 12 * entries);
    page.directory_end = page.next_field + (big ? 8 : 4);
    REQUIRE(TIFFNumberOfStrips(tiff) == 1);
    page.data_begin = TIFFGetStrileOffset(tiff, 0);
    page.data_end = page.data_begin + TIFFGetStrileByteCount(tiff, 0);
    pages.push_back(page);
  } while (TIFFReadDirectory(tiff) == 1);
  return pages;
}

/// How many pages stay complete when the file is cut at `cut` bytes: those before the first
/// page whose IFD or data the cut reaches (the header and description lie before any IFD).
std::size_t complete_pages(const std::vector<page_extent>& pages, std::uint64_t cut) {
  std::size_t n = 0;
  while (n < pages.size() && pages[n].directory_end <= cut && pages[n].data_end <= cut) ++n;
  return n;
}

/// Every page of `path` read with libtiff alone, as doubles; empty when libtiff cannot open it.
std::vector<Image<double>> libtiff_frames(const std::string& path) {
  std::vector<Image<double>> frames;
  libtiff_file file(path);
  if (file.tiff == nullptr) return frames;
  TIFF* tiff = file.tiff;
  do {
    std::uint32_t width = 0, height = 0;
    std::uint16_t bits = 0, format = 0;
    TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &height);
    TIFFGetField(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLEFORMAT, &format);
    std::vector<unsigned char> strip(std::size_t{width} * height * bits / 8);
    const auto want = static_cast<tmsize_t>(strip.size());
    if (TIFFReadEncodedStrip(tiff, 0, strip.data(), want) != want) break;
    Image<double> frame(height, width);
    for (std::size_t i = 0; i < std::size_t{width} * height; ++i) {
      double value = 0;
      if (bits == 8) {
        value = strip[i];
      } else if (bits == 16) {
        std::uint16_t v;
        std::memcpy(&v, strip.data() + 2 * i, 2);
        value = v;
      } else if (format == SAMPLEFORMAT_IEEEFP) {
        float v;
        std::memcpy(&v, strip.data() + 4 * i, 4);
        value = v;
      }
      frame(static_cast<std::ptrdiff_t>(i / width), static_cast<std::ptrdiff_t>(i % width)) = value;
    }
    frames.push_back(frame);
  } while (TIFFReadDirectory(tiff) == 1);
  return frames;
}

/// Checks that TiffReader reads `path` as exactly the first `complete` of `written`, or fails
/// with a format error naming the file when `complete` is 0.
void check_reads_complete_pages(const std::string& path, const std::vector<Image<double>>& written,
                                std::size_t complete, bool truncated) {
  auto reader = TiffReader::open(path);
  if (complete == 0) {
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::format_error);
    CHECK(contains(reader.message(), path));
    return;
  }
  REQUIRE_MESSAGE(reader.has_value(), reader.message());
  REQUIRE(reader->frames() == static_cast<std::ptrdiff_t>(complete));
  CHECK(reader->info().truncated == truncated);
  CHECK_FALSE(reader->info().imagej_raw);
  Image<double> frame;
  for (std::size_t f = 0; f < complete; ++f) {
    CAPTURE(f);
    REQUIRE_MESSAGE(reader->read_frame(static_cast<std::ptrdiff_t>(f), frame).ok(), path);
    CHECK((frame == written[f]).all());
  }
}

/// The configurations of the crash tests: odd sizes (8-bit pages of an odd byte count),
/// directories all reserved, some reserved, none; classic and BigTIFF.
struct stack_case {
  pixel_type type;
  std::ptrdiff_t width, height, expected;
  bool bigtiff;
  std::string label;  ///< for messages
  smlm::io::tiff_container container() const {
    return bigtiff ? smlm::io::tiff_container::bigtiff : smlm::io::tiff_container::automatic;
  }
};
std::vector<stack_case> stack_cases(std::ptrdiff_t frames) {
  std::vector<stack_case> cases;
  for (bool bigtiff : {false, true})
    for (std::ptrdiff_t expected : {std::ptrdiff_t{0}, std::ptrdiff_t{2}, frames})
      for (auto [type, width, height] : {std::tuple{pixel_type::u8, 7, 5}, std::tuple{pixel_type::u16, 13, 3},
                                         std::tuple{pixel_type::f32, 5, 7}})
        cases.push_back({type, width, height, expected, bigtiff,
                         smlm::str_cat(smlm::io::pixel_type_name(type), " ", width, "x", height, ", expected_frames ",
                                       expected, bigtiff ? ", BigTIFF" : ", classic")});
  return cases;
}

/// Writes `frames` test frames to `path` as `c` says and returns them. `after`, when given,
/// gets the file's bytes each time write_frame has returned: what a process killed then leaves.
std::vector<Image<double>> write_case(const std::string& path, const stack_case& c, int frames,
                                      std::vector<std::vector<char>>* after = nullptr) {
  std::vector<Image<double>> written;
  auto writer = TiffWriter::create(path, c.type, c.width, c.height, c.expected, c.container());
  REQUIRE(writer.has_value());
  for (int f = 0; f < frames; ++f) {
    written.push_back(test_frame(c.type, c.height, c.width, f));
    REQUIRE(writer->write_frame(written.back()).ok());
    if (after) after->push_back(read_bytes(path));
  }
  REQUIRE(writer->close().ok());
  return written;
}

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

TEST_CASE("libtiff reads the writer's files: little-endian, uncompressed, one strip per frame, an IFD per frame") {
  using smlm::io::detail::tiff_writer_data_offset;
  const std::ptrdiff_t width = 13, height = 5, frames = 3;
  const std::uint64_t frame_bytes = width * height * 2;
  for (auto container : {smlm::io::tiff_container::automatic, smlm::io::tiff_container::bigtiff}) {
    for (std::ptrdiff_t expected : {frames, std::ptrdiff_t{0}}) {
      const bool bigtiff = container == smlm::io::tiff_container::bigtiff;
      CAPTURE(bigtiff);
      CAPTURE(expected);
      const std::string path = tmp_path(bigtiff ? "libtiff_big.tif" : "libtiff_classic.tif");
      std::vector<Image<std::uint16_t>> written;
      {
        auto writer = TiffWriter::create(path, pixel_type::u16, width, height, expected, container);
        REQUIRE(writer.has_value());
        CHECK(writer->bigtiff() == bigtiff);
        for (int f = 0; f < frames; ++f) {
          written.push_back(ramp<std::uint16_t>(height, width, f, 65535) * 251);
          REQUIRE(writer->write_frame(written.back()).ok());
        }
        REQUIRE(writer->close().ok());
      }
      // ImageJ reads "images=N" as N images back to back, and then skips the other IFDs: the
      // writer says it only when the data are contiguous, i.e. every IFD was reserved in front.
      const std::string description = expected == frames ? "ImageJ=1.11a\nimages=3\nslices=3\n" : "ImageJ=1.11a\n";
      // The size formula decides classic vs BigTIFF: it must match the file.
      CHECK(std::filesystem::file_size(path) ==
            smlm::io::detail::tiff_writer_file_bytes(frames, frame_bytes, static_cast<std::uint64_t>(expected), bigtiff));

      libtiff_file file(path);
      REQUIRE(file.tiff != nullptr);
      TIFF* tiff = file.tiff;
      CHECK(TIFFIsBigTIFF(tiff) == (bigtiff ? 1 : 0));
      CHECK(TIFFIsBigEndian(tiff) == 0);
      CHECK(TIFFNumberOfDirectories(tiff) == frames);
      std::uint64_t previous_end = 0;
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
        const std::uint64_t data_at = TIFFGetStrileOffset(tiff, 0), directory_at = TIFFCurrentDirOffset(tiff);
        CHECK(TIFFGetStrileByteCount(tiff, 0) == frame_bytes);
        if (expected == frames) {
          // Reserved IFDs in front, then frames back to back: what makes "images=N" true.
          CHECK(data_at == tiff_writer_data_offset(frames, bigtiff) + f * frame_bytes);
          CHECK(directory_at < tiff_writer_data_offset(frames, bigtiff));
        } else {
          // Each frame at the end of the file, its IFD right after it.
          CHECK(data_at == (f == 0 ? tiff_writer_data_offset(0, bigtiff) : previous_end));
          CHECK(directory_at == smlm::io::detail::tiff_align(data_at + frame_bytes, bigtiff));
          previous_end = directory_at + smlm::io::detail::tiff_directory_bytes(f == 0 ? 13 : 12, bigtiff);
        }
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
      CHECK(reader->info().description == description);
      CHECK_FALSE(reader->info().truncated);
    }
  }
}

TEST_CASE("classic TIFF up to 4 GiB - 1 bytes, BigTIFF beyond") {
  using smlm::io::detail::tiff_needs_bigtiff;
  using smlm::io::detail::tiff_writer_file_bytes;
  CHECK_FALSE(tiff_needs_bigtiff(0xFFFFFFFFull));
  CHECK(tiff_needs_bigtiff(0x100000000ull));
  // 512 x 512 uint16 frames (524,288 bytes), worked by hand: 8189 frames make 16 header + 72
  // description + 162 + 8188 x 150 directory + 8189 x 524,288 data = 4,294,622,882 bytes, a
  // classic file; 8190 make 4,295,147,320: their data would fit, the directories push them over.
  // Directories reserved in front (expected_frames) or each after its frame: the same bytes.
  const std::uint64_t frame_bytes = 512 * 512 * 2;
  for (bool reserved : {false, true}) {
    CAPTURE(reserved);
    CHECK(tiff_writer_file_bytes(8189, frame_bytes, reserved ? 8189 : 0, false) == 4294622882ull);
    CHECK_FALSE(tiff_needs_bigtiff(tiff_writer_file_bytes(8189, frame_bytes, reserved ? 8189 : 0, false)));
    CHECK(tiff_writer_file_bytes(8190, frame_bytes, reserved ? 8190 : 0, false) == 4295147320ull);
    CHECK(tiff_needs_bigtiff(tiff_writer_file_bytes(8190, frame_bytes, reserved ? 8190 : 0, false)));
  }
  // A reserved IFD never used stays in the file as zeros.
  CHECK(tiff_writer_file_bytes(8189, frame_bytes, 8190, false) == 4294622882ull + 150);
  // An odd frame size: the directory after a frame starts at the next even (BigTIFF: 8-aligned) byte.
  CHECK(tiff_writer_file_bytes(2, 35, 0, false) == 88 + 36 + 162 + 36 + 150);
  CHECK(tiff_writer_file_bytes(2, 35, 0, true) == 88 + 40 + 280 + 40 + 256);
  CHECK(tiff_writer_file_bytes(3, 35, 1, false) == 88 + 162 + 35 + 35 + 150 + 36 + 150);

  // create() decides from expected_frames, since every IFD is written as the file grows.
  const std::string path = tmp_path("container.tif");
  for (auto [expected, bigtiff] : {std::pair{std::ptrdiff_t{8189}, false}, std::pair{std::ptrdiff_t{8190}, true},
                                   std::pair{std::ptrdiff_t{0}, false}}) {
    CAPTURE(expected);
    auto writer = TiffWriter::create(path, pixel_type::u16, 512, 512, expected);
    REQUIRE(writer.has_value());
    CHECK(writer->bigtiff() == bigtiff);
  }
  auto classic = TiffWriter::create(path, pixel_type::u16, 512, 512, 8190, smlm::io::tiff_container::classic);
  REQUIRE_FALSE(classic.has_value());
  CHECK(classic.status().code() == errc::out_of_range);
  CHECK(contains(classic.message(), "classic TIFF cannot hold them"));
  // One frame beyond 4 GiB needs BigTIFF whatever the frame count.
  auto huge = TiffWriter::create(path, pixel_type::u8, 70000, 70000);
  REQUIRE(huge.has_value());
  CHECK(huge->bigtiff());
  std::filesystem::remove(path);
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

TEST_CASE("a stack cut at any point reads back every complete page, and no page without its data") {
  const int frames = 5;
  std::mt19937_64 rng(20240617);  // fixed: the same cuts on every run
  for (const stack_case& c : stack_cases(frames)) {
    CAPTURE(c.label);
    const std::string path = tmp_path("cut_whole.tif"), cut_path = tmp_path("cut.tif");
    const std::vector<Image<double>> written = write_case(path, c, frames);
    const std::vector<char> whole = read_bytes(path);
    const std::vector<page_extent> pages = page_extents(path);
    REQUIRE(pages.size() == static_cast<std::size_t>(frames));
    CHECK(libtiff_frames(path).size() == static_cast<std::size_t>(frames));

    // Every page boundary (either side of each IFD and each frame's data), the header, the
    // description, the whole file, and 40 random lengths.
    std::vector<std::uint64_t> cuts = {0, 4, 8, 15, 16, 40, 87, 88, whole.size()};
    for (const page_extent& p : pages)
      for (std::uint64_t at : {p.directory_begin, p.directory_end, p.data_begin, p.data_end})
        for (std::uint64_t cut : {at - 1, at, at + 1}) cuts.push_back(std::min<std::uint64_t>(cut, whole.size()));
    for (int i = 0; i < 40; ++i) cuts.push_back(rng() % (whole.size() + 1));

    std::size_t seen_truncated = 0, seen_errors = 0;
    for (std::uint64_t cut : cuts) {
      CAPTURE(cut);
      const std::size_t complete = complete_pages(pages, cut);
      write_bytes(cut_path, whole, cut);
      check_reads_complete_pages(cut_path, written, complete, complete < static_cast<std::size_t>(frames));
      seen_truncated += complete > 0 && complete < static_cast<std::size_t>(frames);
      seen_errors += complete == 0;
    }
    CHECK(seen_truncated >= 8);
    CHECK(seen_errors >= 8);
  }
}

TEST_CASE("a writer that dies leaves a TIFF of the pages it finished, for TiffReader and for libtiff") {
  const int frames = 4;
  for (const stack_case& c : stack_cases(frames)) {
    CAPTURE(c.label);
    const std::string path = tmp_path("dying.tif"), snapshot = tmp_path("dying_snapshot.tif");
    std::vector<std::vector<char>> after;
    const std::vector<Image<double>> written = write_case(path, c, frames, &after);
    const std::vector<page_extent> pages = page_extents(path);
    for (int k = 1; k <= frames; ++k) {
      CAPTURE(k);
      const std::vector<char>& bytes = after[static_cast<std::size_t>(k - 1)];
      write_bytes(snapshot, bytes, bytes.size());
      check_reads_complete_pages(snapshot, written, static_cast<std::size_t>(k), false);
      auto reader = TiffReader::open(snapshot);
      REQUIRE(reader.has_value());
      CHECK(reader->info().description == "ImageJ=1.11a\n");  // "images=N" only once close() knows N
      const auto by_libtiff = libtiff_frames(snapshot);
      REQUIRE(by_libtiff.size() == static_cast<std::size_t>(k));
      for (int f = 0; f < k; ++f) CHECK((by_libtiff[static_cast<std::size_t>(f)] == written[static_cast<std::size_t>(f)]).all());

      // Killed inside the next page: its data and IFD in part or in full, not yet linked.
      if (k == frames) continue;
      std::vector<char> unlinked = after[static_cast<std::size_t>(k)];
      const std::uint64_t link = pages[static_cast<std::size_t>(k - 1)].next_field;
      std::fill_n(unlinked.begin() + static_cast<std::ptrdiff_t>(link), c.bigtiff ? 8 : 4, char{0});
      for (std::size_t cut = bytes.size(); cut <= unlinked.size(); cut += std::max<std::size_t>(1, (unlinked.size() - bytes.size()) / 7)) {
        CAPTURE(cut);
        write_bytes(snapshot, unlinked, cut);
        check_reads_complete_pages(snapshot, written, static_cast<std::size_t>(k), false);
        CHECK(libtiff_frames(snapshot).size() == static_cast<std::size_t>(k));
      }
    }
  }
}

TEST_CASE("a write error keeps the pages written before it") {
#if !defined(__linux__)
  MESSAGE("skipped: needs RLIMIT_FSIZE");
#else
  // The file may grow to two and a half frames: page 3's data write fails half-way (EFBIG).
  const std::string path = tmp_path("limited.tif");
  const std::ptrdiff_t side = 64;
  const std::uint64_t frame_bytes = side * side * 2;
  const auto limit = static_cast<rlim_t>(smlm::io::detail::tiff_writer_file_bytes(2, frame_bytes, 0, false) + frame_bytes / 2);
  std::vector<Image<double>> written;
  for (int f = 0; f < 3; ++f) written.push_back(test_frame(pixel_type::u16, side, side, f));
  auto writer = TiffWriter::create(path, pixel_type::u16, side, side);
  REQUIRE(writer.has_value());
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = limit;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  const smlm::Status first = writer->write_frame(written[0]);
  const smlm::Status second = writer->write_frame(written[1]);
  const smlm::Status third = writer->write_frame(written[2]);
  const smlm::Status closed = writer->close();
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  CHECK(first.ok());
  CHECK(second.ok());
  CHECK(third.code() == errc::io_error);
  CHECK(contains(third.message(), path + ": page 3: write failed"));
  CHECK(closed.code() == errc::io_error);
  CHECK(std::filesystem::file_size(path) > smlm::io::detail::tiff_writer_file_bytes(2, frame_bytes, 0, false));
  check_reads_complete_pages(path, written, 2, false);
  CHECK(libtiff_frames(path).size() == 2);
#endif
}
