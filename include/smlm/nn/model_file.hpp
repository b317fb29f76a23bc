// Model files (.smlm): a versioned binary container of typed key/value metadata and named float32
// tensors, closed by a CRC-32. Trained models and training checkpoints both use it. The container
// knows nothing of architectures or imaging conditions: the code that builds a network decides
// which keys it writes and reads; this header only moves keys, values and tensors, and maps a
// network's parameters and buffers to tensors (store_network / restore_network).
//
// Layout, version 1 (docs/formats.md, "Model files (.smlm)", is the specification; every integer
// is little-endian, every float is its IEEE-754 bit pattern, so values round-trip bit-exactly):
//   magic     8 bytes  "SMLMNET" 0x1A
//   version   u32      model_file_version (1)
//   flags     u32      0 (no flag is defined in version 1)
//   metadata  u32 count, then per entry: u16 key length, key bytes, u8 type tag, value
//               tag 1 int64: i64 | 2 float64: f64 | 3 string: u32 length, bytes
//               4 float64 array: u32 count, count × f64
//   tensors   u32 count, then per tensor: u16 name length, name bytes, u8 dtype (1 = float32),
//               4 × i64 shape (n, c, h, w), n·c·h·w × f32 (NCHW order, tensor.hpp)
//   crc       u32      CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
// Keys and tensor names are non-empty and unique within their section; they are stored as given
// (UTF-8 by convention). The magic, the version field and the trailing CRC over everything
// before it are fixed for every version; a reader refuses a version newer than its own as
// errc::unsupported before it reads further.
//
// Reading trusts nothing in the input: a declared length is never allocated up front (strings,
// arrays and tensor data are read in 64 KiB pieces, so memory grows only with bytes that are
// actually there and a length past the end is a truncation error), counts and tensor sizes are
// capped (model_file_max_*), and every error is one line that names the source, the section or
// entry, the byte offset and the offending value. Structure is checked while reading and the
// CRC at the end, so a truncated file reports where it ends and a corrupt one reports either
// the malformed field the damage produced or the CRC mismatch.
//
// Network tensors (store_network / restore_network), i counting in visiting order from 0:
//   "param.<i>"     the value of the i-th Parameter (for_each_parameter)
//   "buffer.<i>"    the i-th buffer (nn::for_each_buffer: batch-norm running statistics)
//   with_optimizer_state, also
//   "param.<i>.m", "param.<i>.v"   moment1 / moment2, each only when sized (Adam's m and v; SGD's
//                                  velocity is moment1)
//   metadata int64 "param.<i>.steps"   the parameter's optimizer step count (an int64 stays
//                                      exact there, unlike in a float32 tensor)
// restore_network checks everything before it changes anything: a file of another architecture
// (a tensor missing, a different count, a different shape) is refused naming the tensor and
// both shapes, and the network is left as it was.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <smlm/core/status.hpp>
#include <smlm/nn/layer.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>

namespace smlm::nn {

// --- CRC-32 ---------------------------------------------------------------------------------

namespace detail {
constexpr std::array<std::uint32_t, 256> make_crc32_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> crc32_table = make_crc32_table();
}  // namespace detail

/// CRC-32 of IEEE 802.3 / zlib / PNG: reflected polynomial 0xEDB88320, initial value and final
/// xor 0xFFFFFFFF; crc32("123456789") == 0xCBF43926. Pass a previous result as `crc` to continue
/// it: crc32(b, crc32(a)) == crc32(a + b). The pointer form takes zlib's argument order,
/// crc32(crc, data, size), with 0 to start.
constexpr std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) noexcept {
  crc = ~crc;
  for (const char ch : bytes) crc = detail::crc32_table[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}
inline std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = detail::crc32_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

// --- the container --------------------------------------------------------------------------

inline constexpr std::uint32_t model_file_version = 1;
/// "SMLMNET" then 0x1A (Ctrl-Z: stops a text dump on DOS consoles, as PNG's signature does).
inline constexpr std::array<char, 8> model_file_magic = {'S', 'M', 'L', 'M', 'N', 'E', 'T', '\x1a'};
/// Caps a reader enforces (and a writer, so that what it writes can be read back).
inline constexpr std::uint32_t model_file_max_metadata = 1u << 20;
inline constexpr std::uint32_t model_file_max_tensors = 1u << 20;
inline constexpr std::int64_t model_file_max_extent = (std::int64_t(1) << 31) - 1;  ///< per dimension
inline constexpr std::int64_t model_file_max_tensor_elements = std::int64_t(1) << 31;  ///< 8 GiB of float32

/// Metadata values; the type tag in the file is the alternative's index + 1.
using MetaValue = std::variant<std::int64_t, double, std::string, std::vector<double>>;
struct MetaEntry {
  std::string key;
  MetaValue value;
};
struct NamedTensor {
  std::string name;
  Tensor<float> tensor;
};

/// The name of a MetaValue alternative as messages and docs/formats.md spell it.
constexpr std::string_view meta_type_name(std::size_t index) noexcept {
  constexpr std::string_view names[] = {"int64", "float64", "string", "float64 array"};
  return index < 4 ? names[index] : std::string_view("unknown");
}

namespace detail {
/// `s` in double quotes with '"', '\\' and control bytes escaped (a message stays one line);
/// cut after 80 bytes.
inline std::string quote_bytes(std::string_view s) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max_shown) out += "...";
  out += '"';
  return out;
}

