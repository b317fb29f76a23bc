// The firmware: a simulated 32 × 32 phone-camera patch (patch.hpp) → input normalization → the
// exported network (weights.hpp from smlm export, float or --int8; nn::StaticUNet: static arena,
// no heap) → peak finding with the
// model's decoding parameters → one line per localization on the semihosting console:
//   loc <x_nm> <y_nm>          (ThunderSTORM convention: x_nm / pixel_nm is the pixel coordinate)
// then `mcu: localizations=<n> arena_bytes=<b> instructions=<i>`, where <i> counts the
// normalization, the forward pass and the peak finding (instruction_counter.hpp; exact only when
// QEMU runs with -icount shift=0).
#include <cmath>
#include <cstdint>
#include <span>

#include <smlm/core/image.hpp>
#include <smlm/loc/peak_finder.hpp>
#include <smlm/nn/normalization.hpp>

#include "../instruction_counter.hpp"
#include "../semihosting.hpp"
#include "patch.hpp"
#include "weights.hpp"

namespace {

using Net = smlm_model::Net;
static_assert(smlm_patch::rows == Net::in_h && smlm_patch::cols == Net::in_w, "the patch must have the network's input size");

alignas(64) float arena[smlm_model::arena_floats];
alignas(64) float input[Net::input_floats];
alignas(64) float scratch[Net::input_floats];
alignas(64) float map[Net::output_floats];
constexpr std::size_t capacity = 1024;
smlm::loc::Peak peaks[capacity];

/// v with 4 decimals, without floating-point printf (newlib's allocates).
void append_fixed(char*& p, double v) {
  long long m = std::llround(v * 10000.0);
  if (m < 0) *p++ = '-', m = -m;
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + m % 10);
    m /= 10;
  } while (m > 0 || n < 5);
  while (n > 4) *p++ = digits[--n];
  *p++ = '.';
  while (n > 0) *p++ = digits[--n];
}
void append_uint(char*& p, unsigned long long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *p++ = digits[--n];
}
void append(char*& p, const char* s) {
  while (*s) *p++ = *s++;
}

}  // namespace

int main() {
  mcu::start_ticks();
  const double per_tick = mcu::instructions_per_tick();
  const std::uint64_t t0 = mcu::ticks();
  constexpr std::ptrdiff_t n = smlm_patch::rows * smlm_patch::cols;
  smlm::nn::normalize_frame(smlm_patch::frame, n, smlm_model::normalization, input, scratch);
  smlm_model::forward(input, arena, map);
  const auto view = smlm::make_view(static_cast<const float*>(map), Net::out_h, Net::out_w);
  const smlm::loc::PeakFinderResult found = smlm::loc::find_peaks(view, smlm_model::peak_options, std::span(peaks));
  const std::uint64_t t1 = mcu::ticks();

  char line[128];
  const double nm_per_output_px = smlm_model::pixel_nm / Net::upsample;
  for (std::size_t i = 0; i < found.count; ++i) {
    char* p = line;
    append(p, "loc ");
    append_fixed(p, peaks[i].x_px * nm_per_output_px);
    append(p, " ");
    append_fixed(p, peaks[i].y_px * nm_per_output_px);
    append(p, "\n");
    *p = 0;
    mcu::write(line);
  }
  char* p = line;
  append(p, "mcu: localizations=");
  append_uint(p, found.count);
  append(p, " arena_bytes=");
  append_uint(p, smlm_model::arena_floats * sizeof(float));
  append(p, " instructions=");
  append_uint(p, static_cast<unsigned long long>(std::llround(double(t1 - t0) * per_tick)));
  append(p, found.truncated ? " truncated\n" : "\n");
  *p = 0;
  mcu::write(line);
  return found.truncated ? 1 : 0;
}
