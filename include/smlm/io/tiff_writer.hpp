// Streaming writer for greyscale TIFF stacks (part of smlmkit::io).
//
// Writes baseline TIFF 6.0 that ImageJ, Fiji, Picasso, ThunderSTORM and libtiff read:
// little-endian ("II"), uncompressed, one strip per page, 8-bit or 16-bit unsigned or 32-bit
// float samples (SampleFormat 1 or 3), MinIsBlack, one IFD per frame, page 1's IFD with an
// ImageJ ImageDescription.
//
// Crash safety: every page's IFD is written with the page. write_frame() hands the OS the
// frame's data and its IFD first, then the link to that IFD (the header's first-IFD offset for
// page 1, the previous IFD's next-IFD offset otherwise), flushing the C stream before and after
// the link. So whenever a process writing a stack dies (killed, out of memory, a crash), the
// file it leaves is a valid TIFF holding every page whose write_frame() had returned, which
// libtiff and TiffReader read as such; bytes of a half-written page lie beyond the IFD chain.
// (Durability across a power cut or a kernel crash is not attempted: there is no fsync.)
//
// Layout: a 16-byte header area (room for the classic 8-byte or the BigTIFF 16-byte header),
// a 72-byte slot for page 1's ImageDescription, then
// - `expected_frames` IFDs reserved back to back (page 1's has one more entry, the
//   description), followed by the frames' data back to back: frame k (0-based) starts at
//   tiff_writer_data_offset + k × frame bytes; the reserved IFDs are filled in as the frames
//   arrive, and the space of those never used stays zero;
// - each frame beyond `expected_frames` (all of them when it is 0) at the end of the file,
//   followed by its IFD at the next even offset (8-aligned in BigTIFF).
// The description is "ImageJ=1.11a\n" while the file is written. ImageJ reads
// "images=N" as "N images stored back to back after page 1's", and then ignores every other IFD,
// so close() says "ImageJ=1.11a\nimages=N\nslices=N\n" only when that is true: N > 1 frames, all
// within the reserved directories (the frames' data contiguous). The patch is two small
// writes (the ASCII count in page 1's IFD, then the text); a file cut between them is still
// read as the plain description. A file with reserved IFDs that is cut after close() (an
// interrupted copy) keeps IFDs whose data are gone, and may claim more images than it holds;
// TiffReader reads the pages whose data are complete (see tiff_reader.hpp).
//
// Container: classic TIFF when every offset fits in 32 bits (a file of at most 4 GiB − 1),
// BigTIFF otherwise, chosen at create() since the IFDs are written as the file grows:
// `automatic` takes BigTIFF when `expected_frames` frames (or one, when it is 0) would pass
// 4 GiB in a classic file. A classic file that would pass 4 GiB all the same (more frames than
// expected) makes write_frame() fail with out_of_range; the pages before stay readable.
//
// Sample conversion to the file's type (detail::write_convert): integer targets take floating
// values rounded to nearest with halves away from zero, then clamped to the type's range
// (u8: 0…255, u16: 0…65535; ±inf clamp, NaN is written as 0); integer values are clamped;
// float targets take static_cast<float>.
#pragma once

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

/// Bytes before the description slot: room for either header (classic 8, BigTIFF 16).
inline constexpr std::uint64_t tiff_header_bytes = 16;
/// The description slot: the longest text close() writes,
/// "ImageJ=1.11a\nimages=<19 digits>\nslices=<19 digits>\n", is 67 bytes and its NUL.
inline constexpr std::uint64_t tiff_description_bytes = 72;
/// Largest file whose offsets all fit classic TIFF's 32-bit fields.
inline constexpr std::uint64_t tiff_classic_max_bytes = 0xFFFFFFFFu;
/// Entries of every IFD but page 1's, which also has the ImageDescription.
inline constexpr std::uint64_t tiff_writer_entries = 12;

/// `offset` rounded up to where the writer puts an IFD: even (TIFF 6.0 §2), 8-aligned in BigTIFF.
constexpr std::uint64_t tiff_align(std::uint64_t offset, bool bigtiff) noexcept {
  const std::uint64_t mask = bigtiff ? 7 : 1;
  return (offset + mask) & ~mask;
}

/// Bytes an IFD of `entries` entries takes in the file, padded to tiff_align.
constexpr std::uint64_t tiff_directory_bytes(std::uint64_t entries, bool bigtiff) noexcept {
  return tiff_align(bigtiff ? 8 + 20 * entries + 8 : 2 + 12 * entries + 4, bigtiff);
}

