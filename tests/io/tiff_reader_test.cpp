#include <doctest/doctest.h>

#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <tiffio.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

using smlm::errc;
using smlm::Image;
using smlm::io::pixel_type;
using smlm::io::TiffReader;

std::string tmp_path(const std::string& name) { return std::string(SMLM_TEST_TMP_DIR) + "/tiff_reader_" + name; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

/// Samples that cover S's range, differ between pages, and include S's extremes at (0,0), (0,1).
template <class S>
Image<S> pattern(std::ptrdiff_t height, std::ptrdiff_t width, int page) {
  Image<S> image(height, width);
  for (std::ptrdiff_t y = 0; y < height; ++y)
    for (std::ptrdiff_t x = 0; x < width; ++x) {
      if constexpr (std::is_floating_point_v<S>) {
        image(y, x) = static_cast<S>((page * 1000 + y * 37 + x * 3) * 0.25 - 100.0);
      } else {
        using L = std::numeric_limits<S>;
        const long long range = static_cast<long long>(L::max()) - static_cast<long long>(L::min()) + 1;
        const long long v = (page * 7919LL + y * 104729LL + x * 1299709LL) % range;
        image(y, x) = static_cast<S>(static_cast<long long>(L::min()) + v);
      }
    }
  if constexpr (std::is_floating_point_v<S>) {
    image(0, 0) = 3.0e38f;
    image(0, 1) = -1.5e-38f;
  } else {
    image(0, 0) = std::numeric_limits<S>::max();
    image(0, 1) = std::numeric_limits<S>::min();
  }
  return image;
}

template <class S>
constexpr std::uint16_t sample_format_of() {
  return std::is_floating_point_v<S> ? SAMPLEFORMAT_IEEEFP : std::is_signed_v<S> ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
}

/// How write_fixture lays pages out with libtiff.
struct fixture_layout {
  const char* name;
  bool big_endian = false;
  bool bigtiff = false;
  std::uint32_t rows_per_strip = 0;  ///< 0: one strip per page
  std::uint32_t tile = 0;            ///< > 0: square tiles of this side
  std::uint16_t compression = COMPRESSION_NONE;
  bool predictor = false;            ///< horizontal (integers) or floating-point predictor
};

/// Writes `pages` with libtiff itself (the reference writer), as `layout` says.
template <class S>
void write_fixture(const std::string& path, const std::vector<Image<S>>& pages, const fixture_layout& layout) {
  std::string mode = "w";
  mode += layout.big_endian ? 'b' : 'l';
  if (layout.bigtiff) mode += '8';
  TIFF* tiff = TIFFOpen(path.c_str(), mode.c_str());
  REQUIRE(tiff != nullptr);
  for (const auto& page : pages) {
    const auto width = static_cast<std::uint32_t>(page.cols()), height = static_cast<std::uint32_t>(page.rows());
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, static_cast<int>(8 * sizeof(S)));
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tiff, TIFFTAG_SAMPLEFORMAT, static_cast<int>(sample_format_of<S>()));
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, static_cast<int>(layout.compression));
    if (layout.predictor)
      TIFFSetField(tiff, TIFFTAG_PREDICTOR, std::is_floating_point_v<S> ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL);
    // libtiff byte-swaps the buffer it is given in place, so it always gets a copy.
    std::vector<S> buffer;
    if (layout.tile != 0) {
      TIFFSetField(tiff, TIFFTAG_TILEWIDTH, layout.tile);
      TIFFSetField(tiff, TIFFTAG_TILELENGTH, layout.tile);
      for (std::uint32_t y = 0; y < height; y += layout.tile)
        for (std::uint32_t x = 0; x < width; x += layout.tile) {
          buffer.assign(std::size_t{layout.tile} * layout.tile, S{});
          for (std::uint32_t r = 0; r < layout.tile && y + r < height; ++r)
            for (std::uint32_t c = 0; c < layout.tile && x + c < width; ++c) buffer[r * layout.tile + c] = page(y + r, x + c);
          const auto bytes = static_cast<tmsize_t>(buffer.size() * sizeof(S));
          REQUIRE(TIFFWriteEncodedTile(tiff, TIFFComputeTile(tiff, x, y, 0, 0), buffer.data(), bytes) >= 0);
        }
    } else {
      const std::uint32_t rows_per_strip = layout.rows_per_strip != 0 ? layout.rows_per_strip : height;
      TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
      for (std::uint32_t row = 0, strip = 0; row < height; row += rows_per_strip, ++strip) {
        const std::uint32_t rows = std::min(rows_per_strip, height - row);
        buffer.assign(page.data() + std::size_t{row} * width, page.data() + std::size_t{row + rows} * width);
        REQUIRE(TIFFWriteEncodedStrip(tiff, strip, buffer.data(), static_cast<tmsize_t>(buffer.size() * sizeof(S))) >= 0);
      }
    }
    REQUIRE(TIFFWriteDirectory(tiff) == 1);
  }
  TIFFClose(tiff);
}