inline std::string shape_string(const Shape& s) {
  return str_cat("[", s.n, ", ", s.c, ", ", s.h, ", ", s.w, "]");
}
inline std::string shape_string(const std::array<std::int64_t, 4>& s) {
  return str_cat("[", s[0], ", ", s[1], ", ", s[2], ", ", s[3], "]");
}

inline std::string_view source_or_stream(std::string_view source) {
  return source.empty() ? std::string_view("<stream>") : source;
}

/// Empty when the extents are acceptable; otherwise what is wrong with them. Products are formed
/// only of non-zero extents below the caps, so nothing overflows (Shape::size multiplies left to
/// right, and every partial product is bounded by the element cap).
inline std::string check_extents(const std::array<std::int64_t, 4>& e) {
  for (const std::int64_t d : e) {
    if (d < 0) return str_cat("shape ", shape_string(e), " has a negative extent");
    if (d > model_file_max_extent) return str_cat("shape ", shape_string(e), " has an extent above ", model_file_max_extent);
  }
  std::int64_t product = 1;
  for (const std::int64_t d : e) {
    if (d == 0) continue;
    if (product > model_file_max_tensor_elements / d)
      return str_cat("shape ", shape_string(e), " has more than ", model_file_max_tensor_elements, " elements");
    product *= d;
  }
  return {};
}
}  // namespace detail

/// What a model file holds: metadata and tensors in file order, keys and names unique.
struct ModelFile {
  std::vector<MetaEntry> metadata;
  std::vector<NamedTensor> tensors;
  std::string source;  ///< where it was read from (a path or "<stream>"), for messages; not stored

