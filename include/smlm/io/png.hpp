// PNG images through libpng (part of smlmkit::io): grey 8/16-bit, RGB, colour-mapped float.
//
// Format: PNG (ISO/IEC 15948:2004, W3C PNG 2nd ed.). Samples are written exactly as given — no
// gAMA, cHRM, sRGB or iCCP chunk, so viewers treat them as sRGB-encoded display values — and
// 16-bit samples are stored big-endian as the standard requires (§7.1). Files are not interlaced.
//
// Why libpng's classic API and not its 1.6 "simplified" png_image API: the simplified writer
// marks 16-bit output as linear light (gAMA 1.0 plus cHRM), and its reader converts samples
// between gamma encodings according to such chunks, so a 16-bit file from another program could
// change values on reading. Microscopy counts must come back bit-exact.
//
// libpng reports errors by calling an error function that must not return, and then longjmps
// (libpng manual, "Setjmp/longjmp issues"). Here every setjmp sits in a small detail::png_*_jmp
// function whose locals are trivially destructible, and the libpng handles live in an RAII object
// owned by the caller, outside the jump's reach: a longjmp never skips a C++ destructor.
#pragma once

#include <bit>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <png.h>

#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <smlm/io/detail/replace_file.hpp>

namespace smlm::io {

struct Rgb8 {
  std::uint8_t r, g, b;
};

namespace detail {

/// Where png_on_error leaves libpng's message before it longjmps.
struct png_error_state {
  char message[256] = {};
};

inline void png_on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<png_error_state*>(png_get_error_ptr(png));
  if (state) std::snprintf(state->message, sizeof state->message, "%s", message ? message : "libpng error");
  png_longjmp(png, 1);
}
inline void png_on_warning(png_structp, png_const_charp) {}

struct png_file_closer {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using png_file = std::unique_ptr<std::FILE, png_file_closer>;

/// The libpng write handles, destroyed by the caller's scope (never by a longjmp).
struct png_write_handle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_error_state error;
  png_write_handle() = default;
  png_write_handle(const png_write_handle&) = delete;
  png_write_handle& operator=(const png_write_handle&) = delete;
  ~png_write_handle() {
    if (png) png_destroy_write_struct(&png, &info);
  }
};

struct png_read_handle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_error_state error;
  png_read_handle() = default;
  png_read_handle(const png_read_handle&) = delete;
  png_read_handle& operator=(const png_read_handle&) = delete;
  ~png_read_handle() {
    if (png) png_destroy_read_struct(&png, &info, nullptr);
  }
};

/// One image to write: `height` rows of `width` pixels, row y at rows + y * row_stride_bytes.
struct png_write_job {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 8;
  int color_type = PNG_COLOR_TYPE_GRAY;
  const unsigned char* rows = nullptr;
  std::ptrdiff_t row_stride_bytes = 0;
  bool host_order_16 = false;  ///< 16-bit samples in host byte order, to be swapped if little-endian
};

/// libpng calls only; trivially destructible locals only (setjmp). False: h.error says why.
inline bool png_write_jmp(png_write_handle& h, std::FILE* file, const png_write_job& job) {
  h.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &h.error, png_on_error, png_on_warning);
  if (!h.png) {
    std::snprintf(h.error.message, sizeof h.error.message, "%s", "cannot create the libpng writer");
    return false;
  }
  h.info = png_create_info_struct(h.png);
  if (!h.info) {
    std::snprintf(h.error.message, sizeof h.error.message, "%s", "cannot create the libpng info struct");
    return false;
  }
  if (setjmp(png_jmpbuf(h.png))) return false;
  png_init_io(h.png, file);
  png_set_IHDR(h.png, h.info, job.width, job.height, job.bit_depth, job.color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(h.png, h.info);
  if (job.host_order_16 && std::endian::native == std::endian::little) png_set_swap(h.png);
  for (png_uint_32 y = 0; y < job.height; ++y) png_write_row(h.png, job.rows + static_cast<std::ptrdiff_t>(y) * job.row_stride_bytes);
  png_write_end(h.png, nullptr);
  return true;
}

/// Writes `job` to `path`, replacing it only once complete (detail::replace_target: through
/// "<path>.partial"); on any failure the previous file is left as it was.
inline Status png_write_file(const std::string& path, std::ptrdiff_t width, std::ptrdiff_t height,
                             png_write_job job) {
  if (width <= 0 || height <= 0)
    return make_error(errc::invalid_argument, path, ": cannot write a ", width, " x ", height,
                      " image as PNG (width and height must be at least 1)");
  if (width > static_cast<std::ptrdiff_t>(PNG_UINT_31_MAX) || height > static_cast<std::ptrdiff_t>(PNG_UINT_31_MAX))
    return make_error(errc::out_of_range, path, ": ", width, " x ", height, " exceeds PNG's 2^31-1 limit");
  job.width = static_cast<png_uint_32>(width);
  job.height = static_cast<png_uint_32>(height);
  const replace_target target(path);
  std::FILE* file = std::fopen(target.written.c_str(), "wb");
  if (!file) return make_error(errc::io_error, path, ": cannot open for writing: ", std::strerror(errno));
  std::string failure;
  {
    png_write_handle h;
    if (!png_write_jmp(h, file, job)) failure = h.error.message;
  }
  const bool flushed = std::fflush(file) == 0;
  const int flush_errno = errno;
  const bool closed = std::fclose(file) == 0;
  if (failure.empty() && !(flushed && closed))
    failure = std::string("write failed: ") + std::strerror(flushed ? errno : flush_errno);
  return target.finish(failure.empty() ? Status{} : make_error(errc::io_error, path, ": ", failure));
}

