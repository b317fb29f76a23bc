// Bit-level writing and bounds-checked reading of the codec's bitstream: fixed-length u(n),
// Exp-Golomb ue(v) / se(v) (H.264 §9.1, §9.1.1), and the run–level coding of one zig-zag-scanned
// block of levels (smlmkit's own format, below; CAVLC/CABAC are not implemented).
//
// Bits are written and read most significant bit first, as in H.264 (§7.2 "read_bits").
//
// Allocation: bit_writer never allocates except in reserve() on a writer made by
// bit_writer::appending_to(vector) — the one function here that may allocate (and so may throw
// std::bad_alloc, or abort when exceptions are off). Everything else is noexcept, or SMLM_NOEXCEPT
// where a precondition is checked with SMLM_ASSERT. An encoder calls reserve() once per
// macroblock with a worst-case size (run_level_max_bits), between kernels, never inside one.
//
// Errors are sticky values, not exceptions: the first failure is kept in error() and every later
// read returns 0 without moving; a writer that runs out of room drops the rest and reports
// buffer_full. A reader never touches a byte outside the span it was given, whatever the data.
//
// Run–level format of a block of N levels in scan order (N = 16 for a 4×4 block, 15 for an
// Intra16×16 AC block, which starts at scan position 1):
//   ue(total)              number of non-zero levels, 0 ≤ total ≤ N
//   then, for each non-zero level in scan order:
//     ue(run)              zeros between it and the previous non-zero level (or the block start);
//                          omitted when it must be 0, i.e. when the positions left equal the
//                          non-zero levels left
//     ue(level_code)       2·(|level| − 1) + (level < 0): levels are never 0, so +1 costs 1 bit
//                          and −1 3 bits; every non-zero int16 level, −32768 … 32767, fits
// Zeros after the last non-zero level are implied. An all-zero block costs 1 bit; the worst case
// is run_level_max_bits(N). The decoder rejects total > N, a run longer than the positions left,
// and a level outside int16 (value_out_of_range).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include <smlm/core/config.hpp>

namespace smlm::codec {

enum class bitstream_error : std::uint8_t {
  none = 0,
  end_of_data,         ///< a read needs more bits than remain (truncated stream)
  code_too_long,       ///< an Exp-Golomb prefix of 32 or more zero bits: codeNum exceeds 2^32 − 2
  value_out_of_range,  ///< a syntax element decoded to a value its context does not allow
  buffer_full,         ///< a write did not fit the writer's buffer
};

constexpr std::string_view to_string(bitstream_error error) noexcept {
  switch (error) {
    case bitstream_error::none: return "ok";
    case bitstream_error::end_of_data: return "unexpected end of bitstream";
    case bitstream_error::code_too_long: return "Exp-Golomb code longer than 32 bits";
    case bitstream_error::value_out_of_range: return "syntax element out of range";
    case bitstream_error::buffer_full: return "bitstream buffer full";
  }
  return "unknown bitstream error";
}

/// Largest value ue(v) can carry: 2^32 − 2 (31 leading zeros).
inline constexpr std::uint32_t ue_max = 0xFFFFFFFEu;
/// se(v) carries [−se_max, se_max], se_max = 2^31 − 1.
inline constexpr std::int32_t se_max = 0x7FFFFFFF;

namespace detail {
constexpr std::uint64_t byteswap64(std::uint64_t v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap64(v);
#else
  std::uint64_t r = 0;
  for (int k = 0; k < 8; ++k) r = (r << 8) | ((v >> (8 * k)) & 0xFFu);
  return r;
#endif
}
}  // namespace detail

/// Writes bits MSB first into a byte buffer.
class bit_writer {
 public:
  /// Writes into `buffer` from its first byte; never allocates. When the buffer is full the rest
  /// is dropped and error() is buffer_full.
  explicit bit_writer(std::span<std::uint8_t> buffer) noexcept
      : data_(buffer.data()), capacity_(buffer.size()) {}