/// Where page `index`'s IFD goes when it is one of the reserved ones.
constexpr std::uint64_t tiff_reserved_directory_offset(std::uint64_t index, bool bigtiff) noexcept {
  const std::uint64_t first = tiff_header_bytes + tiff_description_bytes;
  return index == 0 ? first
                    : first + tiff_directory_bytes(tiff_writer_entries + 1, bigtiff) +
                          (index - 1) * tiff_directory_bytes(tiff_writer_entries, bigtiff);
}

/// Where frame 0's data start when `reserved` IFDs precede the data.
constexpr std::uint64_t tiff_writer_data_offset(std::uint64_t reserved, bool bigtiff) noexcept {
  return tiff_reserved_directory_offset(reserved, bigtiff);
}

/// The size of a TIFF with `frames` pages of `frame_bytes` written by TiffWriter with
/// `reserved` IFDs in front of the data (its expected_frames), classic (bigtiff false) or BigTIFF.
constexpr std::uint64_t tiff_writer_file_bytes(std::uint64_t frames, std::uint64_t frame_bytes, std::uint64_t reserved,
                                               bool bigtiff) noexcept {
  const std::uint64_t in_front = frames < reserved ? frames : reserved;
  std::uint64_t end = tiff_writer_data_offset(reserved, bigtiff) + in_front * frame_bytes;
  if (frames == in_front) return end;
  // The first page after the reserved ones may start unaligned; every later one starts aligned.
  end = tiff_align(end + frame_bytes, bigtiff) + tiff_directory_bytes(tiff_writer_entries + (reserved == 0), bigtiff);
  return end + (frames - in_front - 1) *
                   (tiff_align(frame_bytes, bigtiff) + tiff_directory_bytes(tiff_writer_entries, bigtiff));
}

/// Whether a file of `file_bytes` needs BigTIFF.
constexpr bool tiff_needs_bigtiff(std::uint64_t file_bytes) noexcept { return file_bytes > tiff_classic_max_bytes; }

/// Little-endian serialisation of the low `bytes` bytes of `value` at `out`.
inline void put_le(std::byte* out, std::uint64_t value, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}

struct file_closer {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

}  // namespace detail