/// What png_read_header_jmp learns from IHDR.
struct png_header {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
  std::size_t row_bytes = 0;
};

/// Reads the chunks up to the image data and, for a grey image, sets the transforms to 8- or
/// 16-bit host-order samples (1/2/4-bit grey is scaled to 0..255, libpng's expand transform).
inline bool png_read_header_jmp(png_read_handle& h, std::FILE* file, png_header& header) {
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &h.error, png_on_error, png_on_warning);
  if (!h.png) {
    std::snprintf(h.error.message, sizeof h.error.message, "%s", "cannot create the libpng reader");
    return false;
  }
  h.info = png_create_info_struct(h.png);
  if (!h.info) {
    std::snprintf(h.error.message, sizeof h.error.message, "%s", "cannot create the libpng info struct");
    return false;
  }
  if (setjmp(png_jmpbuf(h.png))) return false;
  png_init_io(h.png, file);
  png_set_sig_bytes(h.png, 8);
  png_read_info(h.png, h.info);
  header.width = png_get_image_width(h.png, h.info);
  header.height = png_get_image_height(h.png, h.info);
  header.bit_depth = png_get_bit_depth(h.png, h.info);
  header.color_type = png_get_color_type(h.png, h.info);
  if (header.color_type != PNG_COLOR_TYPE_GRAY) return true;
  if (header.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(h.png);
  if (header.bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(h.png);
  (void)png_set_interlace_handling(h.png);
  png_read_update_info(h.png, h.info);
  header.row_bytes = png_get_rowbytes(h.png, h.info);
  return true;
}

inline bool png_read_rows_jmp(png_read_handle& h, png_bytepp rows) {
  if (setjmp(png_jmpbuf(h.png))) return false;
  png_read_image(h.png, rows);
  png_read_end(h.png, nullptr);
  return true;
}

inline const char* png_color_type_name(int color_type) noexcept {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
  }
  return "unknown";
}

}  // namespace detail

/// 8-bit grey PNG of `gray` (rows may be strided). Errors name `path`: errc::invalid_argument
/// for an empty image, errc::io_error when the file cannot be written (nothing is left behind).
inline Status write_png(const std::string& path, ConstImageView<std::uint8_t> gray) {
  detail::png_write_job job;
  job.bit_depth = 8;
  job.color_type = PNG_COLOR_TYPE_GRAY;
  job.rows = gray.data();
  job.row_stride_bytes = gray.outerStride();
  return detail::png_write_file(path, gray.cols(), gray.rows(), job);
}

/// 16-bit grey PNG of `gray`, values stored unchanged (big-endian in the file). Errors as above.
inline Status write_png(const std::string& path, ConstImageView<std::uint16_t> gray) {
  detail::png_write_job job;
  job.bit_depth = 16;
  job.color_type = PNG_COLOR_TYPE_GRAY;
  job.rows = reinterpret_cast<const unsigned char*>(gray.data());
  job.row_stride_bytes = gray.outerStride() * static_cast<std::ptrdiff_t>(sizeof(std::uint16_t));
  job.host_order_16 = true;
  return detail::png_write_file(path, gray.cols(), gray.rows(), job);
}

/// Any dense Eigen array or expression of std::uint8_t or std::uint16_t (Image<T>, ImageView<T>,
/// a cast): evaluated into an Image, then written as above.
template <class Derived>
  requires(std::is_same_v<typename Derived::Scalar, std::uint8_t> ||
           std::is_same_v<typename Derived::Scalar, std::uint16_t>)
Status write_png(const std::string& path, const Eigen::DenseBase<Derived>& gray) {
  const Image<typename Derived::Scalar> dense = gray.derived();
  return write_png(path, make_view(dense));
}

/// 8-bit RGB PNG of `height` rows of `width` interleaved r,g,b bytes; row y starts at
/// rgb + y * row_stride_bytes (default 3 * width). Errors as above.
inline Status write_png_rgb(const std::string& path, const std::uint8_t* rgb, std::ptrdiff_t width,
                            std::ptrdiff_t height, std::ptrdiff_t row_stride_bytes = -1) {
  if (!rgb && width > 0 && height > 0)
    return make_error(errc::invalid_argument, path, ": write_png_rgb given no pixel data");
  detail::png_write_job job;
  job.bit_depth = 8;
  job.color_type = PNG_COLOR_TYPE_RGB;
  job.rows = rgb;
  job.row_stride_bytes = row_stride_bytes < 0 ? 3 * width : row_stride_bytes;
  return detail::png_write_file(path, width, height, job);
}