  /// Appends to the bytes already in `storage`, which must outlive the writer and must not be
  /// resized by anyone else while the writer is in use. Room is made only by reserve(); between
  /// reserve() and finish(), storage.size() includes reserved bytes not yet written, and finish()
  /// trims them.
  static bit_writer appending_to(std::vector<std::uint8_t>& storage) noexcept {
    bit_writer writer(std::span<std::uint8_t>(storage.data(), storage.size()));
    writer.storage_ = &storage;
    writer.start_ = writer.position_ = storage.size();
    return writer;
  }

  /// u(n): the `count` low bits of `value`, 0 ≤ count ≤ 32, value < 2^count.
  void put_bits(std::uint32_t value, int count) SMLM_NOEXCEPT {
    SMLM_ASSERT(count >= 0 && count <= 32, "bit_writer::put_bits: count must be in [0, 32]");
    SMLM_ASSERT(count == 32 || (std::uint64_t{value} >> count) == 0,
                "bit_writer::put_bits: value has more than `count` bits");
    cache_ = (cache_ << count) | value;
    cache_bits_ += count;
    bit_count_ += static_cast<std::uint64_t>(count);
    if (cache_bits_ >= 8) emit_whole_bytes();
  }

  void put_bit(bool bit) SMLM_NOEXCEPT { put_bits(bit ? 1u : 0u, 1); }

  /// ue(v), §9.1: codeNum = value as leadingZeroBits zeros, a 1, and leadingZeroBits info bits
  /// (value + 1 in binary, preceded by one zero per bit after its leading 1). value ≤ ue_max.
  void put_ue(std::uint32_t value) SMLM_NOEXCEPT {
    SMLM_ASSERT(value <= ue_max, "bit_writer::put_ue: value must be at most 2^32 - 2");
    const std::uint32_t code = value + 1;
    const int length = static_cast<int>(std::bit_width(code));
    if (length <= 16) {  // the whole code, leading zeros included, in one u(2·length − 1)
      put_bits(code, 2 * length - 1);
      return;
    }
    put_bits(0, length - 1);
    put_bits(code, length);
  }

  /// se(v), §9.1.1: codeNum = 2·value − 1 for value > 0, −2·value otherwise. |value| ≤ se_max.
  void put_se(std::int32_t value) SMLM_NOEXCEPT {
    SMLM_ASSERT(value >= -se_max, "bit_writer::put_se: value must be at least -(2^31 - 1)");
    const std::int64_t v = value;
    put_ue(static_cast<std::uint32_t>(v > 0 ? 2 * v - 1 : -2 * v));
  }

  /// rbsp_trailing_bits() (§7.3.2.11): a 1, then 0 bits up to the next byte boundary.
  void put_trailing_bits() SMLM_NOEXCEPT {
    put_bit(true);
    align_with_zeros();
  }

  /// 0 bits up to the next byte boundary (none when already aligned).
  void align_with_zeros() SMLM_NOEXCEPT {
    if (cache_bits_ != 0) put_bits(0, 8 - cache_bits_);
  }

  bool byte_aligned() const noexcept { return cache_bits_ == 0; }

  /// Ensures `bytes` more whole bytes fit. Fixed-buffer writers only check; appending writers grow
  /// their vector when needed — the only call in this header that may allocate. Returns whether
  /// the room is there. Does not clear an earlier buffer_full.
  bool reserve(std::size_t bytes) {
    if (capacity_ - position_ >= bytes) return true;
    if (storage_ == nullptr) return false;
    storage_->resize(position_ + bytes);
    data_ = storage_->data();
    capacity_ = storage_->size();
    return true;
  }

  /// Pads to a byte boundary with 0 bits and returns the bytes written (for an appending writer,
  /// those after its start; the vector is trimmed to end there, which does not allocate). The
  /// writer stays usable; what follows starts on a byte boundary.
  std::size_t finish() SMLM_NOEXCEPT {
    align_with_zeros();
    if (storage_ != nullptr) {
      storage_->resize(position_);
      data_ = storage_->data();
      capacity_ = storage_->size();
    }
    return position_ - start_;
  }

  /// The whole bytes written so far (after the start of an appending writer).
  std::span<const std::uint8_t> written() const noexcept { return {data_ + start_, position_ - start_}; }

  /// Bits put so far, including any dropped after the buffer filled: the size the stream needs.
  std::uint64_t bit_count() const noexcept { return bit_count_; }
  bitstream_error error() const noexcept { return error_; }
  bool ok() const noexcept { return error_ == bitstream_error::none; }

