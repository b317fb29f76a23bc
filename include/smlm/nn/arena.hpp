// Arena: a bump allocator for everything a training step creates and drops together —
// activations, their gradients, kernel scratch and the autodiff tape's records.
//
// allocate() hands out 64-byte aligned pieces of the current block; when it is full a new block
// is taken from the heap (counted in heap_allocations()). reset() forgets every piece at once;
// when a step needed more than one block, reset() replaces them by a single block as large as
// the step's peak use, so from the second step of an unchanged computation on, a step runs
// entirely inside one block and performs no heap allocation at all. Nothing placed in the arena
// has its destructor run: only trivially destructible objects belong here.
//
// With SMLM_ARENA_CHECKED defined, every allocation is a heap block of exactly its size, freed
// by reset(): AddressSanitizer then sees a kernel that writes past its buffer, which inside one
// large block it cannot. The counts of heap_allocations() then follow the pieces, not blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#if defined(SMLM_ARENA_CHECKED)
#include <vector>
#endif

#include <smlm/core/config.hpp>

namespace smlm::nn {

class Arena {
 public:
  static constexpr std::size_t alignment = 64;

  /// An arena whose first block holds `initial_bytes` (0: the first allocate() sizes it).
  explicit Arena(std::size_t initial_bytes = 0) noexcept {
    if (initial_bytes > 0) add_block(initial_bytes);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { release_all(); }

  /// `bytes` of storage aligned to `alignment`; never null (aborts when the heap is exhausted).
  void* allocate(std::size_t bytes) noexcept {
#if defined(SMLM_ARENA_CHECKED)
    void* piece = ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t(alignment), std::nothrow);
    SMLM_ASSERT(piece != nullptr, "Arena: out of memory");
    pieces_.push_back(piece);
    ++heap_allocations_;
    in_use_ += bytes;
    if (in_use_ > peak_) peak_ = in_use_;
    return piece;
#endif
    bytes = round_up(bytes == 0 ? 1 : bytes);
    if (head_ == nullptr || head_->used + bytes > head_->size) {
      add_block(bytes > next_block_bytes() ? bytes : next_block_bytes());
    }
    void* p = head_->data() + head_->used;
    head_->used += bytes;
    in_use_ += bytes;
    if (in_use_ > peak_) peak_ = in_use_;
    return p;
  }

  /// Storage for `count` objects of a trivially destructible type, uninitialised.
  template <class T>
  T* allocate_array(std::size_t count) noexcept {
    static_assert(std::is_trivially_destructible_v<T>, "the arena runs no destructors");
    static_assert(alignof(T) <= alignment, "over-aligned type");
    return static_cast<T*>(allocate(sizeof(T) * count));
  }
  template <class T>
  T* allocate_zeroed(std::size_t count) noexcept {
    T* p = allocate_array<T>(count);
    for (std::size_t i = 0; i < count; ++i) p[i] = T{};
    return p;
  }

  /// Drops every allocation. Keeps the memory: a single block of the peak size so far.
  void reset() noexcept {
#if defined(SMLM_ARENA_CHECKED)
    for (void* p : pieces_) ::operator delete(p, std::align_val_t(alignment));
    pieces_.clear();
#endif
    if (head_ != nullptr && head_->prev != nullptr) {
      const std::size_t want = peak_;
      release_all();
      add_block(want);
    } else if (head_ != nullptr) {
      head_->used = 0;
    }
    in_use_ = 0;
  }

  std::size_t bytes_in_use() const noexcept { return in_use_; }
  std::size_t peak_bytes() const noexcept { return peak_; }
  std::size_t capacity() const noexcept {
    std::size_t c = 0;
    for (Block* b = head_; b != nullptr; b = b->prev) c += b->size;
    return c;
  }
  /// How many blocks this arena has taken from the heap since construction.
  std::uint64_t heap_allocations() const noexcept { return heap_allocations_; }

 private:
  struct alignas(alignment) Block {
    Block* prev;
    std::size_t size;
    std::size_t used;
    std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this) + sizeof(Block); }
  };
  static constexpr std::size_t round_up(std::size_t b) noexcept {
    return (b + alignment - 1) / alignment * alignment;
  }
  std::size_t next_block_bytes() const noexcept {
    const std::size_t last = head_ ? head_->size : 0;
    return last < (std::size_t(1) << 20) ? (std::size_t(1) << 20) : 2 * last;
  }
  void add_block(std::size_t bytes) noexcept {
    bytes = round_up(bytes);
    void* mem = ::operator new(sizeof(Block) + bytes, std::align_val_t(alignment), std::nothrow);
    SMLM_ASSERT(mem != nullptr, "Arena: out of memory");
    ++heap_allocations_;
    head_ = ::new (mem) Block{head_, bytes, 0};
  }
  void release_all() noexcept {
#if defined(SMLM_ARENA_CHECKED)
    for (void* p : pieces_) ::operator delete(p, std::align_val_t(alignment));
    pieces_.clear();
#endif
    while (head_ != nullptr) {
      Block* prev = head_->prev;
      ::operator delete(static_cast<void*>(head_), std::align_val_t(alignment));
      head_ = prev;
    }
  }

#if defined(SMLM_ARENA_CHECKED)
  std::vector<void*> pieces_;
#endif
  Block* head_ = nullptr;
  std::size_t in_use_ = 0;
  std::size_t peak_ = 0;
  std::uint64_t heap_allocations_ = 0;
};

}  // namespace smlm::nn