  const MetaEntry* find(std::string_view key) const noexcept {
    for (const auto& e : metadata)
      if (e.key == key) return &e;
    return nullptr;
  }
  const NamedTensor* find_tensor(std::string_view name) const noexcept {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  /// The value under `key`; errc::format_error naming the source, the key and the expected type
  /// when the key is missing or holds another type (no conversion between types).
  Expected<std::int64_t> get_int(std::string_view key) const { return get_as<std::int64_t>(key); }
  Expected<double> get_double(std::string_view key) const { return get_as<double>(key); }
  Expected<std::string> get_string(std::string_view key) const { return get_as<std::string>(key); }
  Expected<std::vector<double>> get_doubles(std::string_view key) const { return get_as<std::vector<double>>(key); }

  /// Replaces the value under `key`, or appends the entry when the key is new.
  void set(std::string key, MetaValue value) {
    for (auto& e : metadata) {
      if (e.key == key) {
        e.value = std::move(value);
        return;
      }
    }
    metadata.push_back({std::move(key), std::move(value)});
  }
  /// Replaces the tensor called `name`, or appends it when the name is new.
  void set_tensor(std::string name, Tensor<float> tensor) {
    for (auto& t : tensors) {
      if (t.name == name) {
        t.tensor = std::move(tensor);
        return;
      }
    }
    tensors.push_back({std::move(name), std::move(tensor)});
  }

 private:
  template <class V>
  Expected<V> get_as(std::string_view key) const {
    constexpr std::size_t want = [] {
      if constexpr (std::is_same_v<V, std::int64_t>) return 0;
      else if constexpr (std::is_same_v<V, double>) return 1;
      else if constexpr (std::is_same_v<V, std::string>) return 2;
      else return 3;
    }();
    const MetaEntry* e = find(key);
    if (!e)
      return make_error(errc::format_error, detail::source_or_stream(source), ": metadata key ", detail::quote_bytes(key),
                        " is missing (expected ", meta_type_name(want), ")");
    if (e->value.index() != want)
      return make_error(errc::format_error, detail::source_or_stream(source), ": metadata key ", detail::quote_bytes(key),
                        " has type ", meta_type_name(e->value.index()), ", expected ", meta_type_name(want));
    return std::get<want>(e->value);
  }
};

// --- writing --------------------------------------------------------------------------------

namespace detail {

/// Little-endian encoding of the low `bytes` bytes of v.
inline void put_le(unsigned char* out, std::uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint64_t get_le(const unsigned char* in, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(in[i]) << (8 * i);
  return v;
}

/// Writes bytes to a stream and keeps the running CRC-32 of everything written.
class ModelFileWriter {
 public:
  explicit ModelFileWriter(std::ostream& out) noexcept : out_(out) {}

  void bytes(const void* data, std::size_t size) {
    if (size == 0) return;
    crc_ = crc32(crc_, data, size);
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  void uint(std::uint64_t v, int size) {
    unsigned char b[8];
    put_le(b, v, size);
    bytes(b, static_cast<std::size_t>(size));
  }
  void text(std::string_view s) { bytes(s.data(), s.size()); }
  /// float or double elements as their little-endian IEEE bits.
  template <class F>
  void floats(const F* data, std::size_t count) {
    using Bits = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;
    if constexpr (std::endian::native == std::endian::little) {
      bytes(data, count * sizeof(F));
    } else {
      unsigned char buffer[4096];
      constexpr std::size_t per = sizeof(buffer) / sizeof(F);
      for (std::size_t i = 0; i < count; i += per) {
        const std::size_t k = std::min(per, count - i);
        for (std::size_t j = 0; j < k; ++j)
          put_le(buffer + j * sizeof(F), std::bit_cast<Bits>(data[i + j]), int(sizeof(F)));
        bytes(buffer, k * sizeof(F));
      }
    }
  }
  std::uint32_t crc() const noexcept { return crc_; }
  bool good() const { return bool(out_); }

 private:
  std::ostream& out_;
  std::uint32_t crc_ = 0;
};

/// Everything a writer refuses, checked before the first byte is written (errc::invalid_argument).
inline Status check_model_file_writable(const ModelFile& file, std::string_view target) {
  if (file.metadata.size() > model_file_max_metadata)
    return make_error(errc::invalid_argument, target, ": ", file.metadata.size(), " metadata entries, more than the limit ",
                      model_file_max_metadata);
  if (file.tensors.size() > model_file_max_tensors)
    return make_error(errc::invalid_argument, target, ": ", file.tensors.size(), " tensors, more than the limit ",
                      model_file_max_tensors);
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < file.metadata.size(); ++i) {
    const MetaEntry& e = file.metadata[i];
    if (e.key.empty()) return make_error(errc::invalid_argument, target, ": metadata entry ", i, " has an empty key");
    if (e.key.size() > 0xFFFF)
      return make_error(errc::invalid_argument, target, ": metadata key ", quote_bytes(e.key), " is ", e.key.size(),
                        " bytes long, more than 65535");
    if (!seen.insert(e.key).second)
      return make_error(errc::invalid_argument, target, ": metadata key ", quote_bytes(e.key), " appears twice");
    if (e.value.valueless_by_exception())
      return make_error(errc::invalid_argument, target, ": metadata key ", quote_bytes(e.key), " has no value");
    const std::size_t length = std::visit(
        [](const auto& v) -> std::size_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string> ||
                        std::is_same_v<std::decay_t<decltype(v)>, std::vector<double>>)
            return v.size();
          else
            return 0;
        },
        e.value);
    if (length > 0xFFFFFFFFu)
      return make_error(errc::invalid_argument, target, ": metadata key ", quote_bytes(e.key), ": a ",
                        meta_type_name(e.value.index()), " of ", length, " elements does not fit a u32 length");
  }
  seen.clear();
  for (std::size_t i = 0; i < file.tensors.size(); ++i) {
    const NamedTensor& t = file.tensors[i];
    if (t.name.empty()) return make_error(errc::invalid_argument, target, ": tensor ", i, " has an empty name");
    if (t.name.size() > 0xFFFF)
      return make_error(errc::invalid_argument, target, ": tensor name ", quote_bytes(t.name), " is ", t.name.size(),
                        " bytes long, more than 65535");
    if (!seen.insert(t.name).second)
      return make_error(errc::invalid_argument, target, ": tensor name ", quote_bytes(t.name), " appears twice");
    const Shape& s = t.tensor.shape();
    const std::string bad = check_extents({s.n, s.c, s.h, s.w});
    if (!bad.empty()) return make_error(errc::invalid_argument, target, ": tensor ", quote_bytes(t.name), ": ", bad);
  }
  return {};
}

inline Status write_model_file_to(std::ostream& out, const ModelFile& file, std::string_view target) {
  SMLM_TRY(check_model_file_writable(file, target));
  ModelFileWriter w(out);
  w.bytes(model_file_magic.data(), model_file_magic.size());
  w.uint(model_file_version, 4);
  w.uint(0, 4);
  w.uint(file.metadata.size(), 4);
  for (const MetaEntry& e : file.metadata) {
    w.uint(e.key.size(), 2);
    w.text(e.key);
    w.uint(e.value.index() + 1, 1);
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::int64_t>) {
            w.uint(static_cast<std::uint64_t>(v), 8);
          } else if constexpr (std::is_same_v<V, double>) {
            w.floats(&v, 1);
          } else if constexpr (std::is_same_v<V, std::string>) {
            w.uint(v.size(), 4);
            w.text(v);
          } else {
            w.uint(v.size(), 4);
            w.floats(v.data(), v.size());
          }
        },
        e.value);
  }
  w.uint(file.tensors.size(), 4);
  for (const NamedTensor& t : file.tensors) {
    w.uint(t.name.size(), 2);
    w.text(t.name);
    w.uint(1, 1);  // dtype float32
    const Shape& s = t.tensor.shape();
    for (const std::ptrdiff_t d : {s.n, s.c, s.h, s.w}) w.uint(static_cast<std::uint64_t>(d), 8);
    w.floats(t.tensor.data(), static_cast<std::size_t>(t.tensor.size()));
    if (!w.good()) break;
  }
  w.uint(w.crc(), 4);
  out.flush();
  if (!out) return make_error(errc::io_error, target, ": write failed: ", std::strerror(errno));
  return {};
}

}  // namespace detail