 private:
  /// Writes the whole bytes of the cache (1 to 4; cache_bits_ ≤ 39). With 8 bytes of room, one
  /// unaligned 8-byte big-endian store does it (the bytes past the whole ones are scratch inside
  /// the buffer, overwritten later or trimmed); otherwise byte by byte, dropping what does not fit.
  void emit_whole_bytes() noexcept {
    const int bytes = cache_bits_ / 8;
    if (capacity_ - position_ >= 8) {
      std::uint64_t word = cache_ << (64 - cache_bits_);
      if constexpr (std::endian::native == std::endian::little) word = detail::byteswap64(word);
      std::memcpy(data_ + position_, &word, 8);
      position_ += static_cast<std::size_t>(bytes);
    } else {
      for (int b = bytes - 1; b >= 0; --b) emit(static_cast<std::uint8_t>(cache_ >> (8 * b + cache_bits_ % 8)));
    }
    cache_bits_ %= 8;
    cache_ &= (std::uint64_t{1} << cache_bits_) - 1;
  }

  void emit(std::uint8_t byte) noexcept {
    if (position_ < capacity_) {
      data_[position_++] = byte;
    } else if (error_ == bitstream_error::none) {
      error_ = bitstream_error::buffer_full;
    }
  }

  std::vector<std::uint8_t>* storage_ = nullptr;
  std::uint8_t* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t position_ = 0;  ///< next byte to write
  std::uint64_t cache_ = 0;   ///< the cache_bits_ (< 8) bits not yet in a whole byte
  int cache_bits_ = 0;
  std::uint64_t bit_count_ = 0;
  bitstream_error error_ = bitstream_error::none;
};

/// Reads bits MSB first from a byte span, never outside it.
class bit_reader {
 public:
  explicit bit_reader(std::span<const std::uint8_t> data) noexcept
      : data_(data.data()), size_bytes_(data.size()), size_bits_(data.size() * 8) {}

  /// u(n), 0 ≤ count ≤ 32. Past the end: end_of_data, returns 0, does not move.
  std::uint32_t get_bits(int count) SMLM_NOEXCEPT {
    SMLM_ASSERT(count >= 0 && count <= 32, "bit_reader::get_bits: count must be in [0, 32]");
    if (!ok() || count == 0) return 0;
    if (static_cast<std::size_t>(count) > bits_left()) {
      fail(bitstream_error::end_of_data);
      return 0;
    }
    const auto value = static_cast<std::uint32_t>(peek64() >> (64 - count));
    position_ += static_cast<std::size_t>(count);
    return value;
  }

  bool get_bit() noexcept { return get_bits(1) != 0; }

  /// ue(v), §9.1. A prefix of 32 or more zeros is code_too_long (codeNum would exceed 2^32 − 2);
  /// a code cut by the end of the data, or only zeros up to the end, is end_of_data.
  /// Fast path: with 8 whole bytes from the current one, the peeked word holds at least 57 bits,
  /// so a code of at most 57 bits (≤ 28 leading zeros) is read from it without further checks.
  std::uint32_t get_ue() noexcept {
    const std::size_t byte = position_ / 8;
    if (ok() && byte + 8 <= size_bytes_) [[likely]] {
      std::uint64_t word;
      std::memcpy(&word, data_ + byte, 8);
      if constexpr (std::endian::native == std::endian::little) word = detail::byteswap64(word);
      word <<= position_ % 8;
      const int zeros = std::countl_zero(word);
      if (zeros <= 28) [[likely]] {
        const int length = 2 * zeros + 1;
        position_ += static_cast<std::size_t>(length);
        return static_cast<std::uint32_t>((word >> (64 - length)) - 1);
      }
    }
    return get_ue_checked();
  }

  /// se(v), §9.1.1: codeNum k maps to (−1)^(k+1)·⌈k/2⌉.
  std::int32_t get_se() noexcept {
    const std::int64_t k = get_ue();
    return static_cast<std::int32_t>(k % 2 == 1 ? (k + 1) / 2 : -(k / 2));
  }

