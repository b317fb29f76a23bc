#!/usr/bin/env bash
# Builds the Cortex-M7 firmware for a simulated 32 x 32 phone patch, checks that its heap traps
# (a firmware that allocates on purpose must fail), runs it under QEMU (mps2-an500, semihosting,
# -icount shift=0: 1 ns of virtual time per instruction) and compares its localizations with the
# host's on the same patch. Ends with one line:
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

cmake -S "$src/firmware" -B "$work/firmware" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/cortex-m7.cmake" -DSMLM_MCU_GENERATED="$work/gen" >/dev/null
cmake --build "$work/firmware" -j 1 >/dev/null
elf=$work/firmware/smlm_mcu.elf
qemu=(timeout 600 qemu-system-arm -M mps2-an500 -nographic -monitor none -serial none
      -semihosting-config enable=on,target=native)

# The trapping heap: a firmware that allocates must stop with a failing status.
if "${qemu[@]}" -kernel "$work/firmware/smlm_mcu_heap_trap.elf" > "$work/heap_trap.txt" 2>&1 ||
   ! grep -q 'heap allocation .* trapped' "$work/heap_trap.txt"; then
  echo "mcu: the heap did not trap an allocation:" >&2
  cat "$work/heap_trap.txt" >&2
  exit 1
fi

"${qemu[@]}" -icount shift=0 -kernel "$elf" > "$work/mcu.txt" 2>&1
grep '^mcu:' "$work/mcu.txt"

# Berkeley sizes: flash holds text and the initial values of data, RAM holds data and bss (the
# activation arena, the input and the output map are bss).
read -r text data bss _ < <(arm-none-eabi-size -B "$elf" | tail -n 1)
flash=$((text + data)) ram=$((data + bss))

awk -v flash="$flash" -v ram="$ram" '
  BEGIN { nh = 0; nm = 0; dev = 0 }
  FNR == NR { if ($1 == "loc") { hx[nh] = $2; hy[nh] = $3; nh++ } next }
  $1 == "loc" {
    best = -1
    for (i = 0; i < nh; i++) { d = sqrt(($2 - hx[i])^2 + ($3 - hy[i])^2); if (best < 0 || d < best) best = d }
    if (best > dev) dev = best
    nm++
  }
  END {
    printf "mcu: localizations=%d host=%d max_dev_nm=%.4f flash=%d ram=%d\n", nm, nh, dev + 0, flash, ram
    exit !(nm == nh && nm > 0 && dev <= 1.0)
  }' "$work/host.txt" "$work/mcu.txt"