/// Writes `file` in the format above. errc::invalid_argument (nothing written) when the file
/// breaks a rule of the format — an empty or duplicate key or name, a key or name over 65535
/// bytes, a count or tensor size over the caps; errc::io_error when the stream fails. Messages
/// name the output "<stream>" (save_model_file names the path).
inline Status write_model_file(std::ostream& out, const ModelFile& file) {
  return detail::write_model_file_to(out, file, "<stream>");
}

// --- reading --------------------------------------------------------------------------------

namespace detail {

inline std::string hex32(std::uint64_t v) {
  constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 15];
  return s;
}

inline std::string hex_bytes(const char* bytes, std::size_t count) {
  constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < count; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (i) s += ' ';
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

/// Reads exact byte counts from a stream, keeps the running CRC-32 of what it read and the
/// offset, and turns a short read into one line naming the source, the field and its offset.
class ModelFileReader {
 public:
  ModelFileReader(std::istream& in, std::string_view source) noexcept : in_(in), source_(source) {}

  std::uint64_t offset() const noexcept { return offset_; }
  std::uint32_t crc() const noexcept { return crc_; }
  std::string_view source() const noexcept { return source_; }
  bool io_failed() const { return in_.bad(); }

  /// Reads up to `size` bytes and returns how many arrived (fewer only at the end of the input).
  std::size_t some(void* data, std::size_t size) {
    if (size == 0) return 0;
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(size));
    const auto got = static_cast<std::size_t>(in_.gcount());
    crc_ = crc32(crc_, data, got);
    offset_ += got;
    return got;
  }

  /// Reads exactly `size` bytes. `what()` names the field (called only on error); field_start
  /// and field_size describe the whole field when this read is one piece of it.
  template <class What>
  Status bytes(void* data, std::size_t size, const What& what, std::uint64_t field_start, std::uint64_t field_size) {
    if (some(data, size) == size) return {};
    if (in_.bad()) return make_error(errc::io_error, source_, ": read failed at byte ", offset_, " (", what(), ")");
    return make_error(errc::format_error, source_, ": truncated: ", what(), " at byte ", field_start, " needs ",
                      field_size, field_size == 1 ? " byte" : " bytes", ", the input ends after ", offset_ - field_start);
  }
  template <class What>
  Status bytes(void* data, std::size_t size, const What& what) {
    return bytes(data, size, what, offset_, size);
  }
  /// An unsigned little-endian integer of `size` bytes.
  template <class What>
  Status uint(std::uint64_t& value, int size, const What& what) {
    unsigned char b[8];
    SMLM_TRY(bytes(b, static_cast<std::size_t>(size), what));
    value = get_le(b, size);
    return {};
  }
  /// `count` elements into `out` (std::string, std::vector<float>, std::vector<double>), read in
  /// 64 KiB pieces: a declared count past the end of the input allocates no more than the input
  /// holds. Floats are decoded from little-endian IEEE bits.
  template <class Container, class What>
  Status elements(Container& out, std::uint64_t count, const What& what) {
    using E = typename Container::value_type;
    const std::uint64_t field_start = offset_;
    out.clear();
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(E))
      return make_error(errc::format_error, source_, ": ", what(), " at byte ", field_start, ": ", count,
                        " elements cannot be addressed");
    const std::uint64_t field_size = count * sizeof(E);
    constexpr std::size_t piece = (std::size_t(64) << 10) / sizeof(E);
    while (out.size() < count) {
      const std::size_t done = out.size();
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(piece, count - done));
      out.resize(done + k);
      SMLM_TRY(bytes(out.data() + done, k * sizeof(E), what, field_start, field_size));
    }
    if constexpr (std::is_floating_point_v<E> && std::endian::native != std::endian::little) {
      using Bits = std::conditional_t<sizeof(E) == 4, std::uint32_t, std::uint64_t>;
      for (auto& x : out) {
        unsigned char b[sizeof(E)];
        std::memcpy(b, &x, sizeof(E));
        x = std::bit_cast<E>(static_cast<Bits>(get_le(b, int(sizeof(E)))));
      }
    }
    return {};
  }

 private:
  std::istream& in_;
  std::string_view source_;
  std::uint64_t offset_ = 0;
  std::uint32_t crc_ = 0;
};