// --- a byte-level classic TIFF builder, for layouts libtiff will not write -------------------

struct raw_entry {
  std::uint16_t tag, type;  ///< type: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG
  std::vector<std::uint64_t> values;
  std::string ascii = {};
};
/// One IFD; a StripOffsets (273) entry without values gets the offset of `pixels`.
struct raw_page {
  std::vector<raw_entry> entries;
  std::vector<std::byte> pixels;
};

int type_bytes(std::uint16_t type) { return type == 3 ? 2 : type == 4 ? 4 : 1; }

/// Header, then per page: IFD, its out-of-line values, its pixels; then `trailing`.
std::vector<std::byte> build_tiff(bool big_endian, std::vector<raw_page> pages, const std::vector<std::byte>& trailing = {}) {
  std::vector<std::byte> out;
  auto put = [&](std::size_t at, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      const int shift = 8 * (big_endian ? bytes - 1 - i : i);
      out[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((value >> shift) & 0xFF);
    }
  };
  auto append = [&](std::uint64_t value, int bytes) {
    out.resize(out.size() + static_cast<std::size_t>(bytes));
    put(out.size() - static_cast<std::size_t>(bytes), value, bytes);
  };
  auto align = [&] {
    if (out.size() % 2 != 0) out.push_back(std::byte{0});
  };
  out.push_back(std::byte{big_endian ? std::uint8_t{'M'} : std::uint8_t{'I'}});
  out.push_back(out[0]);
  append(42, 2);
  append(0, 4);
  std::size_t next_pointer_at = 4;
  for (auto& page : pages) {
    std::sort(page.entries.begin(), page.entries.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
    align();
    put(next_pointer_at, out.size(), 4);
    const std::size_t ifd_at = out.size(), n = page.entries.size();
    out.resize(ifd_at + 2 + 12 * n + 4);
    put(ifd_at, n, 2);
    next_pointer_at = ifd_at + 2 + 12 * n;
    auto encode = [&](std::uint64_t value, int bytes) {
      std::vector<std::byte> v;
      for (int k = 0; k < bytes; ++k) v.push_back(static_cast<std::byte>((value >> (8 * (big_endian ? bytes - 1 - k : k))) & 0xFF));
      return v;
    };
    std::vector<std::vector<std::byte>> values(n);
    std::vector<std::uint64_t> value_offsets(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const raw_entry& e = page.entries[i];
      std::vector<std::byte>& v = values[i];
      if (e.type == 2) {
        for (char c : e.ascii) v.push_back(static_cast<std::byte>(c));
        v.push_back(std::byte{0});
      } else {
        for (std::uint64_t value : e.values) {
          const auto b = encode(value, type_bytes(e.type));
          v.insert(v.end(), b.begin(), b.end());
        }
      }
      if (v.size() > 4) {
        align();
        value_offsets[i] = out.size();
        out.insert(out.end(), v.begin(), v.end());
      }
    }
    align();
    const std::uint64_t pixel_offset = out.size();
    out.insert(out.end(), page.pixels.begin(), page.pixels.end());
    for (std::size_t i = 0; i < n; ++i) {
      const raw_entry& e = page.entries[i];
      std::uint64_t count = e.type == 2 ? e.ascii.size() + 1 : e.values.size();
      if (e.tag == 273 && e.values.empty()) {
        values[i] = encode(pixel_offset, 4);
        count = 1;
      }
      const std::size_t at = ifd_at + 2 + 12 * i;
      put(at, e.tag, 2);
      put(at + 2, e.type, 2);
      put(at + 4, count, 4);
      if (values[i].size() > 4) put(at + 8, value_offsets[i], 4);
      else std::copy(values[i].begin(), values[i].end(), out.begin() + static_cast<std::ptrdiff_t>(at + 8));
    }
  }
  out.insert(out.end(), trailing.begin(), trailing.end());
  return out;
}

/// Samples in the file's byte order.
template <class S>
std::vector<std::byte> sample_bytes(const Image<S>& image, bool big_endian) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(image.size()) * sizeof(S));
  std::memcpy(bytes.data(), image.data(), bytes.size());
  if (big_endian != (std::endian::native == std::endian::big))
    smlm::io::detail::swap_bytes_in_place(bytes.data(), static_cast<std::size_t>(image.size()), sizeof(S));
  return bytes;
}

