#!/usr/bin/env bash
# The dense-frame table of docs/loc.md: the classic pipeline with and without its dense options
# (--passes, --multi-emitter) on simulated stacks of rising density.
#
#   scripts/dense_classic.sh [OUT_DIR] [SMLM_BINARY]     (FRAMES=n, default 100; CONFIGS="…" to override)
#
# Scenes (issue 18's conditions): 64 × 64 px of 100 nm, 2,000 photons, σ 110 nm, background 50
# photons/px, EMCCD, seed 3; uniform at 1, 3, 6 and 10 emitters/µm² per frame, and line pairs
# 50–400 nm apart (`--structure stripes`, "dense bundles") at 6/µm². Each configuration localizes
# with `smlm localize --camera emccd --sigma-nm 110 CONFIG` (single thread), and `smlm evaluate`
# matches at 100 nm. One markdown row per (scene, configuration): recall, precision,
# Jaccard@100, RMSE (nm), seconds for the stack.
set -euo pipefail
out=${1:-dense-classic-out}
smlm=${2:-build/release/examples/cli/smlm}
frames=${FRAMES:-100}
mkdir -p "$out"
if [[ -n "${CONFIGS:-}" ]]; then
  IFS=';' read -r -a configs <<<"$CONFIGS"
else
  configs=("--passes 1" "--passes 5" "--multi-emitter 3" "--multi-emitter 5" "--passes 3 --multi-emitter 3"
           "--passes 5 --multi-emitter 5")
fi
common=(--frames "$frames" --size 64 --pixel-nm 100 --photons 2000 --sigma-nm 110 --background 50 --camera emccd --seed 3)
echo "| scene | options | recall | precision | Jaccard@100 | RMSE (nm) | seconds |"
echo "|---|---|---:|---:|---:|---:|---:|"
scenes=("uniform 1" "uniform 3" "uniform 6" "uniform 10" "stripes 6")
for scene in "${scenes[@]}"; do
  read -r structure density <<<"$scene"
  stack="$out/$structure$density.tif" truth="$out/$structure$density.csv"
  "$smlm" simulate -o "$stack" --truth "$truth" --structure "$structure" --density "$density" "${common[@]}" >/dev/null
  name="uniform $density/µm²"
  [[ $structure == stripes ]] && name="bundles (line pairs) $density/µm²"
  for config in "${configs[@]}"; do
    locs="$out/$structure$density.${config//[^A-Za-z0-9]/_}.csv"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$smlm" localize "$stack" -o "$locs" --camera emccd --sigma-nm 110 $config >/dev/null
    t1=$(date +%s.%N)
    line=$("$smlm" evaluate "$truth" "$locs" --tolerance 100)
    get() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$line"; }
    printf "| %s | \`%s\` | %.3f | %.3f | %.3f | %.1f | %.2f |\n" "$name" "$config" "$(get recall)" "$(get precision)" \
      "$(get jaccard)" "$(get rmse_nm)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  done
done
