#!/usr/bin/env bash
# Accuracy table of docs/model-card.md: a trained model beside the classic pipeline on simulated
# test scenes it never trained on, and on the ThunderSTORM reference stack.
#
#   scripts/model_card.sh MODEL.smlm [OUT_DIR] [SMLM_BINARY]      (THREADS=n: reconstruct's threads)
#
# Test scenes (`smlm simulate`, 64 × 64 px of 100 nm, 20 frames, σ = 110 nm, 2000–2500 photons,
# background 20 photons/px, ideal camera, seed 9001 — the conditions of ../shared/data): uniform
# at 1, 3, 6 and 10 emitters/µm², filaments at 6/µm², and line pairs 50–400 nm apart ("bundles":
# `--structure stripes`, two lines closer than the PSF width) at 6/µm². Each stack goes through
# `smlm reconstruct MODEL` and through `smlm localize` (wavelet detection + Poisson MLE fit,
# σ fixed at 110 nm, the command's defaults otherwise; on the reference stack the camera mapping
# and the threshold 0.3 / fit radius 2 that tests/cli/localize_command_test.cpp found best there),
# and both tables through `smlm evaluate` at 50, 100 and 250 nm. Prints one
# markdown row per (scene, method): Jaccard / RMSE (nm) at each tolerance, and frames/s.
set -euo pipefail
model=$1
out=${2:-model-card-out}
smlm=${3:-build/release/examples/cli/smlm}
data=$(cd "$(dirname "$0")/../../shared/data" && pwd)
mkdir -p "$out"

row() {  # row NAME METHOD EVAL_OUTPUT FPS
  local cells=""
  while read -r line; do
    j=$(sed -E 's/.*jaccard=([0-9.]+).*/\1/' <<<"$line")
    r=$(sed -E 's/.*rmse_nm=([0-9.]+).*/\1/' <<<"$line")
    cells+=$(printf " %.3f / %.1f |" "$j" "$r")
  done <<<"$3"
  printf "| %s | %s |%s %s |\n" "$1" "$2" "$cells" "$4"
}

evaluate_pair() {  # evaluate_pair NAME STACK TRUTH
  local name=$1 stack=$2 truth=$3
  local dir=${name//[^A-Za-z0-9]/_}
  local rec
  rec=$("$smlm" reconstruct "$model" "$stack" -o "$out/$dir.net" -q --threads "${THREADS:-0}")
  local fps
  fps=$(sed -E 's/.*frames_per_s=([0-9.]+).*/\1/' <<<"$rec")
  row "$name" network "$("$smlm" evaluate "$truth" "$out/$dir.net/localizations.csv" --tolerance 50,100,250)" "$fps"
  local t0 t1
  t0=$(date +%s.%N)
  "$smlm" localize "$stack" -o "$out/$dir.classic.csv" --pixel-nm 100 --camera "${4:-ideal}" ${5:-} --sigma-nm 110 >/dev/null
  t1=$(date +%s.%N)
  local frames
  frames=$("$smlm" info "$stack" | sed -nE 's/.*frames=([0-9]+).*/\1/p' | head -1)
  row "$name" classic "$("$smlm" evaluate "$truth" "$out/$dir.classic.csv" --tolerance 50,100,250)" \
      "$(awk -v f="${frames:-20}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", f / (b - a) }')"
}

echo "| scene | method | 50 nm: J / RMSE | 100 nm: J / RMSE | 250 nm: J / RMSE | frames/s |"
echo "|---|---|---|---|---|---|"
common=(--frames 20 --size 64 --pixel-nm 100 --photons 2000:2500 --sigma-nm 110 --background 20 --camera ideal --seed 9001)
for d in 1 3 6 10; do
  "$smlm" simulate -o "$out/uniform$d.tif" --truth "$out/uniform$d.csv" --structure uniform --density "$d" "${common[@]}" >/dev/null
  evaluate_pair "uniform $d/µm²" "$out/uniform$d.tif" "$out/uniform$d.csv"
done
"$smlm" simulate -o "$out/filaments.tif" --truth "$out/filaments.csv" --structure filaments --density 6 "${common[@]}" >/dev/null
evaluate_pair "filaments 6/µm²" "$out/filaments.tif" "$out/filaments.csv"
"$smlm" simulate -o "$out/bundles.tif" --truth "$out/bundles.csv" --structure stripes --density 6 "${common[@]}" >/dev/null
evaluate_pair "bundles (line pairs) 6/µm²" "$out/bundles.tif" "$out/bundles.csv"
# The ThunderSTORM reference stack: ADU = 100 + photons (offset and gain unknown to the network).
evaluate_pair "ThunderSTORM reference" "$data/thunderstorm_sim_20frames.tif" "$data/thunderstorm_sim_20frames_positions.csv" \
    emccd "--em-gain 1 --qe 1 --read-noise-e 0 --e-per-adu 1 --baseline-adu 100 --threshold 0.3 --fit-radius 2"