/// A one-strip greyscale page; `extra` entries replace or add tags.
raw_page grey_page(std::uint32_t width, std::uint32_t height, std::uint16_t bits, std::uint16_t format,
                   std::vector<std::byte> pixels, const std::vector<raw_entry>& extra = {}) {
  raw_page page;
  page.entries = {{256, 4, {width}},  {257, 4, {height}}, {258, 3, {bits}}, {259, 3, {1}},
                  {262, 3, {1}},      {273, 4, {}},       {277, 3, {1}},    {278, 4, {height}},
                  {279, 4, {pixels.size()}}, {339, 3, {format}}};
  for (const raw_entry& e : extra) {
    auto same = std::find_if(page.entries.begin(), page.entries.end(), [&](const raw_entry& p) { return p.tag == e.tag; });
    if (same != page.entries.end()) *same = e;
    else page.entries.push_back(e);
  }
  page.pixels = std::move(pixels);
  return page;
}

/// Sends fd 2 to a file while alive; finish() restores it and returns what was written.
class stderr_capture {
 public:
  explicit stderr_capture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::close(fd);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;
  ~stderr_capture() { restore(); }
  std::string finish() {
    restore();
    const auto bytes = read_file(path_);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

/// The error a file (or its bytes) gives when opened and read in full; ok when it all reads.
smlm::Status open_and_read_all(const std::vector<std::byte>& bytes, const std::string& name,
                               std::vector<Image<double>>* frames = nullptr) {
  auto reader = TiffReader::open_memory(bytes, name);
  if (!reader) return reader.status();
  Image<double> frame;
  for (std::ptrdiff_t f = 0; f < reader->frames(); ++f) {
    SMLM_TRY(reader->read_frame(f, frame));
    if (frames) frames->push_back(frame);
  }
  return {};
}

}  // namespace

TEST_CASE("the ThunderSTORM reference stack reads as 20 x 64 x 64 big-endian uint16") {
  const std::string path = std::string(SMLM_SHARED_DATA_DIR) + "/thunderstorm_sim_20frames.tif";
  auto reader = TiffReader::open(path);
  REQUIRE_MESSAGE(reader.has_value(), reader.message());
  const auto& info = reader->info();
  CHECK(info.frames == 20);
  CHECK(info.width == 64);
  CHECK(info.height == 64);
  CHECK(info.type == pixel_type::u16);
  CHECK(info.big_endian);
  CHECK_FALSE(info.bigtiff);
  CHECK_FALSE(info.imagej_raw);  // 20 IFDs: an ordinary multi-page file despite "images=20"
  CHECK(info.description.starts_with("ImageJ=1.51w\nimages=20\n"));

  // Expected values: read once from the file with an independent struct-based TIFF parser in
  // python3 (IFD chain, StripOffsets/StripByteCounts, '>H' samples); frames 0-based, (y, x).
  struct spot {
    int frame, y, x;
    std::uint16_t value;
  };
  const spot spots[] = {{0, 0, 0, 166},   {0, 0, 63, 307},  {0, 63, 0, 765},  {0, 63, 63, 152},
                        {0, 31, 17, 640}, {0, 40, 5, 912},  {7, 0, 0, 134},   {7, 31, 17, 701},
                        {7, 40, 5, 146},  {19, 0, 63, 612}, {19, 31, 17, 972}, {19, 63, 63, 135},
                        {5, 30, 19, 2472}};
  Image<std::uint16_t> frame(64, 64);
  double total = 0, lowest = 1e9, highest = -1;
  std::vector<Image<std::uint16_t>> frames;
  for (std::ptrdiff_t f = 0; f < reader->frames(); ++f) {
    REQUIRE(reader->read_frame(f, frame).ok());
    frames.push_back(frame);
    const double sum = frame.cast<double>().sum();
    if (f == 0) CHECK(sum == 1815524);
    if (f == 7) CHECK(sum == 1634546);
    if (f == 19) CHECK(sum == 1590297);
    total += sum;
    lowest = std::min<double>(lowest, frame.minCoeff());
    highest = std::max<double>(highest, frame.maxCoeff());
  }
  for (const spot& s : spots) {
    CAPTURE(s.frame);
    CAPTURE(s.y);
    CAPTURE(s.x);
    CHECK(frames[static_cast<std::size_t>(s.frame)](s.y, s.x) == s.value);
  }
  CHECK(lowest == 105);
  CHECK(highest == 2472);
  CHECK(total == 33176473);
  CHECK(total / (20.0 * 64 * 64) == doctest::Approx(405.0).epsilon(0.001));

  auto stack = smlm::io::read_tiff_stack<float>(path);
  REQUIRE(stack.has_value());
  CHECK(stack->frames() == 20);
  for (const spot& s : spots) CHECK((*stack)(s.frame, s.y, s.x) == static_cast<float>(s.value));
}

TEST_CASE_TEMPLATE("every sample type reads back exactly in every byte order and layout", S, std::uint8_t,
                   std::uint16_t, std::uint32_t, std::int8_t, std::int16_t, std::int32_t, float) {
  const fixture_layout layouts[] = {
      {.name = "little-endian, one strip"},
      {.name = "big-endian, one strip", .big_endian = true},
      {.name = "little-endian, 5 rows per strip", .rows_per_strip = 5},
      {.name = "big-endian, 3 rows per strip", .big_endian = true, .rows_per_strip = 3},
      {.name = "little-endian, 16x16 tiles", .tile = 16},
      {.name = "big-endian, 16x16 tiles", .big_endian = true, .tile = 16},
      {.name = "BigTIFF little-endian", .bigtiff = true, .rows_per_strip = 4},
      {.name = "BigTIFF big-endian, tiles", .big_endian = true, .bigtiff = true, .tile = 16},
      {.name = "LZW with predictor", .rows_per_strip = 8, .compression = COMPRESSION_LZW, .predictor = true},
      {.name = "Deflate, big-endian, tiles", .big_endian = true, .tile = 32, .compression = COMPRESSION_ADOBE_DEFLATE},
      {.name = "PackBits", .compression = COMPRESSION_PACKBITS},
  };
  const std::ptrdiff_t width = 37, height = 21;  // not multiples of the tile or strip size
  std::vector<Image<S>> pages;
  for (int p = 0; p < 3; ++p) pages.push_back(pattern<S>(height, width, p));
  for (const fixture_layout& layout : layouts) {
    CAPTURE(layout.name);
    const std::string path = tmp_path(std::string("roundtrip_") + std::string(smlm::io::pixel_type_name(smlm::io::pixel_type_of<S>())) + ".tif");
    write_fixture(path, pages, layout);
    auto reader = TiffReader::open(path);
    REQUIRE_MESSAGE(reader.has_value(), reader.message());
    CHECK(reader->width() == width);
    CHECK(reader->height() == height);
    CHECK(reader->frames() == 3);
    CHECK(reader->info().type == smlm::io::pixel_type_of<S>());
    CHECK(reader->info().big_endian == layout.big_endian);
    CHECK(reader->info().bigtiff == layout.bigtiff);
    CHECK_FALSE(reader->info().imagej_raw);
    Image<S> frame;
    Image<double> wide;
    for (std::ptrdiff_t f : {0, 1, 2, 0}) {  // in order, then back to the first page
      CAPTURE(f);
      REQUIRE_MESSAGE(reader->read_frame(f, frame).ok(), layout.name);
      CHECK((frame == pages[static_cast<std::size_t>(f)]).all());
      REQUIRE(reader->read_frame(f, wide).ok());
      CHECK((wide == pages[static_cast<std::size_t>(f)].template cast<double>()).all());
    }
  }
}

TEST_CASE("frames can be read in any order into views of any row stride") {
  const std::string path = tmp_path("random_access.tif");
  std::vector<Image<std::uint16_t>> pages;
  for (int p = 0; p < 6; ++p) pages.push_back(pattern<std::uint16_t>(9, 11, p));
  write_fixture(path, pages, {.name = "strips", .rows_per_strip = 2});
  auto reader = TiffReader::open(path);
  REQUIRE(reader.has_value());
  Image<float> big = Image<float>::Constant(20, 30, -1.0f);
  auto window = smlm::make_view(big.data() + 3 * 30 + 4, 9, 11, 30);  // rows 3..11, cols 4..14
  for (std::ptrdiff_t f : {5, 2, 0, 4, 3, 1, 5}) {
    CAPTURE(f);
    REQUIRE(reader->read_frame(f, window).ok());
    CHECK((window == pages[static_cast<std::size_t>(f)].cast<float>()).all());
  }
  CHECK(big(2, 4) == -1.0f);   // outside the window: untouched
  CHECK(big(3, 15) == -1.0f);
  CHECK(big(12, 4) == -1.0f);

  auto status = reader->read_frame(6, window);
  CHECK(status.code() == errc::out_of_range);
  CHECK(contains(status.message(), path));
  CHECK(contains(status.message(), "page 7"));
  CHECK(reader->read_frame(-1, window).code() == errc::out_of_range);

  Image<float> wrong(9, 10);
  CHECK_THROWS_AS((void)reader->read_frame(0, smlm::make_view(wrong)), smlm::assertion_error);

  TiffReader moved = std::move(*reader);  // readers move; the moved-to one keeps reading
  Image<std::uint16_t> frame;
  REQUIRE(moved.read_frame(3, frame).ok());
  CHECK((frame == pages[3]).all());
}

TEST_CASE("stored samples convert to the caller's type") {
  SUBCASE("float to integers: truncation, saturation, NaN as 0") {
    Image<float> page(1, 7);
    page << std::numeric_limits<float>::quiet_NaN(), -5.5f, 1e10f, 3.7f, -0.9f, 65535.9f,
        -std::numeric_limits<float>::infinity();
    const std::string path = tmp_path("convert_float.tif");
    write_fixture<float>(path, {page}, {.name = "float"});
    auto reader = TiffReader::open(path);
    REQUIRE(reader.has_value());
    Image<std::uint16_t> u16;
    REQUIRE(reader->read_frame(0, u16).ok());
    const std::uint16_t want_u16[] = {0, 0, 65535, 3, 0, 65535, 0};
    for (int i = 0; i < 7; ++i) CHECK(u16(0, i) == want_u16[i]);
    Image<std::int8_t> i8;
    REQUIRE(reader->read_frame(0, i8).ok());
    const std::int8_t want_i8[] = {0, -5, 127, 3, 0, 127, -128};
    for (int i = 0; i < 7; ++i) CHECK(i8(0, i) == want_i8[i]);
    Image<double> f64;
    REQUIRE(reader->read_frame(0, f64).ok());
    CHECK(std::isnan(f64(0, 0)));
    CHECK(f64(0, 3) == static_cast<double>(3.7f));
  }
  SUBCASE("integers to integers: static_cast") {
    Image<std::int16_t> page(1, 3);
    page << -1, 32767, -32768;
    const std::string path = tmp_path("convert_int16.tif");
    write_fixture<std::int16_t>(path, {page}, {.name = "int16", .big_endian = true});
    auto reader = TiffReader::open(path);
    REQUIRE(reader.has_value());
    Image<std::uint16_t> u16;
    REQUIRE(reader->read_frame(0, u16).ok());
    CHECK(u16(0, 0) == 65535);
    CHECK(u16(0, 1) == 32767);
    CHECK(u16(0, 2) == 32768);
  }
}

TEST_CASE_TEMPLATE("ImageJ's raw-after-one-header stacks read as all their images", S, std::uint16_t, float, std::int8_t) {
  const std::uint32_t width = 9, height = 6;
  const int images = 5;
  std::vector<Image<S>> frames;
  for (int f = 0; f < images; ++f) frames.push_back(pattern<S>(height, width, f));
  const std::uint16_t bits = 8 * sizeof(S);
  const raw_entry description{270, 2, {}, "ImageJ=1.53t\nimages=5\nslices=5\nunit=micron\nloop=false\n"};
  for (bool big_endian : {true, false}) {
    CAPTURE(big_endian);
    std::vector<std::byte> rest;
    for (int f = 1; f < images; ++f) {
      auto b = sample_bytes(frames[static_cast<std::size_t>(f)], big_endian);
      rest.insert(rest.end(), b.begin(), b.end());
    }
    const raw_page page = grey_page(width, height, bits, sample_format_of<S>(), sample_bytes(frames[0], big_endian), {description});

    SUBCASE("the whole stack") {
      const std::string path = tmp_path("imagej_raw.tif");
      write_file(path, build_tiff(big_endian, {page}, rest));
      auto reader = TiffReader::open(path);
      REQUIRE_MESSAGE(reader.has_value(), reader.message());
      CHECK(reader->info().imagej_raw);
      CHECK(reader->frames() == images);
      CHECK(reader->info().big_endian == big_endian);
      Image<S> frame;
      for (std::ptrdiff_t f : {0, 1, 2, 3, 4, 2}) {
        CAPTURE(f);
        REQUIRE(reader->read_frame(f, frame).ok());
        CHECK((frame == frames[static_cast<std::size_t>(f)]).all());
      }
      auto stack = smlm::io::read_tiff_stack<double>(path);
      REQUIRE(stack.has_value());
      CHECK(stack->frames() == images);
      CHECK((stack->frame(4) == frames[4].template cast<double>()).all());
    }
    SUBCASE("a file too short for all images is one page") {
      const std::vector<std::byte> partial(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(rest.size() * 5 / 8));
      const auto bytes = build_tiff(big_endian, {page}, partial);  // must outlive the reader
      auto reader = TiffReader::open_memory(bytes, "short.tif");
      REQUIRE(reader.has_value());
      CHECK_FALSE(reader->info().imagej_raw);
      CHECK(reader->frames() == 1);
      Image<S> frame;
      REQUIRE(reader->read_frame(0, frame).ok());
      CHECK((frame == frames[0]).all());
    }
    SUBCASE("images=N without the ImageJ= prefix, or with several IFDs, is not raw") {
      const raw_entry not_imagej{270, 2, {}, "Some camera\nimages=5\n"};
      const auto bytes = build_tiff(big_endian,
                                    {grey_page(width, height, bits, sample_format_of<S>(), sample_bytes(frames[0], big_endian), {not_imagej})},
                                    rest);
      auto reader = TiffReader::open_memory(bytes, "camera.tif");
      REQUIRE(reader.has_value());
      CHECK(reader->frames() == 1);
      const auto two = build_tiff(big_endian, {page, grey_page(width, height, bits, sample_format_of<S>(), sample_bytes(frames[1], big_endian), {description})}, rest);
      auto two_pages = TiffReader::open_memory(two, "two.tif");
      REQUIRE(two_pages.has_value());
      CHECK_FALSE(two_pages->info().imagej_raw);
      CHECK(two_pages->frames() == 2);
    }
  }
}

TEST_CASE("reading frame by frame keeps the heap flat") {
#if defined(SMLM_SANITIZED) || !defined(__GLIBC__)
  MESSAGE("skipped: sanitizers replace malloc, or this is not glibc");
#else
  const std::ptrdiff_t frames = 300, side = 128;
  const std::string path = tmp_path("streaming.tif");
  {
    auto writer = smlm::io::TiffWriter::create(path, pixel_type::u16, side, side, frames);
    REQUIRE(writer.has_value());
    Image<std::uint16_t> frame(side, side);
    for (std::ptrdiff_t f = 0; f < frames; ++f) {
      frame.setConstant(static_cast<std::uint16_t>(f));
      frame(5, 7) = static_cast<std::uint16_t>(1000 + f);
      REQUIRE(writer->write_frame(frame).ok());
    }
    REQUIRE(writer->close().ok());
  }
  auto reader = TiffReader::open(path);
  REQUIRE(reader.has_value());
  REQUIRE(reader->frames() == frames);
  Image<std::uint16_t> frame(side, side);
  for (std::ptrdiff_t f = 0; f < 10; ++f) REQUIRE(reader->read_frame(f, frame).ok());
  const std::size_t baseline = mallinfo2().uordblks;
  std::size_t peak = baseline;
  bool values_ok = true;
  for (std::ptrdiff_t f = 10; f < frames; ++f) {
    if (!reader->read_frame(f, frame).ok()) values_ok = false;
    values_ok = values_ok && frame(5, 7) == 1000 + f && frame(100, 100) == f;
    peak = std::max(peak, mallinfo2().uordblks);
  }
  CHECK(values_ok);
  const std::size_t frame_bytes = side * side * sizeof(std::uint16_t);
  CAPTURE(peak - baseline);
  CHECK(peak - baseline < 3 * frame_bytes);  // the file holds 300 frames' worth
#endif
}

TEST_CASE("bad input gives a clear error and keeps stderr quiet") {
  stderr_capture capture(tmp_path("stderr.txt"));

  SUBCASE("missing file, directory") {
    const std::string missing = tmp_path("does_not_exist.tif");
    auto reader = TiffReader::open(missing);
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::io_error);
    CHECK(contains(reader.message(), missing));
    auto directory = TiffReader::open(SMLM_TEST_TMP_DIR);
    REQUIRE_FALSE(directory.has_value());
    CHECK(directory.status().code() == errc::io_error);
    auto stack = smlm::io::read_tiff_stack<float>(missing);
    CHECK(stack.status().code() == errc::io_error);
  }
  SUBCASE("empty file, random bytes") {
    const std::string empty = tmp_path("empty.tif");
    write_file(empty, {});
    auto reader = TiffReader::open(empty);
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::format_error);
    CHECK(contains(reader.message(), empty));
    CHECK(contains(reader.message(), "empty"));

