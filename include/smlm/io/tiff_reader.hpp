// Streaming reader for greyscale TIFF stacks (part of smlmkit::io; needs libtiff ≥ 4.5).
//
// Reads: 8/16/32-bit unsigned and signed integer and 32-bit float samples (TIFF 6.0 §19
// SampleFormat), one sample per pixel (PhotometricInterpretation MinIsBlack/MinIsWhite, or a
// palette page whose indices are returned as values, as ImageJ keeps its LUT apart from the
// data), either byte order, classic TIFF and BigTIFF, strips or tiles, uncompressed or with the
// libtiff decoders for LZW, Deflate and PackBits (any Predictor). Anything else — colour,
// 1/4/12/64-bit samples, other codecs — is errc::unsupported.
//
// Pages are the main IFD chain; every page must have the width, height and sample type of
// page 1 (format_error otherwise, checked for all pages when the file is opened). ImageJ's
// stacks above 4 GB are one IFD whose ImageDescription begins "ImageJ=" and says "images=N",
// with the other N−1 images stored right after the first (ImageJ's FileSaver writes them this
// way because classic TIFF offsets stop at 4 GiB). Such a file is read as N frames when it has
// exactly one IFD, N > 1, the first image is uncompressed, stored in rows as one contiguous run
// of strips, and the file holds all N images; otherwise it is read as the single page it is.
//
// Truncated files (a writer killed mid-stack, an interrupted copy) read as the pages they hold
// complete: the IFD chain is followed until an IFD that lies wholly or partly beyond the end of
// the file, or a page whose strips or tiles do; the pages before it are the stack, and
// TiffInfo::truncated says that the file announces more. A file whose first page is not
// complete is an error (format_error: no IFD, or page 1's IFD or data cut off). A chain that is
// broken inside the file (a damaged IFD) is an error as before, naming the page. TiffWriter's
// files are laid out so that a writer that dies leaves such a file, with every page that was
// written (tiff_writer.hpp); a file cut after it was closed may also hold IFDs in front of
// data that were cut off, and ImageJ's "images=N" may then claim more images than the chain
// holds: the complete pages are read all the same.
//
// Memory: the reader keeps one frame of stored samples and one tile, plus 8 bytes per page for
// the page's IFD offset; it never holds more than that, so a movie of any length streams.
// Nothing reaches stderr: libtiff's errors and warnings are captured per file through
// TIFFOpenOptions (libtiff 4.5) and errors come back as a Status naming the file, the page
// (1-based) and the reason. Size checks run before any allocation: a page must fit in 2^63
// bytes and, uncompressed, inside the file; compressed, within 2048× the bytes its strips or
// tiles occupy (Deflate expands at most 1032:1, LZW about 1365:1, PackBits 64:1).
//
// A TiffReader is movable, not copyable, and not safe to use from two threads at once.
#pragma once

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <tiffio.h>

#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <smlm/io/detail/tiff_common.hpp>

namespace smlm::io {

/// What a stack holds. `frames` counts pages, or ImageJ raw images (then imagej_raw is set).
struct TiffInfo {
  std::ptrdiff_t width = 0, height = 0, frames = 0;
  pixel_type type = pixel_type::u16;
  bool big_endian = false;  ///< byte order of the file
  bool bigtiff = false;     ///< BigTIFF (64-bit offsets) rather than classic TIFF
  bool imagej_raw = false;  ///< ImageJ's one-IFD stack with the images stored contiguously
  bool truncated = false;   ///< the file ends before a page its IFDs announce; `frames` counts the complete ones
  std::string description;  ///< page 1's ImageDescription, empty when absent
};

namespace detail {

/// Where libtiff's client procedures read from, and where its messages land. Lives on the heap,
/// owned by the reader, so its address (libtiff's client data and handler user data) survives
/// moves of the reader.
struct tiff_source {
  std::string name;
  std::FILE* file = nullptr;  ///< owned; null for a memory source
  std::span<const std::byte> memory;
  std::uint64_t size = 0;      ///< bytes in the file or buffer
  std::uint64_t position = 0;  ///< next byte to read
  int io_errno = 0;            ///< errno of the first failed OS read since clear_messages()
  char error[512] = {};        ///< libtiff's first error since clear_messages()
  char warning[512] = {};      ///< libtiff's last warning

  tiff_source() = default;
  tiff_source(const tiff_source&) = delete;
  tiff_source& operator=(const tiff_source&) = delete;
  ~tiff_source() {
    if (file) std::fclose(file);
  }

  void clear_messages() noexcept {
    io_errno = 0;
    error[0] = '\0';
  }

  /// Reads up to `count` bytes at `position`; returns how many were read.
  std::size_t read(void* buffer, std::size_t count) noexcept {
    if (file == nullptr) {
      const std::uint64_t available = position < size ? size - position : 0;
      const std::size_t n = count < available ? count : static_cast<std::size_t>(available);
      if (n > 0) std::memcpy(buffer, memory.data() + position, n);
      position += n;
      return n;
    }
    if (position > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        file_seek(file, static_cast<std::int64_t>(position), SEEK_SET) != 0) {
      if (io_errno == 0) io_errno = errno != 0 ? errno : EINVAL;
      return 0;
    }
    const std::size_t n = std::fread(buffer, 1, count, file);
    if (n < count && std::ferror(file)) {
      if (io_errno == 0) io_errno = errno != 0 ? errno : EIO;
      std::clearerr(file);
    }
    position += n;
    return n;
  }