/// Index of `value` in a 256-entry colour map over [lo, hi]: round(255 (v - lo) / (hi - lo))
/// clamped to 0..255 (so ±Inf go to the ends); NaN maps to 0. Precondition: lo < hi, both finite.
inline int colormap_index(float value, float lo, float hi) noexcept {
  const double t = 255.0 * (static_cast<double>(value) - lo) / (static_cast<double>(hi) - lo);
  if (!(t > 0.0)) return 0;  // also NaN
  if (t >= 255.0) return 255;
  return static_cast<int>(std::round(t));
}

/// 8-bit RGB PNG of `image` through the colour map `lut` (see colormap_index). Errors as above,
/// plus errc::invalid_argument naming the range unless lo < hi and both are finite.
inline Status write_png_colormapped(const std::string& path, ConstImageView<float> image, float lo, float hi,
                                    std::span<const Rgb8, 256> lut) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    return make_error(errc::invalid_argument, path, ": colour-map range [", lo, ", ", hi,
                      "] must be finite with lo < hi");
  const std::ptrdiff_t width = image.cols();
  const std::ptrdiff_t height = image.rows();
  if (width <= 0 || height <= 0) return detail::png_write_file(path, width, height, {});
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(3 * width * height));
  std::uint8_t* out = rgb.data();
  for (std::ptrdiff_t y = 0; y < height; ++y) {
    for (std::ptrdiff_t x = 0; x < width; ++x) {
      const Rgb8 c = lut[static_cast<std::size_t>(colormap_index(image(y, x), lo, hi))];
      *out++ = c.r;
      *out++ = c.g;
      *out++ = c.b;
    }
  }
  return write_png_rgb(path, rgb.data(), width, height);
}

/// Any dense Eigen array or expression of float (Image<float>, ImageView<float>): evaluated into
/// an Image, then written as above.
template <class Derived>
  requires std::is_same_v<typename Derived::Scalar, float>
Status write_png_colormapped(const std::string& path, const Eigen::DenseBase<Derived>& image, float lo, float hi,
                             std::span<const Rgb8, 256> lut) {
  const Image<float> dense = image.derived();
  return write_png_colormapped(path, make_view(dense), lo, hi, lut);
}

/// Reads a grey PNG of any bit depth: 16-bit samples unchanged, 8-bit samples as 0..255, 1/2/4-bit
/// samples scaled to 0..255; interlaced files are fine; gamma and colour chunks are ignored (no
/// sample is converted). Errors name `path`: errc::io_error (cannot open), errc::format_error (not
/// a PNG, corrupt or truncated), errc::unsupported (not grey: RGB, palette or alpha),
/// errc::out_of_range (more than 2^30 pixels).
inline Expected<Image<std::uint16_t>> read_png_gray(const std::string& path) {
  detail::png_file file(std::fopen(path.c_str(), "rb"));
  if (!file) return make_error(errc::io_error, path, ": cannot open: ", std::strerror(errno));
  png_byte signature[8];
  if (std::fread(signature, 1, sizeof signature, file.get()) != sizeof signature ||
      png_sig_cmp(signature, 0, sizeof signature) != 0)
    return make_error(errc::format_error, path, ": not a PNG file (no PNG signature)");
  detail::png_read_handle h;
  detail::png_header header;
  if (!detail::png_read_header_jmp(h, file.get(), header))
    return make_error(errc::format_error, path, ": ", h.error.message);
  if (header.color_type != PNG_COLOR_TYPE_GRAY)
    return make_error(errc::unsupported, path, ": colour type ", detail::png_color_type_name(header.color_type),
                      " (", header.bit_depth, "-bit): read_png_gray reads grey PNGs only");
  const auto width = static_cast<std::ptrdiff_t>(header.width);
  const auto height = static_cast<std::ptrdiff_t>(header.height);
  if (width * height > (std::ptrdiff_t{1} << 30))
    return make_error(errc::out_of_range, path, ": ", width, " x ", height, " pixels is more than read_png_gray allows (2^30)");
  const std::size_t sample_bytes = header.bit_depth == 16 ? 2 : 1;
  if (header.row_bytes != static_cast<std::size_t>(width) * sample_bytes)
    return make_error(errc::format_error, path, ": unexpected row size ", header.row_bytes, " for width ", width);

  Image<std::uint16_t> image(height, width);
  std::vector<png_bytep> rows(static_cast<std::size_t>(height));
  for (std::ptrdiff_t y = 0; y < height; ++y)
    rows[static_cast<std::size_t>(y)] = reinterpret_cast<png_bytep>(image.data() + y * width);
  if (!detail::png_read_rows_jmp(h, rows.data())) return make_error(errc::format_error, path, ": ", h.error.message);
  if (sample_bytes == 1) {
    // Each row's bytes sit in the first half of its own storage; widen back to front in place.
    for (std::ptrdiff_t y = 0; y < height; ++y) {
      const png_bytep bytes = rows[static_cast<std::size_t>(y)];
      std::uint16_t* samples = image.data() + y * width;
      for (std::ptrdiff_t x = width; x-- > 0;) samples[x] = bytes[x];
    }
  }
  return image;
}

}  // namespace smlm::io