    std::mt19937 rng(12345);
    std::vector<std::byte> noise(4096);
    for (auto& b : noise) b = static_cast<std::byte>(rng() & 0xFF);
    for (const char* prefix : {"", "II*\0", "MM\0*", "II+\0"}) {
      CAPTURE(prefix);
      std::memcpy(noise.data(), prefix, prefix[0] ? 4 : 0);
      auto random = TiffReader::open_memory(noise, "noise.bin");
      REQUIRE_FALSE(random.has_value());
      CHECK(random.status().code() == errc::format_error);
      CHECK(contains(random.message(), "noise.bin"));
    }
  }
  SUBCASE("truncated at every length gives the complete pages, or an error naming the page") {
    std::vector<Image<std::uint16_t>> pages;
    for (int p = 0; p < 3; ++p) pages.push_back(pattern<std::uint16_t>(24, 32, p));
    const std::string path = tmp_path("truncate.tif");
    write_fixture(path, pages, {.name = "libtiff layout", .rows_per_strip = 8});
    const auto whole = read_file(path);
    // libtiff writes header, page 1 data, IFD 1, page 2 data, IFD 2, ...: a page is complete
    // once its IFD is, and a cut inside page 3's data also removes IFD 3.
    std::vector<std::size_t> directory_ends;
    TIFF* tiff = TIFFOpen(path.c_str(), "r");
    REQUIRE(tiff != nullptr);
    do {
      const auto at = static_cast<std::size_t>(TIFFCurrentDirOffset(tiff));
      const std::size_t entries = std::to_integer<std::size_t>(whole[at]) | std::to_integer<std::size_t>(whole[at + 1]) << 8;
      directory_ends.push_back(at + 2 + 12 * entries + 4);
    } while (TIFFReadDirectory(tiff) == 1);
    REQUIRE(TIFFSetDirectory(tiff, 2) == 1);
    const auto page3_data = static_cast<std::size_t>(TIFFGetStrileOffset(tiff, 1));
    TIFFClose(tiff);
    REQUIRE(directory_ends.size() == 3);

    int errors = 0, cut_short = 0;
    for (std::size_t cut = 0; cut <= whole.size(); cut += (cut < 64 ? 1 : 97)) {
      CAPTURE(cut);
      const auto complete = static_cast<std::size_t>(
          std::count_if(directory_ends.begin(), directory_ends.end(), [&](std::size_t end) { return end <= cut; }));
      std::vector<std::byte> bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
      std::vector<Image<double>> frames;
      auto reader = TiffReader::open_memory(bytes, "cut.tif");
      const smlm::Status status = open_and_read_all(bytes, "cut.tif", &frames);
      if (complete == 0) {
        ++errors;
        CHECK(status.code() == errc::format_error);
        CHECK(contains(status.message(), "cut.tif"));
        if (cut >= 8) CHECK(contains(status.message(), "page 1"));
      } else {
        REQUIRE_MESSAGE(status.ok(), status.message());
        REQUIRE(frames.size() == complete);
        REQUIRE(reader.has_value());
        CHECK(reader->info().truncated == (complete < 3));
        cut_short += complete < 3;
        for (std::size_t f = 0; f < complete; ++f) CHECK((frames[f] == pages[f].cast<double>()).all());
      }
    }
    CHECK(errors > 50);
    CHECK(cut_short > 20);
    const std::vector<std::byte> in_page3(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(page3_data + 100));
    auto two = TiffReader::open_memory(in_page3, "cut.tif");
    REQUIRE(two.has_value());
    CHECK(two->frames() == 2);
    CHECK(two->info().truncated);

    // Each IFD before its data (the builder's layout): IFD 3 survives, the page whose data were
    // cut is left out, whatever its StripByteCounts claims.
    std::vector<raw_page> raw;
    for (const auto& p : pages) raw.push_back(grey_page(32, 24, 16, 1, sample_bytes(p, false)));
    auto built = build_tiff(false, raw);
    built.resize(built.size() - 100);
    const std::string cut_path = tmp_path("truncate_data.tif");
    write_file(cut_path, built);
    auto reader = TiffReader::open(cut_path);
    REQUIRE_MESSAGE(reader.has_value(), reader.message());
    CHECK(reader->frames() == 2);
    CHECK(reader->info().truncated);
    Image<std::uint16_t> frame;
    CHECK(reader->read_frame(0, frame).ok());
    CHECK((frame == pages[0]).all());
    CHECK(reader->read_frame(1, frame).ok());
    CHECK((frame == pages[1]).all());
    const smlm::Status page3 = reader->read_frame(2, frame);
    CHECK(page3.code() == errc::out_of_range);
    CHECK(contains(page3.message(), cut_path + ": page 3 requested; the file has 2 pages"));
    CHECK((frame == pages[1]).all());  // untouched on error
    built.resize(1600);  // IFD 1 and most of page 1's data (1536 bytes from 134): no complete page
    write_file(cut_path, built);
    auto none = TiffReader::open(cut_path);
    REQUIRE_FALSE(none.has_value());
    CHECK(none.status().code() == errc::format_error);
    CHECK_MESSAGE(contains(none.message(), cut_path + ": page 1: its image data run past the end of the file"), none.message());
    // A header that points to no IFD (a writer that stopped before page 1 was linked in).
    std::vector<std::byte> header_only(whole.begin(), whole.begin() + 200);
    std::fill(header_only.begin() + 4, header_only.begin() + 8, std::byte{0});
    auto no_page = TiffReader::open_memory(header_only, "header.tif");
    REQUIRE_FALSE(no_page.has_value());
    CHECK(no_page.status().code() == errc::format_error);
    CHECK(contains(no_page.message(), "header.tif: no page"));
  }
  SUBCASE("pages of another size or type") {
    const std::string path = tmp_path("mixed.tif");
    write_file(path, build_tiff(true, {grey_page(8, 8, 16, 1, std::vector<std::byte>(128)),
                                       grey_page(8, 8, 16, 1, std::vector<std::byte>(128)),
                                       grey_page(8, 7, 16, 1, std::vector<std::byte>(112))}));
    auto reader = TiffReader::open(path);
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::format_error);
    CHECK(contains(reader.message(), path + ": page 3"));
    CHECK(contains(reader.message(), "8x7"));

    write_file(path, build_tiff(false, {grey_page(8, 8, 16, 1, std::vector<std::byte>(128)),
                                        grey_page(8, 8, 8, 1, std::vector<std::byte>(64))}));
    auto types = TiffReader::open(path);
    REQUIRE_FALSE(types.has_value());
    CHECK(types.status().code() == errc::format_error);
    CHECK(contains(types.message(), path + ": page 2"));
    CHECK(contains(types.message(), "uint8"));
  }
  SUBCASE("colour, 1-bit, 64-bit, 12-bit and unsupported codecs are unsupported") {
    struct unsupported_case {
      const char* name;
      raw_page page;
      const char* reason;
    };
    const std::vector<raw_entry> rgb = {{258, 3, {8, 8, 8}}, {262, 3, {2}}, {277, 3, {3}}, {339, 3, {1, 1, 1}}};
    const unsupported_case cases[] = {
        {"rgb.tif", grey_page(4, 4, 8, 1, std::vector<std::byte>(48), rgb), "3 samples per pixel"},
        {"one_bit.tif", grey_page(16, 4, 1, 1, std::vector<std::byte>(8)), "1-bit"},
        {"double.tif", grey_page(4, 4, 64, 3, std::vector<std::byte>(128)), "64-bit"},
        {"twelve_bit.tif", grey_page(4, 4, 12, 1, std::vector<std::byte>(24)), "12-bit"},
        {"jpeg.tif", grey_page(4, 4, 8, 1, std::vector<std::byte>(16), {{259, 3, {7}}}), "JPEG"},
        {"codec.tif", grey_page(4, 4, 8, 1, std::vector<std::byte>(16), {{259, 3, {12345}}}), "compression 12345"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const std::string path = tmp_path(c.name);
      write_file(path, build_tiff(false, {c.page}));
      auto reader = TiffReader::open(path);
      REQUIRE_FALSE(reader.has_value());
      CHECK(reader.status().code() == errc::unsupported);
      CHECK(contains(reader.message(), path + ": page 1"));
      CHECK(contains(reader.message(), c.reason));
    }
    // A colour page after greyscale ones is named by its page number.
    const std::string path = tmp_path("rgb_page2.tif");
    write_file(path, build_tiff(false, {grey_page(4, 4, 8, 1, std::vector<std::byte>(16)),
                                        grey_page(4, 4, 8, 1, std::vector<std::byte>(48), rgb)}));
    auto reader = TiffReader::open(path);
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::unsupported);
    CHECK(contains(reader.message(), path + ": page 2"));
  }
  SUBCASE("absurd dimensions are refused before anything is allocated") {
    const auto bytes = build_tiff(false, {grey_page(60000, 60000, 32, 1, std::vector<std::byte>(64))});
    auto reader = TiffReader::open_memory(bytes, "huge.tif");
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.status().code() == errc::format_error);
    CHECK(contains(reader.message(), "huge.tif: page 1"));
    CHECK(contains(reader.message(), "60000x60000"));

    // An LZW page of 2000 x 2000 bytes stored in 100: no codec expands that far, even though
    // the whole file (padded to 8 KiB) could.
    const auto padded = build_tiff(false, {grey_page(2000, 2000, 8, 1, std::vector<std::byte>(100), {{259, 3, {5}}})},
                                   std::vector<std::byte>(8192));
    auto lzw = TiffReader::open_memory(padded, "bomb.tif");
    REQUIRE_FALSE(lzw.has_value());
    CHECK(lzw.status().code() == errc::format_error);
    CHECK(contains(lzw.message(), "bomb.tif: page 1"));
    CHECK(contains(lzw.message(), "100 stored bytes can decode to"));
  }

  CHECK(capture.finish().empty());
}