  /// Reads exactly `count` bytes at `offset`.
  bool read_at(std::uint64_t offset, void* buffer, std::size_t count) noexcept {
    position = offset;
    return read(buffer, count) == count;
  }
};

inline tmsize_t tiff_read_proc(thandle_t handle, void* buffer, tmsize_t count) {
  if (count <= 0) return 0;
  return static_cast<tmsize_t>(static_cast<tiff_source*>(handle)->read(buffer, static_cast<std::size_t>(count)));
}
inline tmsize_t tiff_write_proc(thandle_t, void*, tmsize_t) { return -1; }
inline toff_t tiff_seek_proc(thandle_t handle, toff_t offset, int whence) {
  auto* source = static_cast<tiff_source*>(handle);
  constexpr auto max_position = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t target = 0;
  if (whence == SEEK_SET) {
    target = offset;
  } else if (whence == SEEK_CUR || whence == SEEK_END) {
    // libtiff passes a signed displacement through the unsigned toff_t.
    const auto displacement = static_cast<std::int64_t>(offset);
    const std::uint64_t base = whence == SEEK_CUR ? source->position : source->size;
    if (displacement < 0) {
      const std::uint64_t back = 0 - static_cast<std::uint64_t>(displacement);
      if (back > base) return static_cast<toff_t>(-1);
      target = base - back;
    } else {
      target = base + static_cast<std::uint64_t>(displacement);
      if (target < base) return static_cast<toff_t>(-1);
    }
  } else {
    return static_cast<toff_t>(-1);
  }
  if (target > max_position) return static_cast<toff_t>(-1);
  source->position = target;
  return target;
}
inline int tiff_close_proc(thandle_t) { return 0; }  // the tiff_source owns the file
inline toff_t tiff_size_proc(thandle_t handle) { return static_cast<tiff_source*>(handle)->size; }
inline int tiff_map_proc(thandle_t, void**, toff_t*) { return 0; }
inline void tiff_unmap_proc(thandle_t, void*, toff_t) {}

/// "module: message" into `out`, without the module when it is just the file name.
inline void tiff_format_message(char* out, std::size_t out_size, const char* file_name, const char* module,
                                const char* format, va_list args) {
  char formatted[448];
  std::vsnprintf(formatted, sizeof formatted, format, args);
  // libtiff often starts its text with "<file name>: "; our messages name the file already.
  const char* message = formatted;
  const std::size_t name_length = std::strlen(file_name);
  if (name_length > 0 && std::strncmp(message, file_name, name_length) == 0 && message[name_length] == ':' &&
      message[name_length + 1] == ' ')
    message += name_length + 2;
  if (module != nullptr && module[0] != '\0' && std::strcmp(module, file_name) != 0)
    std::snprintf(out, out_size, "%s: %s", module, message);
  else
    std::snprintf(out, out_size, "%s", message);
}

/// libtiff error/warning handlers (TIFFOpenOptionsSetErrorHandlerExtR): keep the text, and
/// return 1 so that libtiff's global handlers (stderr) are not called.
inline int tiff_on_error(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
  auto* source = static_cast<tiff_source*>(user_data);
  if (source != nullptr && source->error[0] == '\0')
    tiff_format_message(source->error, sizeof source->error, source->name.c_str(), module, format, args);
  return 1;
}
inline int tiff_on_warning(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
  auto* source = static_cast<tiff_source*>(user_data);
  if (source != nullptr)
    tiff_format_message(source->warning, sizeof source->warning, source->name.c_str(), module, format, args);
  return 1;
}

/// A reusable byte buffer that is not zero-filled: a frame's memory is touched only as it is
/// decoded, and allocation failure is a return value, not an exception.
class byte_buffer {
 public:
  bool resize(std::size_t bytes) noexcept {
    if (bytes == size_ && data_) return true;
    data_.reset(new (std::nothrow) std::byte[bytes]);
    size_ = data_ ? bytes : 0;
    return data_ != nullptr;
  }
  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};

struct tiff_closer {
  void operator()(TIFF* tiff) const noexcept { TIFFClose(tiff); }
};
using tiff_handle = std::unique_ptr<TIFF, tiff_closer>;

/// Largest single allocation libtiff may make for us (compressed-strip buffers, IFD arrays).
inline constexpr tmsize_t tiff_max_single_allocation_bytes = tmsize_t{1} << 30;
/// A compressed page may decode to at most this many times the file's size (see file comment).
inline constexpr std::uint64_t tiff_max_expansion = 2048;

/// One page's geometry and storage, as the IFD describes it (validated).
struct tiff_page_layout {
  std::uint32_t width = 0, height = 0;
  pixel_type type = pixel_type::u8;
  std::uint16_t compression = COMPRESSION_NONE;
  bool tiled = false;
  std::uint32_t tile_width = 0, tile_height = 0;  ///< tiled pages
  std::uint32_t rows_per_strip = 0;               ///< stripped pages, in [1, height]
  std::uint64_t frame_bytes = 0;                  ///< width × height × sample bytes
  std::uint64_t tile_bytes = 0;                   ///< tile_width × tile_height × sample bytes
};

inline const char* tiff_compression_name(std::uint16_t compression) noexcept {
  switch (compression) {
    case COMPRESSION_NONE: return "none";
    case COMPRESSION_CCITTRLE: return "CCITT RLE";
    case COMPRESSION_CCITTFAX3: return "CCITT Group 3";
    case COMPRESSION_CCITTFAX4: return "CCITT Group 4";
    case COMPRESSION_LZW: return "LZW";
    case COMPRESSION_OJPEG: return "old-style JPEG";
    case COMPRESSION_JPEG: return "JPEG";
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE: return "Deflate";
    case COMPRESSION_PACKBITS: return "PackBits";
    case COMPRESSION_JBIG: return "JBIG";
    case COMPRESSION_LZMA: return "LZMA";
    case COMPRESSION_ZSTD: return "Zstandard";
    case COMPRESSION_WEBP: return "WebP";
    case 34712: return "JPEG 2000";
    case 50002: return "JPEG XL";
  }
  return "unknown";
}

inline bool tiff_compression_supported(std::uint16_t compression) noexcept {
  switch (compression) {
    case COMPRESSION_NONE: return true;
    case COMPRESSION_LZW:
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE:
    case COMPRESSION_PACKBITS: return TIFFIsCODECConfigured(compression) != 0;
  }
  return false;
}

/// The NUL-terminated `text`, cut at `max_bytes`.
inline std::string bounded_string(const char* text, std::size_t max_bytes) {
  std::size_t length = 0;
  while (length < max_bytes && text[length] != '\0') ++length;
  return std::string(text, length);
}

/// The number N in an ImageJ description's "images=N" line, or 0.
inline std::uint64_t imagej_image_count(std::string_view description) noexcept {
  if (!description.starts_with("ImageJ=")) return 0;
  const auto at = description.find("\nimages=");
  if (at == std::string_view::npos) return 0;
  std::uint64_t count = 0;
  std::size_t digits = 0;
  for (std::size_t i = at + 8; i < description.size() && description[i] >= '0' && description[i] <= '9'; ++i) {
    if (++digits > 18) return 0;
    count = count * 10 + static_cast<std::uint64_t>(description[i] - '0');
  }
  return count;
}

}  // namespace detail

class TiffReader {
 public:
  /// Opens a file and checks every page (size, type, storage) before returning.
  static Expected<TiffReader> open(const std::string& path) {
    auto source = std::make_unique<detail::tiff_source>();
    source->name = path;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return make_error(errc::io_error, path, ": cannot open: is a directory");
    errno = 0;
    source->file = std::fopen(path.c_str(), "rb");
    if (source->file == nullptr)
      return make_error(errc::io_error, path, ": cannot open: ", detail::errno_text(errno));
    std::int64_t size = -1;
    if (detail::file_seek(source->file, 0, SEEK_END) == 0) size = detail::file_tell(source->file);
    if (size < 0) return make_error(errc::io_error, path, ": cannot determine the file size: ", detail::errno_text(errno));
    source->size = static_cast<std::uint64_t>(size);
    return open_source(std::move(source));
  }

