#!/usr/bin/env bash
# `make models`: retrains the shipped default models (models/, docs/model-card.md) with the exact
# recipes they were made with, 30 minutes each on the machine's cores (an hour in all), and
# replaces models/*.smlm. A minute budget is not bit-reproducible: the step count depends on the
# machine's speed (the shipped files record theirs: train.steps), so retrained models match the
# model card's accuracy, not its bytes.
#
#   scripts/train_models.sh [SMLM_BINARY]      (MODELS=emccd,phone picks some)
set -euo pipefail
smlm=${1:-build/release/examples/cli/smlm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
models=${MODELS:-emccd,phone}

train() {  # NAME ARGS...: train into the work folder, then move the model into models/
  local name=$1
  shift
  echo "== models/$name.smlm: smlm train $*" >&2
  "$smlm" train -o "$work/$name.smlm" "$@"
  mv "$work/$name.smlm" "models/$name.smlm"
}

if [[ ,$models, == *,emccd,* ]]; then
  # The conditions of ../shared/data (an ideal camera: the input normalization removes gain and
  # offset); emitters' photons drawn independently as when it was first trained.
  train sub_pixel_emccd --arch sub_pixel --pixel-nm 100 --sigma-nm 105:116 --photons 2000:2500 --photon-spread 0 \
    --density 6 --background 20 --camera ideal --minutes 30 --threads 2 --seed 14
fi
if [[ ,$models, == *,phone,* ]]; then
  # cellSTORM's phone video (docs/cellstorm.md): the command with sub_pixel at r = 4.
  train sub_pixel_phone --arch sub_pixel --upsample 4 --pixel-nm 80 --sigma-nm 96 --photons 50:1500 \
    --density 1.5 --background 5 --camera cmos-phone --quality 60:95 --minutes 30 --threads 2 --seed 1
fi
"$smlm" models