/// The magic bytes, read so that another kind of file is named as such rather than as truncated.
inline Status read_model_magic(ModelFileReader& r) {
  std::array<char, 8> magic{};
  const std::size_t got = r.some(magic.data(), magic.size());
  if (r.io_failed()) return make_error(errc::io_error, r.source(), ": read failed in the magic bytes at byte 0");
  if (got == 0) return make_error(errc::format_error, r.source(), ": not a smlmkit model file: the input is empty");
  if (std::memcmp(magic.data(), model_file_magic.data(), got) != 0)
    return make_error(errc::format_error, r.source(), ": not a smlmkit model file: it starts with ",
                      hex_bytes(magic.data(), got), ", not the magic bytes ",
                      hex_bytes(model_file_magic.data(), model_file_magic.size()), " (\"SMLMNET\" 0x1A)");
  if (got < magic.size())
    return make_error(errc::format_error, r.source(), ": truncated: the magic bytes at byte 0 need 8 bytes, the input ends after ",
                      got);
  return {};
}

inline Status read_model_metadata(ModelFileReader& r, ModelFile& file) {
  const std::string_view src = r.source();
  std::uint64_t count = 0;
  const std::uint64_t count_at = r.offset();
  SMLM_TRY(r.uint(count, 4, [] { return std::string("the metadata count"); }));
  if (count > model_file_max_metadata)
    return make_error(errc::format_error, src, ": metadata count ", count, " at byte ", count_at, " is above the limit ",
                      model_file_max_metadata);
  std::unordered_set<std::string> keys;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = r.offset();
    std::uint64_t key_size = 0;
    SMLM_TRY(r.uint(key_size, 2, [&] { return str_cat("the key length of metadata entry ", i); }));
    if (key_size == 0) return make_error(errc::format_error, src, ": metadata entry ", i, " at byte ", at, " has an empty key");
    std::string key;
    SMLM_TRY(r.elements(key, key_size, [&] { return str_cat("the key of metadata entry ", i); }));
    if (!keys.insert(key).second)
      return make_error(errc::format_error, src, ": metadata entry ", i, " at byte ", at, ": duplicate key ", quote_bytes(key));
    std::uint64_t tag = 0;
    const std::uint64_t tag_at = r.offset();
    SMLM_TRY(r.uint(tag, 1, [&] { return str_cat("the type tag of metadata entry ", i, " ", quote_bytes(key)); }));
    if (tag < 1 || tag > 4)
      return make_error(errc::format_error, src, ": metadata entry ", i, " ", quote_bytes(key), ": unknown type tag ", tag,
                        " at byte ", tag_at, " (1 int64, 2 float64, 3 string, 4 float64 array)");
    const auto value_what = [&] { return str_cat("the ", meta_type_name(tag - 1), " value of metadata entry ", i, " ", quote_bytes(key)); };
    const auto length_what = [&] { return str_cat("the length of the ", meta_type_name(tag - 1), " value of metadata entry ", i, " ", quote_bytes(key)); };
    MetaValue value;
    std::uint64_t bits = 0;
    if (tag == 1) {
      SMLM_TRY(r.uint(bits, 8, value_what));
      value = std::bit_cast<std::int64_t>(bits);
    } else if (tag == 2) {
      SMLM_TRY(r.uint(bits, 8, value_what));
      value = std::bit_cast<double>(bits);
    } else if (tag == 3) {
      std::uint64_t size = 0;
      SMLM_TRY(r.uint(size, 4, length_what));
      std::string s;
      SMLM_TRY(r.elements(s, size, value_what));
      value = std::move(s);
    } else {
      std::uint64_t size = 0;
      SMLM_TRY(r.uint(size, 4, length_what));
      std::vector<double> v;
      SMLM_TRY(r.elements(v, size, value_what));
      value = std::move(v);
    }
    file.metadata.push_back({std::move(key), std::move(value)});
  }
  return {};
}