  /// Reads a TIFF held in memory; `bytes` must outlive the reader. `name` stands for the file
  /// in messages.
  static Expected<TiffReader> open_memory(std::span<const std::byte> bytes, std::string name) {
    auto source = std::make_unique<detail::tiff_source>();
    source->name = std::move(name);
    source->memory = bytes;
    source->size = bytes.size();
    return open_source(std::move(source));
  }

  TiffReader(TiffReader&&) noexcept = default;
  /// Closes this reader's file first: the libtiff handle must go before the source it reads.
  TiffReader& operator=(TiffReader&& other) noexcept {
    if (this != &other) {
      tiff_.reset();
      source_ = std::move(other.source_);
      tiff_ = std::move(other.tiff_);
      info_ = std::move(other.info_);
      first_page_ = other.first_page_;
      page_offsets_ = std::move(other.page_offsets_);
      current_page_ = other.current_page_;
      raw_first_offset_ = other.raw_first_offset_;
      frame_ = std::move(other.frame_);
      tile_ = std::move(other.tile_);
    }
    return *this;
  }
  TiffReader(const TiffReader&) = delete;
  TiffReader& operator=(const TiffReader&) = delete;
  ~TiffReader() = default;

  const TiffInfo& info() const noexcept { return info_; }
  std::ptrdiff_t frames() const noexcept { return info_.frames; }
  std::ptrdiff_t width() const noexcept { return info_.width; }
  std::ptrdiff_t height() const noexcept { return info_.height; }
  const std::string& name() const noexcept { return source_->name; }