class TiffWriter {
 public:
  /// Creates (or truncates) `path` for `width × height` frames of `type` (u8, u16 or f32; other
  /// types are invalid_argument). `expected_frames` (0: unknown) reserves that many IFDs in front
  /// of the data, which keeps the data of that many frames back to back (ImageJ's "images=N"),
  /// and with tiff_container::automatic decides between classic TIFF and BigTIFF; more frames
  /// may be written (see the file comment). A reserved IFD that is never used costs 150 bytes
  /// of zeros (256 in BigTIFF).
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
    const auto reserved = static_cast<std::uint64_t>(expected_frames);
    std::uint64_t pixels = 0, frame_bytes = 0, total = 0;
    // A page's share of the file, IFD included, is below frame bytes + 512.
    if (!detail::checked_multiply(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), max_file_bytes, pixels) ||
        !detail::checked_multiply(pixels, pixel_bytes(type), max_file_bytes, frame_bytes) ||
        !detail::checked_multiply(frame_bytes + 512, reserved, max_file_bytes, total))
      return make_error(errc::out_of_range, path, ": ", expected_frames, " frames of ", width, "x", height, " ",
                        pixel_type_name(type), " exceed the largest file we can address");
    const bool too_big_for_classic = detail::tiff_needs_bigtiff(
        detail::tiff_writer_file_bytes(reserved > 0 ? reserved : 1, frame_bytes, reserved, false));
    if (container == tiff_container::classic && too_big_for_classic)
      return make_error(errc::out_of_range, path, ": ", std::max<std::ptrdiff_t>(expected_frames, 1), " frames of ",
                        width, "x", height, " ", pixel_type_name(type),
                        " need more than 4 GiB; classic TIFF cannot hold them");
    const bool bigtiff =
        container == tiff_container::bigtiff || (container == tiff_container::automatic && too_big_for_classic);

    errno = 0;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return make_error(errc::io_error, path, ": cannot create: ", detail::errno_text(errno));
    TiffWriter writer;
    state& s = writer.state_;
    s.file.reset(file);
    s.path = path;
    s.type = type;
    s.width = width;
    s.height = height;
    s.frame_bytes = frame_bytes;
    s.bigtiff = bigtiff;
    s.reserved = reserved;
    s.end = detail::tiff_writer_data_offset(reserved, bigtiff);
    s.link_at = bigtiff ? 8 : 4;
    // Header with no IFD yet (page 1 links itself in), then the description slot. Buffered:
    // nothing reaches the file before page 1 does.
    std::byte start[detail::tiff_header_bytes + detail::tiff_description_bytes] = {};
    start[0] = start[1] = std::byte{'I'};
    detail::put_le(start + 2, bigtiff ? 43 : 42, 2);
    if (bigtiff) detail::put_le(start + 4, 8, 2);  // bytes per offset
    const std::string text = writer.description();
    std::memcpy(start + detail::tiff_header_bytes, text.data(), text.size());
    if (std::fwrite(start, 1, sizeof start, file) != sizeof start)
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
  /// Whether the file is BigTIFF (decided by create()).
  bool bigtiff() const noexcept { return state_.bigtiff; }

  /// Appends one frame (height() × width(), any row stride), converted to the file's type as the
  /// file comment says, and its IFD: once this returns ok, the file on disk is a TIFF that holds
  /// this page, whatever happens to the process afterwards. After an error every later call
  /// returns that error, and the file keeps the pages written before it.
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

    const auto index = static_cast<std::uint64_t>(s.frames);
    const std::uint64_t entries = detail::tiff_writer_entries + (index == 0);
    const bool reserved = index < s.reserved;
    const std::uint64_t data_at = s.end;
    if (s.frame_bytes + 512 > max_file_bytes - data_at)
      return fail(make_error(errc::out_of_range, s.path, ": page ", page, ": the file would exceed the largest we can address"));
    const std::uint64_t directory_at = reserved ? detail::tiff_reserved_directory_offset(index, s.bigtiff)
                                                : detail::tiff_align(data_at + s.frame_bytes, s.bigtiff);
    const std::uint64_t end =
        reserved ? data_at + s.frame_bytes : directory_at + detail::tiff_directory_bytes(entries, s.bigtiff);
    if (!s.bigtiff && detail::tiff_needs_bigtiff(end))
      return fail(make_error(errc::out_of_range, s.path, ": page ", page,
                             ": the file would pass 4 GiB, which classic TIFF cannot address; pass the frame count "
                             "as expected_frames to TiffWriter::create, or ask for tiff_container::bigtiff"));

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

    std::byte directory[detail::tiff_directory_bytes(detail::tiff_writer_entries + 1, true)] = {};
    const std::size_t directory_bytes = build_directory(directory, index, data_at);
    std::byte link[8] = {};
    const int offset_bytes = s.bigtiff ? 8 : 4;
    detail::put_le(link, directory_at, offset_bytes);
    // Data and IFD reach the OS before the link that makes them part of the file.
    errno = 0;
    if (!write_at(data_at, s.buffer.data(), s.buffer.size()) || !write_at(directory_at, directory, directory_bytes) ||
        std::fflush(s.file.get()) != 0)
      return fail(make_error(errc::io_error, s.path, ": page ", page, ": write failed: ", detail::errno_text(errno)));
    if (!write_at(s.link_at, link, static_cast<std::size_t>(offset_bytes)) || std::fflush(s.file.get()) != 0)
      return fail(make_error(errc::io_error, s.path, ": page ", page, ": linking its directory failed: ",
                             detail::errno_text(errno)));
    if (index == 0) s.first_directory = directory_at;
    s.link_at = directory_at + (s.bigtiff ? 8 : 2) + entries * (s.bigtiff ? 20 : 12);
    s.end = end;
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

  /// Writes the final description (see the file comment) and closes the file. A writer that
  /// wrote no frame removes its file and returns invalid_argument (a TIFF needs a page); after a
  /// failed write the file keeps the pages written before the failure. Calling close() again
  /// returns the first result.
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
    Status status;
    errno = 0;
    if (s.frames > 1 && static_cast<std::uint64_t>(s.frames) <= s.reserved) {
      const std::string text = description();
      const int offset_bytes = s.bigtiff ? 8 : 4;
      // The ASCII count of page 1's ImageDescription (its 7th entry), then the text it counts.
      const std::uint64_t count_at = s.first_directory + (s.bigtiff ? 8 : 2) + 6 * (s.bigtiff ? 20 : 12) + 4;
      std::byte count[8] = {};
      detail::put_le(count, text.size() + 1, offset_bytes);
      if (!write_at(count_at, count, static_cast<std::size_t>(offset_bytes)) || std::fflush(s.file.get()) != 0 ||
          !write_at(detail::tiff_header_bytes, text.c_str(), text.size() + 1))
        status = make_error(errc::io_error, s.path, ": writing the description failed: ", detail::errno_text(errno));
    }
    if (std::fclose(s.file.release()) != 0 && status.ok())
      status = make_error(errc::io_error, s.path, ": closing failed: ", detail::errno_text(errno));
    if (!status.ok()) s.failure = status;
    return status;
  }

 private:
  /// Largest file size the writer plans for: offsets stay far from std::int64_t's limit.
  static constexpr std::uint64_t max_file_bytes = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 2;

  struct state {
    std::unique_ptr<std::FILE, detail::file_closer> file;
    std::string path;
    pixel_type type = pixel_type::u16;
    std::ptrdiff_t width = 0, height = 0, frames = 0;
    std::uint64_t frame_bytes = 0;
    bool bigtiff = false;
    std::uint64_t reserved = 0;         ///< IFDs reserved in front of the data (expected_frames)
    std::uint64_t end = 0;              ///< where the next frame's data go
    std::uint64_t link_at = 0;          ///< the offset field that the next IFD's offset goes into
    std::uint64_t first_directory = 0;  ///< page 1's IFD
    std::vector<std::byte> buffer;      ///< one frame in the file's type and byte order
    Status failure;                     ///< sticky: the first error
  };

  TiffWriter() = default;

  Status fail(Status status) {
    state_.failure = status;
    return status;
  }

  /// The ImageJ description for the frames written so far (see the file comment for when a
  /// file with several gets "images=N").
  std::string description() const {
    const std::ptrdiff_t n = state_.frames;
    if (n > 1) return str_cat("ImageJ=1.11a\nimages=", n, "\nslices=", n, "\n");
    return "ImageJ=1.11a\n";
  }

  bool write_at(std::uint64_t offset, const void* bytes, std::size_t count) {
    std::FILE* file = state_.file.get();
    return detail::file_seek(file, static_cast<std::int64_t>(offset), SEEK_SET) == 0 &&
           std::fwrite(bytes, 1, count, file) == count;
  }

  /// Page `index`'s IFD, with its data at `data_at`, into `out`; returns its size in the file.
  std::size_t build_directory(std::byte* out, std::uint64_t index, std::uint64_t data_at) const {
    const state& s = state_;
    const bool first = index == 0;
    const std::uint64_t entries = detail::tiff_writer_entries + first;
    const int offset_bytes = s.bigtiff ? 8 : 4;
    const std::uint16_t bits = static_cast<std::uint16_t>(8 * pixel_bytes(s.type));
    const std::uint16_t sample_format = s.type == pixel_type::f32 ? 3 : 1;
    constexpr std::uint16_t short_type = 3, long_type = 4, ascii_type = 2, long8_type = 16;
    const std::uint16_t offset_type = s.bigtiff ? long8_type : long_type;
    std::byte* p = out;
    detail::put_le(p, entries, s.bigtiff ? 8 : 2);
    p += s.bigtiff ? 8 : 2;
    // Entries in ascending tag order (TIFF 6.0 §2); every value fits in its entry, left-justified.
    auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint64_t count, std::uint64_t value) {
      detail::put_le(p, tag, 2);
      detail::put_le(p + 2, type, 2);
      detail::put_le(p + 4, count, offset_bytes);
      detail::put_le(p + 4 + offset_bytes, value, type == short_type ? 2 : type == long_type ? 4 : offset_bytes);
      p += 4 + 2 * offset_bytes;
    };
    const std::uint64_t text_bytes = description().size() + 1;
    entry(254, long_type, 1, 0);                                   // NewSubfileType: full image
    entry(256, long_type, 1, static_cast<std::uint64_t>(s.width));  // ImageWidth
    entry(257, long_type, 1, static_cast<std::uint64_t>(s.height)); // ImageLength
    entry(258, short_type, 1, bits);                                // BitsPerSample
    entry(259, short_type, 1, 1);                                   // Compression: none
    entry(262, short_type, 1, 1);                                   // PhotometricInterpretation: MinIsBlack
    if (first) entry(270, ascii_type, text_bytes, detail::tiff_header_bytes);  // ImageDescription
    entry(273, offset_type, 1, data_at);                            // StripOffsets
    entry(277, short_type, 1, 1);                                   // SamplesPerPixel
    entry(278, long_type, 1, static_cast<std::uint64_t>(s.height)); // RowsPerStrip: one strip
    entry(279, offset_type, 1, s.frame_bytes);                      // StripByteCounts
    entry(284, short_type, 1, 1);                                   // PlanarConfiguration: contiguous
    entry(339, short_type, 1, sample_format);                       // SampleFormat
    // The next-IFD offset stays 0 until a later page links itself in.
    return static_cast<std::size_t>(detail::tiff_directory_bytes(entries, s.bigtiff));
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