inline Status read_model_tensors(ModelFileReader& r, ModelFile& file) {
  const std::string_view src = r.source();
  std::uint64_t count = 0;
  const std::uint64_t count_at = r.offset();
  SMLM_TRY(r.uint(count, 4, [] { return std::string("the tensor count"); }));
  if (count > model_file_max_tensors)
    return make_error(errc::format_error, src, ": tensor count ", count, " at byte ", count_at, " is above the limit ",
                      model_file_max_tensors);
  std::unordered_set<std::string> names;
  std::vector<float> data;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = r.offset();
    std::uint64_t name_size = 0;
    SMLM_TRY(r.uint(name_size, 2, [&] { return str_cat("the name length of tensor ", i); }));
    if (name_size == 0) return make_error(errc::format_error, src, ": tensor ", i, " at byte ", at, " has an empty name");
    std::string name;
    SMLM_TRY(r.elements(name, name_size, [&] { return str_cat("the name of tensor ", i); }));
    if (!names.insert(name).second)
      return make_error(errc::format_error, src, ": tensor ", i, " at byte ", at, ": duplicate name ", quote_bytes(name));
    std::uint64_t dtype = 0;
    const std::uint64_t dtype_at = r.offset();
    SMLM_TRY(r.uint(dtype, 1, [&] { return str_cat("the dtype of tensor ", i, " ", quote_bytes(name)); }));
    if (dtype != 1)
      return make_error(errc::format_error, src, ": tensor ", i, " ", quote_bytes(name), ": unknown dtype ", dtype, " at byte ",
                        dtype_at, " (1 float32)");
    std::array<std::int64_t, 4> extents{};
    const std::uint64_t shape_at = r.offset();
    for (auto& e : extents) {
      std::uint64_t bits = 0;
      SMLM_TRY(r.uint(bits, 8, [&] { return str_cat("the shape of tensor ", i, " ", quote_bytes(name)); }));
      e = std::bit_cast<std::int64_t>(bits);
    }
    if (const std::string bad = check_extents(extents); !bad.empty())
      return make_error(errc::format_error, src, ": tensor ", i, " ", quote_bytes(name), " at byte ", shape_at, ": ", bad);
    const Shape shape{extents[0], extents[1], extents[2], extents[3]};
    SMLM_TRY(r.elements(data, static_cast<std::uint64_t>(shape.size()),
                        [&] { return str_cat("the data of tensor ", i, " ", quote_bytes(name), " ", shape_string(shape)); }));
    Tensor<float> tensor(shape);
    if (!data.empty()) std::memcpy(tensor.data(), data.data(), data.size() * sizeof(float));
    file.tensors.push_back({std::move(name), std::move(tensor)});
  }
  return {};
}

}  // namespace detail

/// Reads one model file from `in`, leaving the stream just after its CRC. `source` names the
/// input in messages and is kept in ModelFile::source. Errors, one line each naming the source:
///   errc::format_error  not a model file (bad magic); truncated (the field, entry and byte
///                       offset); CRC mismatch (stored and computed values); version 0 or a flag
///                       set; an empty or duplicate key or name; an unknown type tag or dtype; a
///                       count or a shape over the caps, or a negative extent;
///   errc::unsupported   "format version N is newer than this build reads (1)";
///   errc::io_error      the stream failed.
inline Expected<ModelFile> read_model_file(std::istream& in, std::string source = "<stream>") {
  if (source.empty()) source = "<stream>";
  const std::string_view src = source;
  detail::ModelFileReader r(in, src);
  SMLM_TRY(detail::read_model_magic(r));
  std::uint64_t version = 0, flags = 0;
  SMLM_TRY(r.uint(version, 4, [] { return std::string("the format version"); }));
  if (version > model_file_version)
    return make_error(errc::unsupported, src, ": format version ", version, " is newer than this build reads (",
                      model_file_version, ")");
  if (version == 0) return make_error(errc::format_error, src, ": format version 0 at byte 8 is not a valid version");
  SMLM_TRY(r.uint(flags, 4, [] { return std::string("the flags"); }));
  if (flags != 0)
    return make_error(errc::format_error, src, ": flags ", detail::hex32(flags),
                      " at byte 12: format version 1 defines no flags (they must be 0)");
  ModelFile file;
  SMLM_TRY(detail::read_model_metadata(r, file));
  SMLM_TRY(detail::read_model_tensors(r, file));
  const std::uint32_t computed = r.crc();
  const std::uint64_t crc_at = r.offset();
  std::uint64_t stored = 0;
  SMLM_TRY(r.uint(stored, 4, [] { return std::string("the CRC-32"); }));
  if (stored != computed)
    return make_error(errc::format_error, src, ": CRC-32 mismatch: stored ", detail::hex32(stored), " at byte ", crc_at,
                      ", computed ", detail::hex32(computed), " over bytes 0..", crc_at - 1, " (the file is corrupt)");
  file.source = std::move(source);
  return file;
}

