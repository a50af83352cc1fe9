#!/usr/bin/env bash
# Quality check on real data (bench/RESULTS.md): p5_tiny trained on the Beauty sequential +
# direct families (the whole pretrain mixture of a sequences-only dataset) for a bounded number
# of steps per ID scheme, then full-ranking sequential evaluation (2-13 and 2-3) on the first
# EVAL_USERS test users with constrained beam search (20 beams), next to popularity.
#
#   bash bench/quality_beauty.sh [RAW_DIR] [OUT_DIR]
#   STEPS=1500 EVAL_USERS=500 SCHEMES="rid sid cid" bash bench/quality_beauty.sh
set -euo pipefail
RAW=${1:-../shared/data/beauty}
OUT=${2:-bench/out/quality_beauty}
STEPS=${STEPS:-1000}
EVAL_USERS=${EVAL_USERS:-500}
SCHEMES=${SCHEMES:-"rid sid cid"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)/p5jax

if [ ! -f "$OUT/beauty/manifest.json" ]; then
  p5jax-prepare --dataset=sequences --raw_dir="$RAW" --out_dir="$OUT/beauty" \
    --protocol=corrected --id_schemes=sid,rid,cid
fi
for scheme in $SCHEMES; do
  start=$(date +%s)
  p5jax --gin_file="$ROOT/gin_configs/models/p5_tiny.gin" \
    --gin_file="$ROOT/gin_configs/runs/train_then_evaluate.gin" \
    --gin_file="$ROOT/gin_configs/datasets/beauty.gin" \
    --gin.PREPARED_DIR="'$OUT/beauty'" --gin.ID_SCHEME="'$scheme'" \
    --gin.tasks.from_gin.configured_dataset.input_length=128 \
    --gin.MODEL_DIR="'$OUT/runs/$scheme'" --gin.VOCAB_SIZE=4480 \
    --gin.TASK_FEATURE_LENGTHS="{'inputs': 128, 'targets': 16}" \
    --gin.TRAIN_STEPS=$STEPS --gin.CHECKPOINT_PERIOD=$STEPS --gin.BATCH_SIZE=16 \
    --gin.PACK_TRAIN_EXAMPLES=True --gin.LOSS_NORMALIZATION="'per_example_mean'" \
    --gin.DROPOUT_RATE=0.0 --gin.LEARNING_RATE=5e-4 --gin.RANDOM_SEED=0 \
    --gin.EVAL_MIXTURE_OR_TASK_NAME="'p5_beauty_sequential_eval'" --gin.EVAL_EXAMPLES=$EVAL_USERS \
    2>&1 | grep -v '^[IWE][0-9]\{4\}' | tail -8
  echo "$scheme: $(( $(date +%s) - start )) s (train $STEPS steps + evaluation)"
done
