#!/usr/bin/env bash
# The cellSTORM comparison (docs/cellstorm.md): a network against classic fitting on simulated
# phone-camera video.
#
#   scripts/cellstorm_table.sh MODEL.smlm [OUT_DIR] [SMLM_BINARY]
#       FRAMES=300 SIZE=128 THREADS=2 PHOTONS="100 500 1000" QUALITIES="60 80 95 none"
#
# For every photon count × codec quality ("none": the phone camera's uncompressed 8-bit frames) it
# simulates one acquisition (`smlm simulate`: worm-like filaments, 80 nm pixels, SIZE × SIZE,
# FRAMES frames, 1.5 emitters/µm² per frame, σ 96 nm, background 5 photons, the cmos-phone camera,
# seed 7 — a stream the training generator never uses), reconstructs it with MODEL (`smlm
# reconstruct`) and localizes it classically (`smlm localize --camera cmos-phone`: wavelet
# detection + Poisson MLE with the phone's noise model, its defaults otherwise), and evaluates both
# at 100 nm (`smlm evaluate`). Prints a markdown table: Jaccard, RMSE (nm) and false positives per
# frame of each method, and the network's frames/s (one run, THREADS threads, file input and
# output and the photon fit included).
set -euo pipefail
model=${1:?usage: scripts/cellstorm_table.sh MODEL.smlm [OUT_DIR] [SMLM_BINARY]}
out=${2:-cellstorm-out}
smlm=${3:-build/release/examples/cli/smlm}
frames=${FRAMES:-300}
size=${SIZE:-128}
threads=${THREADS:-2}
mkdir -p "$out"

# evaluate TRUTH LOCS -> "J RMSE FP_PER_FRAME"
evaluate() {
  local line
  line=$("$smlm" evaluate "$1" "$2" --tolerance 100)
  local j r fp
  j=$(sed -nE 's/.* jaccard=([^ ]+).*/\1/p' <<<"$line")
  r=$(sed -nE 's/.* rmse_nm=([^ ]+).*/\1/p' <<<"$line")
  fp=$(sed -nE 's/.* fp=([^ ]+).*/\1/p' <<<"$line")
  printf '%.3f %.1f %.2f' "$j" "$r" "$(echo "$fp / $frames" | bc -l)"
}

echo "| photons | quality | network J@100 | network RMSE | network FP/frame | classic J@100 | classic RMSE | classic FP/frame | network frames/s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for photons in ${PHOTONS:-100 500 1000}; do
  for quality in ${QUALITIES:-60 80 95 none}; do
    name="p${photons}_q${quality}"
    codec=()
    [[ $quality != none ]] && codec=(--quality "$quality")
    "$smlm" simulate -o "$out/$name.tif" --truth "$out/$name.csv" --frames "$frames" --size "$size" --pixel-nm 80 \
      --structure filaments --density 1.5 --photons "$photons" --sigma-nm 96 --background 5 --camera cmos-phone \
      "${codec[@]}" --seed 7 >/dev/null
    rec=$("$smlm" reconstruct "$model" "$out/$name.tif" -o "$out/$name.net" -q --threads "$threads")
    fps=$(sed -nE 's/.* frames_per_s=([^ ]+).*/\1/p' <<<"$rec")
    "$smlm" localize "$out/$name.tif" -o "$out/$name.classic.csv" --pixel-nm 80 --camera cmos-phone --sigma-nm 96 >/dev/null
    read -r nj nr nf <<<"$(evaluate "$out/$name.csv" "$out/$name.net/localizations.csv")"
    read -r cj cr cf <<<"$(evaluate "$out/$name.csv" "$out/$name.classic.csv")"
    echo "| $photons | $quality | $nj | $nr | $nf | $cj | $cr | $cf | $fps |"
  done
done
