// Streaming writer for greyscale TIFF stacks (part of smlmkit::io).
//
// Writes baseline TIFF 6.0 that ImageJ, Fiji, Picasso, ThunderSTORM and libtiff read:
// little-endian ("II"), uncompressed, one strip per page, 8-bit or 16-bit unsigned or 32-bit
// float samples (SampleFormat 1 or 3), MinIsBlack, one IFD per frame.
//
// Layout (the one ImageJ's own TiffEncoder uses): a 16-byte header area, then the pixel data
// of all frames back to back, then page 1's ImageDescription, then the IFDs. Nothing per frame
// is kept in memory — frame k always starts at 16 + k × frame bytes — so the IFDs can be
// written at close() for any number of frames. Because the data are contiguous, the
// description "ImageJ=1.11a\nimages=N\nslices=N\n" is true and lets ImageJ open the stack from
// the first IFD alone. close() also chooses the container from the real size: classic TIFF
// when every offset fits in 32 bits (file ≤ 4 GiB − 1), BigTIFF otherwise (or as forced by
// tiff_container). Until close() has run the file is not a valid TIFF.
//
// Sample conversion to the file's type (detail::write_convert): integer targets take floating
// values rounded to nearest with halves away from zero, then clamped to the type's range
// (u8: 0…255, u16: 0…65535; ±inf clamp, NaN is written as 0); integer values are clamped;
// float targets take static_cast<float>.
#pragma once

#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <smlm/io/detail/tiff_common.hpp>

namespace smlm::io {

/// Classic TIFF or BigTIFF; `automatic` picks classic whenever the file fits in 4 GiB.
enum class tiff_container { automatic, classic, bigtiff };

namespace detail {

/// Bytes before the first frame: room for either header (classic 8, BigTIFF 16).
inline constexpr std::uint64_t tiff_data_offset = 16;
/// Largest file whose offsets all fit classic TIFF's 32-bit fields.
inline constexpr std::uint64_t tiff_classic_max_bytes = 0xFFFFFFFFu;

/// The bytes of a TIFF with `frames` pages of `frame_bytes` laid out as TiffWriter does, in the
/// classic (bigtiff false) or BigTIFF container, with a description of `description_bytes`
/// (including its NUL).
constexpr std::uint64_t tiff_writer_file_bytes(std::uint64_t frames, std::uint64_t frame_bytes,
                                               std::uint64_t description_bytes, bool bigtiff) noexcept {
  const std::uint64_t entries = 12;  // the first IFD has one more, the description
  const std::uint64_t ifd_bytes = bigtiff ? 8 + 20 * entries + 8 : 2 + 12 * entries + 4;
  const std::uint64_t entry_bytes = bigtiff ? 20 : 12;
  std::uint64_t end = tiff_data_offset + frames * frame_bytes;
  end += end & 1;  // word alignment (TIFF 6.0 §2: offsets are even)
  end += description_bytes;
  end += end & 1;
  if (bigtiff) end = (end + 7) & ~std::uint64_t{7};
  return end + frames * ifd_bytes + entry_bytes;
}

/// Whether a file of `file_bytes` needs BigTIFF.
constexpr bool tiff_needs_bigtiff(std::uint64_t file_bytes) noexcept { return file_bytes > tiff_classic_max_bytes; }

/// Little-endian serialisation into a byte buffer.
inline void put_le(std::vector<std::byte>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
}

struct file_closer {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

}  // namespace detail

class TiffWriter {
 public:
  /// Creates (or truncates) `path` for `width × height` frames of `type` (u8, u16 or f32; other
  /// types are invalid_argument). `expected_frames` (0: unknown) is a hint, checked for size
  /// overflow up front; the container is chosen at close() from the frames actually written.
  static Expected<TiffWriter> create(const std::string& path, pixel_type type, std::ptrdiff_t width,
                                     std::ptrdiff_t height, std::ptrdiff_t expected_frames = 0,
                                     tiff_container container = tiff_container::automatic) {
    if (type != pixel_type::u8 && type != pixel_type::u16 && type != pixel_type::f32)
      return make_error(errc::invalid_argument, path, ": cannot write ", pixel_type_name(type),
                        " samples; the writer takes uint8, uint16 or float32");
    constexpr std::ptrdiff_t max_side = std::numeric_limits<std::uint32_t>::max();
    if (width < 1 || height < 1 || width > max_side || height > max_side)
      return make_error(errc::invalid_argument, path, ": frame size ", width, "x", height,
                        " is outside 1..4294967295 pixels per side");
    if (expected_frames < 0)
      return make_error(errc::invalid_argument, path, ": expected_frames ", expected_frames, " is negative");
    constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 2;
    std::uint64_t pixels = 0, frame_bytes = 0, total = 0;
    if (!detail::checked_multiply(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), limit, pixels) ||
        !detail::checked_multiply(pixels, pixel_bytes(type), limit, frame_bytes) ||
        !detail::checked_multiply(frame_bytes, static_cast<std::uint64_t>(expected_frames), limit, total))
      return make_error(errc::out_of_range, path, ": ", expected_frames, " frames of ", width, "x", height, " ",
                        pixel_type_name(type), " exceed the largest file we can address");
    errno = 0;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return make_error(errc::io_error, path, ": cannot create: ", detail::errno_text(errno));
    TiffWriter writer;
    writer.state_.file.reset(file);
    writer.state_.path = path;
    writer.state_.type = type;
    writer.state_.width = width;
    writer.state_.height = height;
    writer.state_.frame_bytes = frame_bytes;
    writer.state_.container = container;
    const std::byte zeros[detail::tiff_data_offset] = {};
    if (std::fwrite(zeros, 1, sizeof zeros, file) != sizeof zeros)
      return make_error(errc::io_error, path, ": write failed: ", detail::errno_text(errno));
    return writer;
  }