  /// Records `error` unless an earlier one is recorded: the hook for syntax parsers layered on
  /// top (value_out_of_range). After it every read returns 0.
  void fail(bitstream_error error) noexcept {
    if (error_ == bitstream_error::none) error_ = error;
  }

  std::size_t bit_position() const noexcept { return position_; }
  std::size_t bits_left() const noexcept { return size_bits_ - position_; }
  bool byte_aligned() const noexcept { return position_ % 8 == 0; }
  bitstream_error error() const noexcept { return error_; }
  bool ok() const noexcept { return error_ == bitstream_error::none; }

 private:
  /// get_ue with every check (near the end of the data, long codes, errors).
  std::uint32_t get_ue_checked() noexcept {
    if (!ok()) return 0;
    const std::size_t left = bits_left();
    const std::uint64_t word = peek64();  // at least 57 valid bits, zero-padded past the end
    const auto prefix = static_cast<std::uint32_t>(word >> 32);
    if (prefix == 0) {
      fail(left <= 32 ? bitstream_error::end_of_data : bitstream_error::code_too_long);
      return 0;
    }
    const int zeros = std::countl_zero(prefix);  // leadingZeroBits, 0..31
    const int length = 2 * zeros + 1;
    if (static_cast<std::size_t>(length) > left) {
      fail(bitstream_error::end_of_data);
      return 0;
    }
    std::uint64_t code;  // 1 followed by `zeros` info bits
    if (length <= 57) {  // the whole code lies in the bits peeked already
      code = (word << zeros) >> (64 - (zeros + 1));
    } else {
      position_ += static_cast<std::size_t>(zeros);
      code = peek64() >> (64 - (zeros + 1));
      position_ -= static_cast<std::size_t>(zeros);
    }
    position_ += static_cast<std::size_t>(length);
    return static_cast<std::uint32_t>(code - 1);
  }

  /// The next 57 to 64 bits from the current position, left-aligned; bits past the end read 0.
  std::uint64_t peek64() const noexcept {
    const std::size_t byte = position_ / 8;
    std::uint64_t word = 0;
    if (byte + 8 <= size_bytes_) {  // fast path: one 8-byte load, as big-endian
      std::memcpy(&word, data_ + byte, 8);
      if constexpr (std::endian::native == std::endian::little) word = detail::byteswap64(word);
    } else {
      for (std::size_t b = byte; b < byte + 8; ++b) word = (word << 8) | (b < size_bytes_ ? data_[b] : 0u);
    }
    return word << (position_ % 8);
  }

