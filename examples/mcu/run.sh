#!/usr/bin/env bash
# Builds the Cortex-M7 firmware for a simulated 32 x 32 phone patch, checks that its heap traps
# (a firmware that allocates on purpose must fail), runs it under QEMU (mps2-an500, semihosting,
# -icount shift=0: 1 ns of virtual time per instruction) with int8 weights (reported) and with
# float weights, and compares its localizations with the host's on the same patch. Ends with:
#   mcu: localizations=<n> host=<n> max_dev_nm=<x> flash=<bytes> ram=<bytes>
# and fails when the counts differ or a firmware localization lies more than 1 nm from the
# nearest host localization.
#   usage: run.sh SMLM SMLM_MCU_HOST WORKDIR
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: run.sh SMLM SMLM_MCU_HOST WORKDIR" >&2; exit 2; }
smlm=$1 host=$2 work=$3
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
model=$root/models/sub_pixel_phone.smlm
mkdir -p "$work/gen"

# The patch: cellSTORM's phone conditions (the model's), 8-bit video after the codec.
"$smlm" simulate -o "$work/patch.tif" --truth "$work/truth.csv" --frames 1 --size 32 --pixel-nm 80 \
  --sigma-nm 96 --photons 300:1500 --background 5 --camera cmos-phone --quality 80 --density 1.5 --seed 20 >/dev/null
"$smlm" export "$model" --cpp "$work/gen/weights.hpp" --input 32x32
"$host" "$model" "$work/patch.tif" --header "$work/gen/patch.hpp" > "$work/host.txt"

# build DIR GENERATED: configures and builds the firmware for one weights.hpp.
build() {
  cmake -S "$src/firmware" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/cortex-m7.cmake" -DSMLM_MCU_GENERATED="$2" >/dev/null
  cmake --build "$1" -j 1 >/dev/null
}
qemu=(timeout 600 qemu-system-arm -M mps2-an500 -nographic -monitor none -serial none
      -semihosting-config enable=on,target=native)
# compare LABEL ELF OUTPUT: runs ELF, prints LABEL: localizations= host= max_dev_nm= flash= ram=
# (each firmware localization against the nearest host one); exit status 0 when the counts
# agree and every distance is within 1 nm.
compare() {
  "${qemu[@]}" -icount shift=0 -kernel "$2" > "$3" 2>&1
  grep '^mcu:' "$3" | sed "s/^mcu:/$1 run:/"
  local text data bss flash ram
  # Berkeley sizes: flash holds text and the initial values of data, RAM holds data and bss
  # (the activation arena, the input and the output map are bss).
  read -r text data bss _ < <(arm-none-eabi-size -B "$2" | tail -n 1)
  flash=$((text + data)) ram=$((data + bss))
  awk -v label="$1" -v flash="$flash" -v ram="$ram" '
    BEGIN { nh = 0; nm = 0; dev = 0 }
    FNR == NR { if ($1 == "loc") { hx[nh] = $2; hy[nh] = $3; nh++ } next }
    $1 == "loc" {
      best = -1
      for (i = 0; i < nh; i++) { d = sqrt(($2 - hx[i])^2 + ($3 - hy[i])^2); if (best < 0 || d < best) best = d }
      if (best > dev) dev = best
      nm++
    }
    END {
      printf "%s: localizations=%d host=%d max_dev_nm=%.4f flash=%d ram=%d\n", label, nm, nh, dev + 0, flash, ram
      exit !(nm == nh && nm > 0 && dev <= 1.0)
    }' "$work/host.txt" "$3"
}

build "$work/firmware" "$work/gen"

# The trapping heap: a firmware that allocates must stop with a failing status.
if "${qemu[@]}" -kernel "$work/firmware/smlm_mcu_heap_trap.elf" > "$work/heap_trap.txt" 2>&1 ||
   ! grep -q 'heap allocation .* trapped' "$work/heap_trap.txt"; then
  echo "mcu: the heap did not trap an allocation:" >&2
  cat "$work/heap_trap.txt" >&2
  exit 1
fi

# int8 weights (smlm export --int8): measured against the host's float localizations, reported,
# not required to agree within 1 nm.
mkdir -p "$work/gen_int8"
"$smlm" export "$model" --cpp "$work/gen_int8/weights.hpp" --input 32x32 --int8
cp "$work/gen/patch.hpp" "$work/gen_int8/patch.hpp"
build "$work/firmware_int8" "$work/gen_int8"
compare mcu-int8 "$work/firmware_int8/smlm_mcu.elf" "$work/mcu_int8.txt" || true

compare mcu "$work/firmware/smlm_mcu.elf" "$work/mcu.txt"