/// Writes `file` to "<path>.tmp" and renames it over `path` once it is complete, so `path` never
/// holds a half-written file (a crash or a full disk leaves the old file, or none). The .tmp file
/// is removed when anything fails. Errors as write_model_file, plus errc::io_error naming the
/// path when the file cannot be created, written or renamed.
inline Status save_model_file(const std::string& path, const ModelFile& file) {
  namespace fs = std::filesystem;
  SMLM_TRY(detail::check_model_file_writable(file, path));
  const std::string tmp = path + ".tmp";
  Status status;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(errc::io_error, path, ": cannot create ", tmp, ": ", std::strerror(errno));
    status = detail::write_model_file_to(out, file, path);
    out.close();
    if (status.ok() && !out) status = make_error(errc::io_error, path, ": write failed: ", std::strerror(errno));
  }
  std::error_code ec;
  if (status.ok()) {
    fs::rename(tmp, path, ec);
    if (ec) status = make_error(errc::io_error, path, ": cannot replace it with ", tmp, ": ", ec.message());
  }
  if (!status.ok()) fs::remove(tmp, ec);
  return status;
}

/// Reads the model file at `path` (ModelFile::source = path). Errors as read_model_file, plus
/// errc::io_error when it cannot be opened, and errc::format_error when bytes follow the CRC.
inline Expected<ModelFile> load_model_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return make_error(errc::io_error, path, ": cannot open: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::io_error, path, ": cannot open: ", std::strerror(errno));
  auto file = read_model_file(in, path);
  if (!file) return file;
  const auto end = in.tellg();
  if (in.peek() != std::ifstream::traits_type::eof())
    return make_error(errc::format_error, path, ": unexpected bytes after the CRC-32, which ends at byte ",
                      static_cast<long long>(end));
  return file;
}

// --- networks -------------------------------------------------------------------------------

namespace detail {

/// i when `name` is prefix + decimal i (no sign, no leading zero) + suffix; otherwise -1.
inline std::int64_t network_entry_index(std::string_view name, std::string_view prefix, std::string_view suffix) noexcept {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) return -1;
  const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || (digits.size() > 1 && digits[0] == '0')) return -1;
  std::int64_t i = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return -1;
    i = i * 10 + (c - '0');
  }
  return i;
}
inline bool is_network_tensor(std::string_view name, const std::string& param, const std::string& buffer) noexcept {
  return network_entry_index(name, param, "") >= 0 || network_entry_index(name, param, ".m") >= 0 ||
         network_entry_index(name, param, ".v") >= 0 || network_entry_index(name, buffer, "") >= 0;
}

template <class T>
Tensor<float> to_float_tensor(const Tensor<T>& t) {
  if constexpr (std::is_same_v<T, float>) {
    return t;
  } else {
    Tensor<float> out(t.shape());
    for (std::ptrdiff_t i = 0; i < t.size(); ++i) out[i] = static_cast<float>(t[i]);
    return out;
  }
}
/// Copies `src` into `dst`, reusing dst's storage when the shapes agree.
template <class T>
void assign_tensor(Tensor<T>& dst, const Tensor<float>& src) {
  if (dst.shape() != src.shape()) dst = Tensor<T>(src.shape());
  for (std::ptrdiff_t i = 0; i < src.size(); ++i) dst[i] = static_cast<T>(src[i]);
}

}  // namespace detail

/// Puts the network's parameters and buffers into `file` as tensors "param.<i>" and
/// "buffer.<i>" (and, with_optimizer_state, "param.<i>.m", "param.<i>.v" and the int64 metadata
/// "param.<i>.steps"); the naming is in the header comment. Network entries already in `file`
/// are replaced; other metadata and tensors are kept. Double networks are rounded to float32.
/// A `prefix` names a second network in the same file ("disc." → "disc.param.<i>", …: a
/// discriminator beside its generator); networks under other prefixes are left alone.
template <class Net>
void store_network(Net& net, ModelFile& file, bool with_optimizer_state = false, std::string_view prefix = {}) {
  const std::string param = std::string(prefix) + "param.", buffer = std::string(prefix) + "buffer.";
  std::erase_if(file.tensors, [&](const NamedTensor& t) { return detail::is_network_tensor(t.name, param, buffer); });
  std::erase_if(file.metadata, [&](const MetaEntry& e) { return detail::network_entry_index(e.key, param, ".steps") >= 0; });
  std::vector<NamedTensor> state;
  std::int64_t i = 0;
  net.for_each_parameter([&](auto& p) {
    const std::string name = param + std::to_string(i++);
    file.tensors.push_back({name, detail::to_float_tensor(p.value)});
    if (!with_optimizer_state) return;
    if (!p.moment1.empty()) state.push_back({name + ".m", detail::to_float_tensor(p.moment1)});
    if (!p.moment2.empty()) state.push_back({name + ".v", detail::to_float_tensor(p.moment2)});
    file.metadata.push_back({name + ".steps", std::int64_t(p.steps)});
  });
  i = 0;
  nn::for_each_buffer(net, [&](auto& b) { file.tensors.push_back({buffer + std::to_string(i++), detail::to_float_tensor(b)}); });
  for (auto& t : state) file.tensors.push_back(std::move(t));
}

