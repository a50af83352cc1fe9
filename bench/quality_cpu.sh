#!/usr/bin/env bash
# Learn a real sequence file on a few CPU cores, then evaluate it next to the no-model baselines.
#
#   TRAIN_MINUTES=60 EVAL_USERS=5000 bash bench/quality_cpu.sh RAW_DIR OUT_DIR
#
# RAW_DIR holds a `sequential_data.txt` (`user item item ...`, one user per line, items in time
# order). Steps: p5jax-prepare (protocol=corrected, leave-one-out, the ID scheme's index), a short
# calibration run that measures this machine's training speed, a training run of
# runs/real_cpu.gin, then prompt 2-13 on the first EVAL_USERS test users with full-ranking,
# 20-beam constrained decoding, next to popularity and item-to-item transition baselines on the
# same users. The run's steps (and so its cosine learning-rate schedule) are the fewer of what
# TRAIN_MINUTES allows at the calibrated speed and MAX_EPOCHS passes over the training positions
# (more passes overfit a model of this size: bench/RESULTS.md); TRAIN_MINUTES also caps the
# training wall time. Knobs: TRAIN_MINUTES (default 60), EVAL_USERS (default 5000), SCHEME
# (default iid), MAX_EPOCHS (default 3.5), BATCH (default 32), CALIBRATION_STEPS (default 300).
# The last line is one JSON object.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: [TRAIN_MINUTES=60] [EVAL_USERS=5000] bash bench/quality_cpu.sh RAW_DIR OUT_DIR" >&2
  exit 2
fi
RAW=$1
OUT=$2
TRAIN_MINUTES=${TRAIN_MINUTES:-60}
EVAL_USERS=${EVAL_USERS:-5000}
SCHEME=${SCHEME:-iid}
CALIBRATION_STEPS=${CALIBRATION_STEPS:-300}
MAX_EPOCHS=${MAX_EPOCHS:-3.5}
BATCH=${BATCH:-32}
for tool in p5jax p5jax-prepare python; do
  command -v "$tool" >/dev/null || { echo "quality_cpu: '$tool' is not on PATH (pip install -e . first)" >&2; exit 2; }
done
[ -f "$RAW/sequential_data.txt" ] || { echo "quality_cpu: $RAW/sequential_data.txt not found" >&2; exit 2; }
say() { echo "[quality_cpu $(date +%H:%M:%S)] $*"; }
mkdir -p "$OUT"
PREPARED="$OUT/prepared"
RUN="$OUT/run"

if [ -f "$PREPARED/manifest.json" ] && [ -f "$PREPARED/indexes/$SCHEME.json" ]; then
  say "reusing $PREPARED"
else
  say "preparing $RAW -> $PREPARED (protocol=corrected, index $SCHEME)"
  p5jax-prepare --dataset=sequences --raw_dir="$RAW" --out_dir="$PREPARED" --overwrite \
    --protocol=corrected --id_schemes="$SCHEME"
fi

run_p5jax() {  # MODEL_DIR TRAIN_STEPS [more flags]
  local model_dir=$1 steps=$2
  shift 2
  p5jax --gin_file=runs/real_cpu.gin --gin.PREPARED_DIR="'$PREPARED'" --gin.ID_SCHEME="'$SCHEME'" \
    --gin.MODEL_DIR="'$model_dir'" --gin.TRAIN_STEPS="$steps" --gin.BATCH_SIZE="$BATCH" "$@"
}

say "calibrating: $CALIBRATION_STEPS training steps to measure this machine's speed"
rm -rf "$OUT/calibration"
run_p5jax "$OUT/calibration" "$CALIBRATION_STEPS" --gin.train_lib.train.final_evaluation=None \
  --gin.STATS_PERIOD=100 2>&1 | tee "$OUT/calibration.log" | grep --line-buffered -E '^step ' || true
steps_per_s=$(grep -E '^step ' "$OUT/calibration.log" | grep -oE '[0-9.]+ steps/s' | tail -n 1 | cut -d' ' -f1)
[ -n "$steps_per_s" ] || { echo "quality_cpu: calibration printed no speed (see $OUT/calibration.log)" >&2; exit 1; }
positions=$(python - "$PREPARED" <<'PY'
import sys
from p5jax.data import PreparedDataset
from p5jax.tasks.sequential import every_prefix_count
print(sum(every_prefix_count(s) for s in PreparedDataset.load(sys.argv[1]).sequences.values()))
PY
)
read -r steps why < <(python -c "
budget = int($steps_per_s * $TRAIN_MINUTES * 60)
epochs = int($MAX_EPOCHS * $positions / $BATCH)
print(max(100, min(budget, epochs)), 'the time budget' if budget <= epochs else '$MAX_EPOCHS epochs')")
say "calibrated: $steps_per_s steps/s; $positions training positions per epoch -> $steps steps of $BATCH (limited by $why)"

say "training and evaluating (progress below; results in $RUN/eval)"
rm -rf "$RUN"
run_p5jax "$RUN" "$steps" --gin.TRAIN_MINUTES="$TRAIN_MINUTES" --gin.EVAL_EXAMPLES="$EVAL_USERS" \
  2>&1 | tee "$OUT/run.log" | grep --line-buffered -vE '^[IWE][0-9]{4} ' || true
[ -f "$RUN/eval/results.json" ] || { echo "quality_cpu: no $RUN/eval/results.json (see $OUT/run.log)" >&2; exit 1; }

say "baselines on the same $EVAL_USERS users"
python "$(dirname "$0")/quality_summary.py" --prepared_dir="$PREPARED" --model_dir="$RUN" \
  --task=p5_seq_sequential_2_13 --scheme="$SCHEME" --users="$EVAL_USERS"