  /// Reads frame `index` (0-based; messages number pages from 1) into `out`, which must be
  /// height() × width() (any row stride). Samples are converted with static_cast, except that
  /// floating → integer truncates toward zero, saturates at the target's limits and maps NaN to
  /// 0. On error `out` is left unchanged. Frames may be read in any order; reading them in order
  /// is cheapest.
  template <class T>
  Status read_frame(std::ptrdiff_t index, ImageView<T> out) {
    static_assert(detail::is_sample_v<T>, "read_frame<T>: T must be an arithmetic type other than bool");
    SMLM_ASSERT(source_ != nullptr, "TiffReader::read_frame on a moved-from reader");
    SMLM_ASSERT(out.rows() == info_.height && out.cols() == info_.width,
                "TiffReader::read_frame: out must be height() x width()");
    if (out.rows() != info_.height || out.cols() != info_.width)  // when assertions are compiled out
      return make_error(errc::invalid_argument, source_->name, ": page ", index + 1, ": output is ", out.cols(),
                        "x", out.rows(), ", the stack is ", info_.width, "x", info_.height);
    SMLM_TRY(load_frame(index));
    detail::visit_pixel_type(info_.type, [&](auto tag) {
      using S = typename decltype(tag)::type;
      const std::byte* source = frame_.data();
      for (std::ptrdiff_t y = 0; y < info_.height; ++y) {
        T* row = out.data() + y * out.outerStride();
        const std::byte* in = source + static_cast<std::size_t>(y * info_.width) * sizeof(S);
        for (std::ptrdiff_t x = 0; x < info_.width; ++x)
          row[x] = detail::read_convert<T>(detail::load_sample<S>(in + static_cast<std::size_t>(x) * sizeof(S)));
      }
    });
    return {};
  }

  /// As above, resizing `out` to height() × width() first.
  template <class T>
  Status read_frame(std::ptrdiff_t index, Image<T>& out) {
    if (out.rows() != info_.height || out.cols() != info_.width) out.resize(info_.height, info_.width);
    return read_frame(index, make_view(out));
  }

 private:
  TiffReader() = default;

  template <class... Args>
  Status page_error(errc code, std::ptrdiff_t page, const Args&... args) const {
    return make_error(code, source_->name, ": page ", page, ": ", args...);
  }

  /// The Status for a failed libtiff call on `page` (0: the file as a whole).
  Status libtiff_error(std::ptrdiff_t page, const char* what) const {
    const detail::tiff_source& s = *source_;
    const errc code = s.io_errno != 0 ? errc::io_error : errc::format_error;
    const std::string reason = s.io_errno != 0 ? str_cat(what, ": ", detail::errno_text(s.io_errno))
                               : s.error[0] != '\0' ? str_cat(what, ": ", s.error)
                                                    : std::string(what);
    if (page <= 0) return make_error(code, s.name, ": ", reason);
    return page_error(code, page, reason);
  }

  static Expected<TiffReader> open_source(std::unique_ptr<detail::tiff_source> source) {
    TiffReader reader;
    reader.source_ = std::move(source);
    detail::tiff_source& s = *reader.source_;

    // The header is checked here so that an empty or foreign file gets a plain message.
    unsigned char header[4] = {};
    s.clear_messages();
    const std::size_t header_bytes = s.read(header, sizeof header);
    if (s.io_errno != 0) return reader.libtiff_error(0, "cannot read the header");
    if (s.size == 0) return make_error(errc::format_error, s.name, ": not a TIFF file: the file is empty");
    const bool little = header[0] == 'I' && header[1] == 'I' && header[3] == 0 && (header[2] == 42 || header[2] == 43);
    const bool big = header[0] == 'M' && header[1] == 'M' && header[2] == 0 && (header[3] == 42 || header[3] == 43);
    if (header_bytes < sizeof header || !(little || big))
      return make_error(errc::format_error, s.name, ": not a TIFF file (no II*/MM* header)");
    if (s.size < 8)
      return make_error(errc::format_error, s.name, ": truncated: ", s.size, " bytes, shorter than a TIFF header");

    // Page 1's IFD must be whole: a writer that died before finishing page 1 left no page.
    reader.info_.big_endian = big;
    reader.info_.bigtiff = (big ? header[3] : header[2]) == 43;
    std::uint64_t first_directory = 0;
    if (reader.read_uint(reader.info_.bigtiff ? 8 : 4, reader.info_.bigtiff ? 8 : 4, first_directory)) {
      if (first_directory == 0)
        return make_error(errc::format_error, s.name, ": no page: the header points to no directory");
      if (!reader.directory_in_file(first_directory))
        return reader.page_error(errc::format_error, 1, "the file (", s.size,
                                 " bytes) ends inside or before its directory: truncated file");
    }

    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    if (options == nullptr) return make_error(errc::out_of_range, s.name, ": cannot allocate libtiff options");
    TIFFOpenOptionsSetErrorHandlerExtR(options, detail::tiff_on_error, &s);
    TIFFOpenOptionsSetWarningHandlerExtR(options, detail::tiff_on_warning, &s);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, detail::tiff_max_single_allocation_bytes);
    s.clear_messages();
    s.position = 0;
    // "r": read; "c": no strip chopping (strips are read as stored); "m": no memory mapping.
    TIFF* tiff = TIFFClientOpenExt(s.name.c_str(), "rcm", &s, detail::tiff_read_proc, detail::tiff_write_proc,
                                   detail::tiff_seek_proc, detail::tiff_close_proc, detail::tiff_size_proc,
                                   detail::tiff_map_proc, detail::tiff_unmap_proc, options);
    TIFFOpenOptionsFree(options);
    if (tiff == nullptr) return reader.libtiff_error(1, "cannot read the first directory (truncated or corrupt file)");
    reader.tiff_.reset(tiff);

