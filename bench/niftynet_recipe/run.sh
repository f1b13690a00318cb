#!/bin/sh
# NiftyNet-parity recipe check (see README.md). Usage: bench/niftynet_recipe/run.sh [WORK_DIR] (from the repo root).
set -e
work=${1:-/tmp/niftynet_recipe}
here=$(dirname "$0")
t1=../shared/data/brainchop/t1_crop.nii.gz
mkdir -p "$work/model"
/usr/bin/python3 "$here/make_data.py" "$t1" "$work/data"
cp "$here/config.ini" "$work/config.ini"
cp "$here/split.csv" "$work/model/split.csv"   # dataset_split_file is relative to model_dir
deno run -A cli.ts segment train -c "$work/config.ini"
for phase in training inference; do
  deno run -A cli.ts segment infer -c "$work/config.ini" --dataset_to_infer "$phase" --save_seg_dir "$work/inferred_$phase"
done
/usr/bin/python3 "$here/replica.py" "$work/data" "$work/replica.json" --iters 300 \
  --niftyts-checkpoint "$work/model/models/model.ckpt-300.safetensors" \
  --niftyts-inferred "$work/inferred_training" --niftyts-inferred "$work/inferred_inference"