/// Loads the network's parameters and buffers from `file` (names as store_network), and with
/// with_optimizer_state also each parameter's moments (a moment absent from the file is left
/// unsized, as before a first step) and step count (required). Everything is checked before
/// anything changes: on an error (errc::format_error naming the source and the tensor: a tensor
/// missing, counts that differ, a shape that differs — both shapes given —, a step count missing
/// or negative) the network is left as it was. Without with_optimizer_state the network's
/// optimizer state is left untouched. `prefix`: as store_network's.
template <class Net>
Status restore_network(Net& net, const ModelFile& file, bool with_optimizer_state = false, std::string_view prefix = {}) {
  const std::string_view src = detail::source_or_stream(file.source);
  const std::string param = std::string(prefix) + "param.", buffer = std::string(prefix) + "buffer.";
  std::int64_t net_params = 0, net_buffers = 0, file_params = 0, file_buffers = 0;
  net.for_each_parameter([&](auto&) { ++net_params; });
  nn::for_each_buffer(net, [&](auto&) { ++net_buffers; });
  for (const NamedTensor& t : file.tensors) {
    file_params += detail::network_entry_index(t.name, param, "") >= 0;
    file_buffers += detail::network_entry_index(t.name, buffer, "") >= 0;
  }
  const auto check = [&](const std::string& name, const Shape& want, const char* kind, std::int64_t in_net,
                         std::int64_t in_file) -> Status {
    const NamedTensor* t = file.find_tensor(name);
    if (!t)
      return make_error(errc::format_error, src, ": no tensor ", detail::quote_bytes(name), " (the network has ", in_net, " ", kind,
                        " tensors, the file ", in_file, ")");
    if (t->tensor.shape() != want)
      return make_error(errc::format_error, src, ": tensor ", detail::quote_bytes(name), " has shape ",
                        detail::shape_string(t->tensor.shape()), " in the file, the network expects ", detail::shape_string(want));
    return {};
  };

  Status status;
  std::int64_t i = 0;
  net.for_each_parameter([&](auto& p) {
    const std::string name = param + std::to_string(i++);
    if (!status.ok()) return;
    status = check(name, p.value.shape(), "parameter", net_params, file_params);
    if (!status.ok() || !with_optimizer_state) return;
    const auto steps = file.get_int(name + ".steps");
    if (!steps) {
      status = make_error(errc::format_error, steps.message(), " (the optimizer state of ", detail::quote_bytes(name), ")");
      return;
    }
    if (*steps < 0) {
      status = make_error(errc::format_error, src, ": metadata key ", detail::quote_bytes(name + ".steps"), " = ", *steps,
                          " is negative");
      return;
    }
    for (const char* suffix : {".m", ".v"}) {
      const NamedTensor* m = file.find_tensor(name + suffix);
      if (m && m->tensor.shape() != p.value.shape()) {
        status = make_error(errc::format_error, src, ": tensor ", detail::quote_bytes(name + suffix), " has shape ",
                            detail::shape_string(m->tensor.shape()), " in the file, the network expects ",
                            detail::shape_string(p.value.shape()));
        return;
      }
    }
  });
  SMLM_TRY(status);
  if (file_params != net_params)
    return make_error(errc::format_error, src, ": the file holds ", file_params, " parameter tensors (", param, "<i>), the network ",
                      net_params);
  i = 0;
  nn::for_each_buffer(net, [&](auto& b) {
    const std::string name = buffer + std::to_string(i++);
    if (status.ok()) status = check(name, b.shape(), "buffer", net_buffers, file_buffers);
  });
  SMLM_TRY(status);
  if (file_buffers != net_buffers)
    return make_error(errc::format_error, src, ": the file holds ", file_buffers, " buffer tensors (", buffer, "<i>), the network ",
                      net_buffers);

  i = 0;
  net.for_each_parameter([&](auto& p) {
    const std::string name = param + std::to_string(i++);
    detail::assign_tensor(p.value, file.find_tensor(name)->tensor);
    if (!with_optimizer_state) return;
    p.steps = *file.get_int(name + ".steps");
    using TensorT = std::remove_reference_t<decltype(p.moment1)>;
    if (const NamedTensor* m = file.find_tensor(name + ".m")) detail::assign_tensor(p.moment1, m->tensor);
    else p.moment1 = TensorT();
    if (const NamedTensor* v = file.find_tensor(name + ".v")) detail::assign_tensor(p.moment2, v->tensor);
    else p.moment2 = TensorT();
  });
  i = 0;
  nn::for_each_buffer(net, [&](auto& b) { detail::assign_tensor(b, file.find_tensor(buffer + std::to_string(i++))->tensor); });
  return {};
}

}  // namespace smlm::nn