    for (std::ptrdiff_t page = 1;; ++page) {
      reader.page_offsets_.push_back(TIFFCurrentDirOffset(tiff));
      auto layout = reader.describe_page(page);
      if (!layout) return layout.status();
      if (!reader.page_data_in_file(*layout)) {
        if (page == 1)
          return reader.page_error(errc::format_error, page, "its image data run past the end of the file (",
                                   s.size, " bytes): truncated file");
        reader.page_offsets_.pop_back();
        reader.info_.truncated = true;
        break;
      }
      if (page == 1) {
        reader.info_.width = layout->width;
        reader.info_.height = layout->height;
        reader.info_.type = layout->type;
        const char* description = nullptr;
        if (TIFFGetField(tiff, TIFFTAG_IMAGEDESCRIPTION, &description) == 1 && description != nullptr)
          reader.info_.description = detail::bounded_string(description, std::size_t{1} << 16);
        reader.first_page_ = *layout;
      } else {
        SMLM_TRY(reader.check_same_as_first(page, *layout));
      }
      if (TIFFLastDirectory(tiff)) break;
      if (!reader.directory_in_file(reader.next_directory_offset())) {
        reader.info_.truncated = true;
        break;
      }
      s.clear_messages();
      if (!TIFFReadDirectory(tiff)) return reader.libtiff_error(page + 1, "cannot read the directory (truncated or corrupt file)");
    }
    reader.current_page_ = static_cast<std::ptrdiff_t>(reader.page_offsets_.size()) - 1;
    if (reader.info_.truncated) {
      // libtiff holds the directory after the last complete page, or none; select_page reloads.
      reader.current_page_ = -1;
    }
    reader.info_.frames = static_cast<std::ptrdiff_t>(reader.page_offsets_.size());
    if (reader.info_.frames == 1 && !reader.info_.truncated) reader.detect_imagej_raw();
    return reader;
  }

  /// An unsigned integer of `bytes` bytes at `offset` in the file's byte order; false when the
  /// file ends first.
  bool read_uint(std::uint64_t offset, int bytes, std::uint64_t& value) const {
    unsigned char raw[8] = {};
    if (!source_->read_at(offset, raw, static_cast<std::size_t>(bytes))) return false;
    value = 0;
    for (int i = 0; i < bytes; ++i)
      value |= std::uint64_t{raw[info_.big_endian ? i : bytes - 1 - i]} << (8 * (bytes - 1 - i));
    return true;
  }

  /// Whether the IFD at `offset` (0: none) lies wholly inside the file: its entry count, its
  /// entries and its next-IFD offset.
  bool directory_in_file(std::uint64_t offset) const {
    const std::uint64_t size = source_->size;
    const int count_bytes = info_.bigtiff ? 8 : 2, entry_bytes = info_.bigtiff ? 20 : 12, next_bytes = info_.bigtiff ? 8 : 4;
    std::uint64_t entries = 0;
    if (offset == 0 || offset >= size || !read_uint(offset, count_bytes, entries)) return false;
    const std::uint64_t room = size - offset - static_cast<std::uint64_t>(count_bytes);
    return entries <= room / static_cast<std::uint64_t>(entry_bytes) &&
           entries * static_cast<std::uint64_t>(entry_bytes) + static_cast<std::uint64_t>(next_bytes) <= room;
  }

  /// The next-IFD offset of the directory libtiff holds (0 when it cannot be read). The caller
  /// has checked that this directory lies inside the file, as libtiff has read it.
  std::uint64_t next_directory_offset() const {
    const std::uint64_t at = TIFFCurrentDirOffset(tiff_.get());
    const int count_bytes = info_.bigtiff ? 8 : 2, entry_bytes = info_.bigtiff ? 20 : 12;
    std::uint64_t entries = 0, next = 0;
    if (!read_uint(at, count_bytes, entries) || entries > source_->size / static_cast<std::uint64_t>(entry_bytes) ||
        !read_uint(at + static_cast<std::uint64_t>(count_bytes) + entries * static_cast<std::uint64_t>(entry_bytes),
                   info_.bigtiff ? 8 : 4, next))
      return 0;
    return next;
  }

  /// Whether every strip or tile of the page libtiff holds ends inside the file. Uncompressed
  /// ones must hold their rows whatever StripByteCounts says: libtiff replaces a single strip's
  /// count that runs past the end of the file by an estimate.
  bool page_data_in_file(const detail::tiff_page_layout& layout) const {
    TIFF* tiff = tiff_.get();
    const std::uint64_t size = source_->size;
    const bool uncompressed = layout.compression == COMPRESSION_NONE;
    const std::uint64_t row_bytes = std::uint64_t{layout.width} * pixel_bytes(layout.type);
    const std::uint32_t striles = layout.tiled ? TIFFNumberOfTiles(tiff) : TIFFNumberOfStrips(tiff);
    for (std::uint32_t i = 0; i < striles; ++i) {
      const std::uint64_t offset = TIFFGetStrileOffset(tiff, i);
      std::uint64_t bytes = TIFFGetStrileByteCount(tiff, i);
      if (offset == 0 && bytes == 0) continue;  // a sparse tile or strip, read as zeros
      if (uncompressed && layout.tiled) {
        bytes = layout.tile_bytes;
      } else if (uncompressed) {
        const std::uint64_t row = std::uint64_t{i} * layout.rows_per_strip;
        if (row >= layout.height) break;
        bytes = std::min<std::uint64_t>(layout.rows_per_strip, layout.height - row) * row_bytes;
      }
      if (offset > size || bytes > size - offset) return false;
    }
    return true;
  }

