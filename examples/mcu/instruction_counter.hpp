// Instructions executed, measured with the Cortex-M SysTick timer (Armv7-M ARM, B3.3) under
// QEMU's -icount shift=0, where virtual time advances 1 ns per instruction and SysTick counts
// the CPU clock derived from it. The ticks-per-instruction ratio is calibrated on a loop of
// known length (subs + bne: 2 instructions per iteration), so the board's clock frequency need
// not be known. The 24-bit counter's wraps are counted by the SysTick exception (startup.cpp).
#pragma once

#include <cstdint>

extern "C" volatile std::uint32_t mcu_systick_wraps;

namespace mcu {

namespace systick {
inline volatile std::uint32_t& csr() { return *reinterpret_cast<volatile std::uint32_t*>(0xE000E010u); }
inline volatile std::uint32_t& rvr() { return *reinterpret_cast<volatile std::uint32_t*>(0xE000E014u); }
inline volatile std::uint32_t& cvr() { return *reinterpret_cast<volatile std::uint32_t*>(0xE000E018u); }
}  // namespace systick

/// SysTick ticks since start_ticks() (64-bit: wraps counted).
inline std::uint64_t ticks() {
  std::uint32_t w, v;
  do {
    w = mcu_systick_wraps;
    v = systick::cvr();
  } while (w != mcu_systick_wraps);
  return (std::uint64_t(w) << 24) + (0xFFFFFFu - v);
}

/// Starts SysTick on the processor clock, counting down from 2^24 − 1 with its interrupt on.
inline void start_ticks() {
  systick::rvr() = 0xFFFFFFu;
  systick::cvr() = 0;
  systick::csr() = 0x7u;
  while (systick::cvr() == 0) {  // the first reload from RVR, which raises no exception
  }
}

/// Instructions per SysTick tick, from a loop of 2·iterations instructions.
inline double instructions_per_tick(std::uint32_t iterations = 1u << 22) {
  const double instructions = 2.0 * iterations;
  const std::uint64_t t0 = ticks();
  asm volatile(
      "1: subs %0, %0, #1\n"
      "   bne 1b\n"
      : "+r"(iterations)
      :
      : "cc");
  const std::uint64_t t1 = ticks();
  return t1 > t0 ? instructions / double(t1 - t0) : 0.0;
}

}  // namespace mcu
