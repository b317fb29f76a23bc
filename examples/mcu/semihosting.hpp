// ARM semihosting (Arm's "Semihosting for AArch32 and AArch64", SYS_WRITE0 and SYS_EXIT): the
// firmware's only output channel, served by QEMU's -semihosting.
#pragma once

namespace mcu {

inline int semihost_call(int op, const void* arg) noexcept {
  register int r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/// Writes a NUL-terminated string to the host's console.
inline void write(const char* s) noexcept { semihost_call(0x04, s); }

/// Ends the emulation: exit status 0 when ok (ADP_Stopped_ApplicationExit), 1 otherwise.
[[noreturn]] inline void exit(bool ok) noexcept {
  semihost_call(0x18, reinterpret_cast<const void*>(ok ? 0x20026 : 0x20023));
  for (;;) {
  }
}

}  // namespace mcu