  /// Validates the directory libtiff has loaded as page `page` (1-based).
  Expected<detail::tiff_page_layout> describe_page(std::ptrdiff_t page) const {
    TIFF* tiff = tiff_.get();
    detail::tiff_page_layout layout;
    std::uint16_t samples_per_pixel = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
    std::uint32_t depth = 1;
    if (TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &layout.width) != 1 ||
        TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &layout.height) != 1)
      return page_error(errc::format_error, page, "no ImageWidth/ImageLength");
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &samples_per_pixel);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_COMPRESSION, &layout.compression);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_IMAGEDEPTH, &depth);
    const bool has_photometric = TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &photometric) == 1;

    if (samples_per_pixel != 1)
      return page_error(errc::unsupported, page, samples_per_pixel, " samples per pixel (colour or extra channels); only "
                        "greyscale pages with 1 sample per pixel are read");
    if (has_photometric && photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE &&
        photometric != PHOTOMETRIC_PALETTE)
      return page_error(errc::unsupported, page, "PhotometricInterpretation ", photometric,
                        "; only greyscale (0, 1) or palette (3) pages are read");
    if (depth != 1) return page_error(errc::unsupported, page, "ImageDepth ", depth, " (3-D tiles)");
    if (format == SAMPLEFORMAT_UINT && bits == 8) layout.type = pixel_type::u8;
    else if (format == SAMPLEFORMAT_UINT && bits == 16) layout.type = pixel_type::u16;
    else if (format == SAMPLEFORMAT_UINT && bits == 32) layout.type = pixel_type::u32;
    else if (format == SAMPLEFORMAT_INT && bits == 8) layout.type = pixel_type::i8;
    else if (format == SAMPLEFORMAT_INT && bits == 16) layout.type = pixel_type::i16;
    else if (format == SAMPLEFORMAT_INT && bits == 32) layout.type = pixel_type::i32;
    else if (format == SAMPLEFORMAT_IEEEFP && bits == 32) layout.type = pixel_type::f32;
    else
      return page_error(errc::unsupported, page, bits, "-bit samples of SampleFormat ", format,
                        "; 8/16/32-bit integers and 32-bit floats are read");
    if (!detail::tiff_compression_supported(layout.compression))
      return page_error(errc::unsupported, page, "compression ", layout.compression, " (",
                        detail::tiff_compression_name(layout.compression),
                        "); uncompressed, LZW, Deflate and PackBits pages are read");
    if (layout.width == 0 || layout.height == 0)
      return page_error(errc::format_error, page, "empty image (", layout.width, "x", layout.height, ")");

    const std::uint64_t sample_bytes = pixel_bytes(layout.type);
    constexpr auto addressable = static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
    std::uint64_t pixels = 0, striles = 0;
    if (!detail::checked_multiply(layout.width, layout.height, addressable, pixels) ||
        !detail::checked_multiply(pixels, sample_bytes, addressable, layout.frame_bytes))
      return page_error(errc::out_of_range, page, layout.width, "x", layout.height, " pixels cannot be addressed");

    layout.tiled = TIFFIsTiled(tiff) != 0;
    if (layout.tiled) {
      if (TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &layout.tile_width) != 1 ||
          TIFFGetField(tiff, TIFFTAG_TILELENGTH, &layout.tile_height) != 1 || layout.tile_width == 0 ||
          layout.tile_height == 0)
        return page_error(errc::format_error, page, "tiled page without a valid TileWidth/TileLength");
      if (!detail::checked_multiply(layout.tile_width, layout.tile_height, addressable, pixels) ||
          !detail::checked_multiply(pixels, sample_bytes, addressable, layout.tile_bytes))
        return page_error(errc::out_of_range, page, "tiles of ", layout.tile_width, "x", layout.tile_height,
                          " pixels cannot be addressed");
      const std::uint64_t across = (std::uint64_t{layout.width} + layout.tile_width - 1) / layout.tile_width;
      const std::uint64_t down = (std::uint64_t{layout.height} + layout.tile_height - 1) / layout.tile_height;
      striles = across * down;
      if (TIFFNumberOfTiles(tiff) < striles || static_cast<std::uint64_t>(TIFFTileSize64(tiff)) != layout.tile_bytes)
        return page_error(errc::format_error, page, TIFFNumberOfTiles(tiff), " tiles where ", striles, " are needed");
    } else {
      std::uint32_t rows_per_strip = 0;
      TIFFGetFieldDefaulted(tiff, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
      if (rows_per_strip == 0) return page_error(errc::format_error, page, "RowsPerStrip is 0");
      layout.rows_per_strip = rows_per_strip < layout.height ? rows_per_strip : layout.height;
      striles = (std::uint64_t{layout.height} + layout.rows_per_strip - 1) / layout.rows_per_strip;
      if (TIFFNumberOfStrips(tiff) < striles)
        return page_error(errc::format_error, page, TIFFNumberOfStrips(tiff), " strips where ", striles, " are needed");
    }

    // What the stored bytes can decode to: uncompressed, the file's size; compressed, this
    // page's StripByteCounts/TileByteCounts (each capped by the file) times the codecs' limit.
    const std::uint64_t file_bytes = source_->size;
    std::uint64_t stored_bytes = file_bytes;
    if (layout.compression != COMPRESSION_NONE) {
      stored_bytes = 0;
      for (std::uint64_t i = 0; i < striles && stored_bytes < file_bytes; ++i)
        stored_bytes += std::min(TIFFGetStrileByteCount(tiff, static_cast<std::uint32_t>(i)), file_bytes);
      stored_bytes = std::min(stored_bytes, file_bytes);
    }
    const std::uint64_t limit =
        layout.compression == COMPRESSION_NONE ? file_bytes : stored_bytes * detail::tiff_max_expansion;
    if (layout.frame_bytes > limit)
      return page_error(errc::format_error, page, layout.width, "x", layout.height, " ", pixel_type_name(layout.type),
                        " needs ", layout.frame_bytes, " bytes, more than ", stored_bytes, " stored bytes",
                        layout.compression == COMPRESSION_NONE ? "" : " can decode to",
                        " (corrupt or truncated file)");
    if (layout.tiled && layout.tile_bytes > limit)
      return page_error(errc::format_error, page, "tiles of ", layout.tile_width, "x", layout.tile_height,
                        " pixels need more than ", stored_bytes, " stored bytes",
                        layout.compression == COMPRESSION_NONE ? "" : " can decode to", " (corrupt or truncated file)");
    return layout;
  }

  Status check_same_as_first(std::ptrdiff_t page, const detail::tiff_page_layout& layout) const {
    if (layout.width != first_page_.width || layout.height != first_page_.height || layout.type != first_page_.type)
      return page_error(errc::format_error, page, layout.width, "x", layout.height, " ", pixel_type_name(layout.type),
                        " differs from page 1 (", first_page_.width, "x", first_page_.height, " ",
                        pixel_type_name(first_page_.type), "); all pages of a stack must match");
    return {};
  }

  /// ImageJ's "raw after one header" stack: see the file comment for the conditions.
  void detect_imagej_raw() {
    const std::uint64_t images = detail::imagej_image_count(info_.description);
    const detail::tiff_page_layout& p = first_page_;
    if (images < 2 || p.tiled || p.compression != COMPRESSION_NONE) return;
    TIFF* tiff = tiff_.get();
    const std::uint64_t row_bytes = std::uint64_t{p.width} * pixel_bytes(p.type);
    const std::uint32_t strips = TIFFNumberOfStrips(tiff);
    const std::uint64_t first = TIFFGetStrileOffset(tiff, 0);
    for (std::uint32_t strip = 0; strip < strips && std::uint64_t{strip} * p.rows_per_strip < p.height; ++strip) {
      const std::uint64_t row = std::uint64_t{strip} * p.rows_per_strip;
      const std::uint64_t rows = std::min<std::uint64_t>(p.rows_per_strip, p.height - row);
      if (TIFFGetStrileOffset(tiff, strip) != first + row * row_bytes ||
          TIFFGetStrileByteCount(tiff, strip) < rows * row_bytes)
        return;
    }
    std::uint64_t total = 0;
    if (!detail::checked_multiply(images, p.frame_bytes, source_->size, total) || first > source_->size - total) return;
    if (images > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max())) return;
    info_.frames = static_cast<std::ptrdiff_t>(images);
    info_.imagej_raw = true;
    raw_first_offset_ = first;
  }

  /// Makes `index` libtiff's current directory: the next one by following the chain, any other
  /// by its recorded IFD offset.
  Status select_page(std::ptrdiff_t index) {
    if (index == current_page_) return {};
    TIFF* tiff = tiff_.get();
    source_->clear_messages();
    const bool next = current_page_ >= 0 && index == current_page_ + 1 && !TIFFLastDirectory(tiff);
    current_page_ = -1;
    const int ok = next ? TIFFReadDirectory(tiff) : TIFFSetSubDirectory(tiff, page_offsets_[static_cast<std::size_t>(index)]);
    if (!ok) return libtiff_error(index + 1, "cannot read the directory");
    if (TIFFCurrentDirOffset(tiff) != page_offsets_[static_cast<std::size_t>(index)])
      return page_error(errc::format_error, index + 1, "the directory chain changed while reading");
    current_page_ = index;
    return {};
  }

  /// Fills frame_ with page `index`'s samples in native byte order.
  Status load_frame(std::ptrdiff_t index) {
    if (index < 0 || index >= info_.frames)
      return make_error(errc::out_of_range, source_->name, ": page ", index + 1, " requested; the file has ",
                        info_.frames, " page", info_.frames == 1 ? "" : "s");
    const std::ptrdiff_t page = index + 1;
    const auto frame_bytes = first_page_.frame_bytes;
    if (!frame_.resize(frame_bytes))
      return page_error(errc::out_of_range, page, "cannot allocate ", frame_bytes, " bytes for one frame");

    if (info_.imagej_raw) {
      source_->clear_messages();
      if (!source_->read_at(raw_first_offset_ + static_cast<std::uint64_t>(index) * frame_bytes, frame_.data(), frame_bytes))
        return libtiff_error(page, "the file ends inside this ImageJ image");
      if (TIFFIsByteSwapped(tiff_.get()))
        detail::swap_bytes_in_place(frame_.data(), frame_bytes / pixel_bytes(info_.type), pixel_bytes(info_.type));
      return {};
    }

    SMLM_TRY(select_page(index));
    auto layout = describe_page(page);
    if (!layout) return layout.status();
    SMLM_TRY(check_same_as_first(page, *layout));
    TIFF* tiff = tiff_.get();
    const std::size_t sample_bytes = pixel_bytes(info_.type);
    const std::size_t row_bytes = static_cast<std::size_t>(layout->width) * sample_bytes;
    source_->clear_messages();
    if (!layout->tiled) {
      const std::uint32_t rows_per_strip = layout->rows_per_strip;
      for (std::uint32_t row = 0, strip = 0; row < layout->height; row += rows_per_strip, ++strip) {
        const std::uint32_t rows = std::min(rows_per_strip, layout->height - row);
        const auto want = static_cast<tmsize_t>(rows * row_bytes);
        const tmsize_t got = TIFFReadEncodedStrip(tiff, strip, frame_.data() + row * row_bytes, want);
        if (got != want || source_->error[0] != '\0')  // a decoder that complained has not decoded
          return libtiff_error(page, str_cat("strip ", strip, " (rows ", row, "-", row + rows - 1, ") gave ",
                                             got < 0 ? 0 : got, " of ", want, " bytes").c_str());
      }
      return {};
    }
    if (!tile_.resize(layout->tile_bytes))
      return page_error(errc::out_of_range, page, "cannot allocate ", layout->tile_bytes, " bytes for one tile");
    const std::uint32_t tile_width = layout->tile_width, tile_height = layout->tile_height;
    for (std::uint32_t y = 0; y < layout->height; y += tile_height) {
      for (std::uint32_t x = 0; x < layout->width; x += tile_width) {
        const std::uint32_t tile = TIFFComputeTile(tiff, x, y, 0, 0);
        const auto want = static_cast<tmsize_t>(layout->tile_bytes);
        const tmsize_t got = TIFFReadEncodedTile(tiff, tile, tile_.data(), want);
        if (got != want || source_->error[0] != '\0')
          return libtiff_error(page, str_cat("tile ", tile, " at (x ", x, ", y ", y, ") gave ", got < 0 ? 0 : got,
                                             " of ", want, " bytes").c_str());
        const std::uint32_t rows = std::min(tile_height, layout->height - y);
        const std::size_t copy_bytes = std::min(tile_width, layout->width - x) * sample_bytes;
        for (std::uint32_t r = 0; r < rows; ++r)
          std::memcpy(frame_.data() + (y + r) * row_bytes + x * sample_bytes,
                      tile_.data() + static_cast<std::size_t>(r) * tile_width * sample_bytes, copy_bytes);
      }
    }
    return {};
  }

  // The source outlives the TIFF handle that reads through it (members die in reverse order).
  std::unique_ptr<detail::tiff_source> source_;
  detail::tiff_handle tiff_;
  TiffInfo info_;
  detail::tiff_page_layout first_page_;
  std::vector<std::uint64_t> page_offsets_;  ///< IFD offset of each page
  std::ptrdiff_t current_page_ = -1;         ///< page whose directory libtiff holds; -1: unknown
  std::uint64_t raw_first_offset_ = 0;       ///< ImageJ raw stacks: where image 1 starts
  detail::byte_buffer frame_;                ///< one frame of stored samples
  detail::byte_buffer tile_;                 ///< one tile of stored samples
};