  const std::uint8_t* data_;
  std::size_t size_bytes_;
  std::size_t size_bits_;
  std::size_t position_ = 0;
  bitstream_error error_ = bitstream_error::none;
};

/// Most bits write_run_level emits for `count` levels: ue(total ≤ 16) ≤ 9 bits, and per level
/// ue(run ≤ 15) ≤ 9 bits plus ue(level_code ≤ 65535) ≤ 33 bits.
constexpr std::size_t run_level_max_bits(int count) noexcept {
  return 9 + static_cast<std::size_t>(count) * (9 + 33);
}

/// ue code of a non-zero level: 2·(|level| − 1) + (level < 0), in [0, 65535] for int16 levels.
constexpr std::uint32_t run_level_code(std::int16_t level) noexcept {
  const std::int32_t magnitude = level < 0 ? -std::int32_t{level} : std::int32_t{level};
  return static_cast<std::uint32_t>(2 * (magnitude - 1) + (level < 0 ? 1 : 0));
}

/// Writes a block of `count` levels (1 to 16) in the run–level format above, given by `mask`
/// (bit k: the level at scan position k is non-zero; no bits at or above `count`) and `level(k)`,
/// which is asked only for those positions. Each level's run and code go out as one u(n) when
/// both fit in 32 bits (the bits are those of the two ue(v)).
template <class Level>
inline void write_run_level_masked(bit_writer& writer, int count, std::uint32_t mask, Level level) SMLM_NOEXCEPT {
  SMLM_ASSERT(count >= 1 && count <= 16 && (mask >> count) == 0, "write_run_level: a block has 1 to 16 levels");
  int remaining = std::popcount(mask);
  writer.put_ue(static_cast<std::uint32_t>(remaining));
  int next = 0;  // first scan position not yet described
  for (; mask != 0; mask &= mask - 1, --remaining) {
    const int k = std::countr_zero(mask);
    const std::uint32_t code = run_level_code(level(k)) + 1;
    const int code_bits = 2 * static_cast<int>(std::bit_width(code)) - 1;
    if (count - next > remaining) {
      const auto run = static_cast<std::uint32_t>(k - next) + 1;
      const int run_bits = 2 * static_cast<int>(std::bit_width(run)) - 1;
      if (run_bits + code_bits <= 32) {
        writer.put_bits((run << code_bits) | code, run_bits + code_bits);
      } else {
        writer.put_ue(run - 1);
        writer.put_ue(code - 1);
      }
    } else {
      writer.put_ue(code - 1);
    }
    next = k + 1;
  }
}

/// Writes `scanned` (1 to 16 levels in scan order) in the run–level format above.
inline void write_run_level(bit_writer& writer, std::span<const std::int16_t> scanned) SMLM_NOEXCEPT {
  SMLM_ASSERT(!scanned.empty() && scanned.size() <= 16, "write_run_level: a block has 1 to 16 levels");
  const int count = static_cast<int>(scanned.size());
  std::uint32_t mask = 0;
  for (int k = 0; k < count; ++k) mask |= static_cast<std::uint32_t>(scanned[static_cast<std::size_t>(k)] != 0) << k;
  write_run_level_masked(writer, count, mask, [&](int k) { return scanned[static_cast<std::size_t>(k)]; });
}

/// Reads one block of `count` levels (1 to 16) written by write_run_level, handing each non-zero
/// level to `put(scan_position, level)` in scan order (the caller zeroes its block beforehand).
/// Returns the number of non-zero levels, or −1 when the reader fails (then reader.error() says
/// why; levels already put are left to the caller, which stops at the error).
template <class Put>
inline int read_run_level_into(bit_reader& reader, int count, Put put) SMLM_NOEXCEPT {
  SMLM_ASSERT(count >= 1 && count <= 16, "read_run_level: a block has 1 to 16 levels");
  const auto failed = [&](bitstream_error error) {
    reader.fail(error);
    return -1;
  };
  const std::uint32_t total = reader.get_ue();
  if (!reader.ok()) return failed(reader.error());
  if (total > static_cast<std::uint32_t>(count)) return failed(bitstream_error::value_out_of_range);
  int next = 0;
  for (int remaining = static_cast<int>(total); remaining > 0; --remaining) {
    const int max_run = count - next - remaining;
    std::uint32_t run = 0;
    if (max_run > 0) {
      run = reader.get_ue();
      if (!reader.ok()) return failed(reader.error());
      if (run > static_cast<std::uint32_t>(max_run)) return failed(bitstream_error::value_out_of_range);
    }
    const std::uint32_t code = reader.get_ue();
    if (!reader.ok()) return failed(reader.error());
    if (code > 65535u) return failed(bitstream_error::value_out_of_range);
    const std::int32_t magnitude = static_cast<std::int32_t>(code / 2) + 1;
    const std::int32_t level = (code & 1u) != 0 ? -magnitude : magnitude;
    if (level > 32767) return failed(bitstream_error::value_out_of_range);
    next += static_cast<int>(run);
    put(next, static_cast<std::int16_t>(level));
    ++next;
  }
  return static_cast<int>(total);
}

/// Reads one block written by write_run_level into `scanned` (1 to 16 levels, the same count
/// the writer used). Returns the number of non-zero levels, or −1 when the reader fails (then
/// reader.error() says why and `scanned` is all zero).
inline int read_run_level(bit_reader& reader, std::span<std::int16_t> scanned) SMLM_NOEXCEPT {
  SMLM_ASSERT(!scanned.empty() && scanned.size() <= 16, "read_run_level: a block has 1 to 16 levels");
  for (auto& level : scanned) level = 0;
  const int total = read_run_level_into(reader, static_cast<int>(scanned.size()),
                                        [&](int k, std::int16_t level) { scanned[static_cast<std::size_t>(k)] = level; });
  if (total < 0)
    for (auto& level : scanned) level = 0;
  return total;
}

}  // namespace smlm::codec