  TiffWriter(TiffWriter&&) noexcept = default;
  /// Closes the file this writer had open first (errors there are lost, as in the destructor).
  TiffWriter& operator=(TiffWriter&& other) noexcept {
    if (this != &other) {
      (void)close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  TiffWriter(const TiffWriter&) = delete;
  TiffWriter& operator=(const TiffWriter&) = delete;
  /// Calls close(); its errors are lost here, so call close() yourself to see them.
  ~TiffWriter() { (void)close(); }

  const std::string& path() const noexcept { return state_.path; }
  pixel_type type() const noexcept { return state_.type; }
  std::ptrdiff_t width() const noexcept { return state_.width; }
  std::ptrdiff_t height() const noexcept { return state_.height; }
  std::ptrdiff_t frames_written() const noexcept { return state_.frames; }

  /// Appends one frame (height() × width(), any row stride), converted to the file's type as the
  /// file comment says. After an error every later call returns that error.
  template <class T>
  Status write_frame(ConstImageView<T> frame) {
    static_assert(detail::is_sample_v<T>, "write_frame<T>: T must be an arithmetic type other than bool");
    state& s = state_;
    if (!s.failure.ok()) return s.failure;
    if (!s.file) return make_error(errc::invalid_argument, s.path, ": write_frame after close()");
    const std::ptrdiff_t page = s.frames + 1;
    if (frame.rows() != s.height || frame.cols() != s.width)
      return make_error(errc::invalid_argument, s.path, ": page ", page, ": frame is ", frame.cols(), "x", frame.rows(),
                        ", the stack is ", s.width, "x", s.height);
    if (s.buffer.size() != s.frame_bytes) {
#if !defined(SMLM_NO_EXCEPTIONS)
      try {
        s.buffer.resize(s.frame_bytes);
      } catch (const std::bad_alloc&) {
        return fail(make_error(errc::out_of_range, s.path, ": cannot allocate ", s.frame_bytes, " bytes for one frame"));
      }
#else
      s.buffer.resize(s.frame_bytes);
#endif
    }
    detail::visit_pixel_type(s.type, [&](auto tag) {
      using D = typename decltype(tag)::type;
      std::byte* out = s.buffer.data();
      for (std::ptrdiff_t y = 0; y < s.height; ++y) {
        const T* row = frame.data() + y * frame.outerStride();
        for (std::ptrdiff_t x = 0; x < s.width; ++x, out += sizeof(D)) {
          const D value = detail::write_convert<D>(row[x]);
          std::memcpy(out, &value, sizeof(D));
        }
      }
      if constexpr (std::endian::native == std::endian::big)
        detail::swap_bytes_in_place(s.buffer.data(), s.buffer.size() / sizeof(D), sizeof(D));
    });
    errno = 0;
    if (std::fwrite(s.buffer.data(), 1, s.buffer.size(), s.file.get()) != s.buffer.size())
      return fail(make_error(errc::io_error, s.path, ": page ", page, ": write failed: ", detail::errno_text(errno)));
    ++s.frames;
    return {};
  }
  template <class T>
  Status write_frame(ImageView<T> frame) {
    return write_frame(ConstImageView<T>(frame.data(), frame.rows(), frame.cols(), Eigen::OuterStride<>(frame.outerStride())));
  }
  template <class T>
  Status write_frame(const Image<T>& frame) {
    return write_frame(make_view(frame));
  }

  /// Writes the description and IFDs, the header, and closes the file. A writer that wrote no
  /// frame removes its file and returns invalid_argument (a TIFF needs a page); after a failed
  /// write the file is left as it is, which is not a valid TIFF. Calling close() again returns
  /// the first result.
  Status close() {
    state& s = state_;
    if (!s.file) return s.failure;
    if (!s.failure.ok()) {
      s.file.reset();
      return s.failure;
    }
    if (s.frames == 0) {
      s.file.reset();
      std::remove(s.path.c_str());
      s.failure = make_error(errc::invalid_argument, s.path, ": no frames were written; a TIFF needs at least one page");
      return s.failure;
    }
    Status status = finish();
    errno = 0;
    if (std::fclose(s.file.release()) != 0 && status.ok())
      status = make_error(errc::io_error, s.path, ": closing failed: ", detail::errno_text(errno));
    if (!status.ok()) s.failure = status;
    return status;
  }

 private:
  struct state {
    std::unique_ptr<std::FILE, detail::file_closer> file;
    std::string path;
    pixel_type type = pixel_type::u16;
    std::ptrdiff_t width = 0, height = 0, frames = 0;
    std::uint64_t frame_bytes = 0;
    tiff_container container = tiff_container::automatic;
    std::vector<std::byte> buffer;  ///< one frame in the file's type and byte order
    Status failure;                 ///< sticky: the first error
  };

  TiffWriter() = default;

  Status fail(Status status) {
    state_.failure = status;
    return status;
  }

  std::string description() const {
    const std::ptrdiff_t n = state_.frames;
    if (n > 1) return str_cat("ImageJ=1.11a\nimages=", n, "\nslices=", n, "\n");
    return "ImageJ=1.11a\n";
  }

  Status finish() {
    state& s = state_;
    std::FILE* file = s.file.get();
    const auto frames = static_cast<std::uint64_t>(s.frames);
    const std::string text = description();
    const std::uint64_t text_bytes = text.size() + 1;
    const bool bigtiff =
        s.container == tiff_container::bigtiff ||
        (s.container == tiff_container::automatic &&
         detail::tiff_needs_bigtiff(detail::tiff_writer_file_bytes(frames, s.frame_bytes, text_bytes, false)));
    if (!bigtiff && detail::tiff_needs_bigtiff(detail::tiff_writer_file_bytes(frames, s.frame_bytes, text_bytes, false)))
      return make_error(errc::out_of_range, s.path, ": ", frames, " frames need more than 4 GiB; classic TIFF cannot hold them");

    const int offset_bytes = bigtiff ? 8 : 4;
    const int entry_bytes = bigtiff ? 20 : 12;
    std::vector<std::byte> bytes;
    std::uint64_t position = detail::tiff_data_offset + frames * s.frame_bytes;
    auto pad_to = [&](std::uint64_t alignment) {
      while (position % alignment != 0) {
        bytes.push_back(std::byte{0});
        ++position;
      }
    };
    pad_to(2);
    const std::uint64_t text_offset = position;
    for (char c : text) bytes.push_back(static_cast<std::byte>(c));
    bytes.push_back(std::byte{0});
    position += text_bytes;
    pad_to(bigtiff ? 8 : 2);
    errno = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size())
      return make_error(errc::io_error, s.path, ": write failed: ", detail::errno_text(errno));

    const std::uint64_t first_ifd = position;
    const std::uint16_t bits = static_cast<std::uint16_t>(8 * pixel_bytes(s.type));
    const std::uint16_t sample_format = s.type == pixel_type::f32 ? 3 : 1;
    constexpr std::uint16_t short_type = 3, long_type = 4, ascii_type = 2, long8_type = 16;
    const std::uint16_t offset_type = bigtiff ? long8_type : long_type;
    for (std::uint64_t k = 0; k < frames; ++k) {
      bytes.clear();
      const bool first = k == 0;
      const std::uint64_t entries = first ? 13 : 12;
      const std::uint64_t ifd_bytes = (bigtiff ? 8 : 2) + entries * static_cast<std::uint64_t>(entry_bytes) + offset_bytes;
      detail::put_le(bytes, entries, bigtiff ? 8 : 2);
      // Entries in ascending tag order (TIFF 6.0 §2); values fit in the entry.
      auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint64_t count, std::uint64_t value) {
        detail::put_le(bytes, tag, 2);
        detail::put_le(bytes, type, 2);
        detail::put_le(bytes, count, offset_bytes);
        const int value_bytes = type == short_type ? 2 : type == long_type ? 4 : offset_bytes;
        detail::put_le(bytes, value, value_bytes);
        for (int i = value_bytes; i < offset_bytes; ++i) bytes.push_back(std::byte{0});
      };
      entry(254, long_type, 1, 0);                                   // NewSubfileType: full image
      entry(256, long_type, 1, static_cast<std::uint64_t>(s.width));  // ImageWidth
      entry(257, long_type, 1, static_cast<std::uint64_t>(s.height)); // ImageLength
      entry(258, short_type, 1, bits);                                // BitsPerSample
      entry(259, short_type, 1, 1);                                   // Compression: none
      entry(262, short_type, 1, 1);                                   // PhotometricInterpretation: MinIsBlack
      if (first) entry(270, ascii_type, text_bytes, text_offset);     // ImageDescription
      entry(273, offset_type, 1, detail::tiff_data_offset + k * s.frame_bytes);  // StripOffsets
      entry(277, short_type, 1, 1);                                   // SamplesPerPixel
      entry(278, long_type, 1, static_cast<std::uint64_t>(s.height)); // RowsPerStrip: one strip
      entry(279, offset_type, 1, s.frame_bytes);                      // StripByteCounts
      entry(284, short_type, 1, 1);                                   // PlanarConfiguration: contiguous
      entry(339, short_type, 1, sample_format);                       // SampleFormat
      position += ifd_bytes;
      detail::put_le(bytes, k + 1 < frames ? position : 0, offset_bytes);  // next IFD
      if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size())
        return make_error(errc::io_error, s.path, ": page ", k + 1, ": writing the directory failed: ",
                          detail::errno_text(errno));
    }