/// Reads a whole stack into memory, converting samples as TiffReader::read_frame does. The size
/// (frames × height × width × sizeof(T)) is checked before anything is allocated.
template <class T>
Expected<Stack<T>> read_tiff_stack(const std::string& path) {
  auto reader = TiffReader::open(path);
  if (!reader) return reader.status();
  const auto frames = static_cast<std::uint64_t>(reader->frames());
  std::uint64_t values = 0, bytes = 0;
  constexpr auto addressable = static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
  if (!detail::checked_multiply(frames, static_cast<std::uint64_t>(reader->height()) * static_cast<std::uint64_t>(reader->width()),
                                addressable, values) ||
      !detail::checked_multiply(values, sizeof(T), addressable, bytes))
    return make_error(errc::out_of_range, path, ": ", frames, " frames of ", reader->width(), "x", reader->height(),
                      " cannot be held in memory; read it frame by frame with TiffReader");
  Stack<T> stack;
#if !defined(SMLM_NO_EXCEPTIONS)
  try {
    stack = Stack<T>(reader->frames(), reader->height(), reader->width());
  } catch (const std::bad_alloc&) {
    return make_error(errc::out_of_range, path, ": cannot allocate ", bytes,
                      " bytes for the whole stack; read it frame by frame with TiffReader");
  }
#else
  stack = Stack<T>(reader->frames(), reader->height(), reader->width());
#endif
  for (std::ptrdiff_t f = 0; f < stack.frames(); ++f) SMLM_TRY(reader->read_frame(f, stack.frame(f)));
  return stack;
}

}  // namespace smlm::io
