// Start-up for QEMU's mps2-an500 (Cortex-M7): vector table, FPU enable, .data/.bss set-up,
// static constructors, main(), semihosting exit; and a heap that traps: malloc, _sbrk and
// operator new end the run with a message instead of returning memory, so a firmware that
// completes has allocated nothing.
#include <cstddef>
#include <cstdint>
#include <new>

#include "instruction_counter.hpp"
#include "semihosting.hpp"

extern "C" {
volatile std::uint32_t mcu_systick_wraps = 0;
}

extern "C" {
extern std::uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();
void reset_handler();
void start_c();
}

namespace {
[[noreturn]] void fault(const char* what) noexcept {
  mcu::write(what);
  mcu::exit(false);
}
void hard_fault() { fault("mcu: hard fault\n"); }
void systick() { mcu_systick_wraps = mcu_systick_wraps + 1; }
void other_exception() { fault("mcu: unexpected exception\n"); }
}  // namespace

// Initial stack pointer, reset, NMI, hard fault, the other system exceptions, SysTick last.
__attribute__((section(".vectors"), used)) void* const vector_table[16] = {
    &__stack_top,
    reinterpret_cast<void*>(&reset_handler),
    reinterpret_cast<void*>(&other_exception),
    reinterpret_cast<void*>(&hard_fault),
    reinterpret_cast<void*>(&hard_fault),
    reinterpret_cast<void*>(&hard_fault),
    reinterpret_cast<void*>(&hard_fault),
    nullptr, nullptr, nullptr, nullptr,
    reinterpret_cast<void*>(&other_exception),
    reinterpret_cast<void*>(&other_exception),
    nullptr,
    reinterpret_cast<void*>(&other_exception),
    reinterpret_cast<void*>(&systick),
};

// The FPU (CP10, CP11 full access in CPACR) is enabled before any C++ code runs: with
// -mfloat-abi=hard the compiler may use FP registers anywhere.
extern "C" __attribute__((naked, noreturn)) void reset_handler() {
  asm volatile(
      "ldr r0, =0xE000ED88\n"
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n"
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
      "b start_c\n");
}

extern "C" void start_c() {
  const std::uint32_t* src = &__data_load;
  for (std::uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (std::uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  for (auto f = __init_array_start; f < __init_array_end; ++f) (*f)();
  mcu::exit(main() == 0);
}

// The trapping heap.
extern "C" {
void* _sbrk(std::ptrdiff_t) { fault("mcu: heap allocation (_sbrk) trapped\n"); }
void* malloc(std::size_t) { fault("mcu: heap allocation (malloc) trapped\n"); }
void* calloc(std::size_t, std::size_t) { fault("mcu: heap allocation (calloc) trapped\n"); }
void* realloc(void*, std::size_t) { fault("mcu: heap allocation (realloc) trapped\n"); }
void free(void*) {}
}
void* operator new(std::size_t) { fault("mcu: heap allocation (operator new) trapped\n"); }
void* operator new[](std::size_t) { fault("mcu: heap allocation (operator new[]) trapped\n"); }
void* operator new(std::size_t, std::align_val_t) { fault("mcu: heap allocation (operator new) trapped\n"); }
void operator delete(void*) noexcept {}
void operator delete(void*, std::size_t) noexcept {}
void operator delete(void*, std::align_val_t) noexcept {}
void operator delete[](void*) noexcept {}
void operator delete[](void*, std::size_t) noexcept {}