    bytes.clear();
    bytes.push_back(std::byte{'I'});
    bytes.push_back(std::byte{'I'});
    if (bigtiff) {
      detail::put_le(bytes, 43, 2);
      detail::put_le(bytes, 8, 2);  // bytes per offset
      detail::put_le(bytes, 0, 2);
      detail::put_le(bytes, first_ifd, 8);
    } else {
      detail::put_le(bytes, 42, 2);
      detail::put_le(bytes, first_ifd, 4);
    }
    if (detail::file_seek(file, 0, SEEK_SET) != 0 || std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
        std::fflush(file) != 0 || std::ferror(file))
      return make_error(errc::io_error, s.path, ": writing the header failed: ", detail::errno_text(errno));
    return {};
  }

  state state_;
};

/// Writes `stack` to `path` as `type` (u8, u16 or f32), converting as TiffWriter does.
template <class T>
Status write_tiff_stack(const std::string& path, const Stack<T>& stack, pixel_type type) {
  if (stack.frames() == 0) return make_error(errc::invalid_argument, path, ": the stack is empty; a TIFF needs a page");
  auto writer = TiffWriter::create(path, type, stack.width(), stack.height(), stack.frames());
  if (!writer) return writer.status();
  for (std::ptrdiff_t f = 0; f < stack.frames(); ++f) SMLM_TRY(writer->write_frame(stack.frame(f)));
  return writer->close();
}

}  // namespace smlm::io
