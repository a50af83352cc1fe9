#!/usr/bin/env bash
# Multi-node launch without a scheduler (and without torchrun): run this on every node with
#   COORDINATOR=node0:12345 NUM_PROCESSES=4 PROCESS_ID=<0..3> MODEL_DIR=/shared/run \
#     ./launch/multinode_env.sh --gin.BATCH_SIZE=256
set -euo pipefail
: "${COORDINATOR:?host:port of process 0}" "${NUM_PROCESSES:?}" "${PROCESS_ID:?}"
: "${MODEL_DIR:?set MODEL_DIR (a filesystem every node sees)}"
exec p5jax --coordinator_address="${COORDINATOR}" --process_count="${NUM_PROCESSES}" \
  --process_index="${PROCESS_ID}" \
  --gin_file="${MODEL_GIN:-models/p5_small.gin}" --gin_file=runs/train.gin \
  --gin.MIXTURE_OR_TASK_NAME="\"${MIXTURE:-p5_beauty_pretrain}\"" \
  --gin.MODEL_DIR="\"${MODEL_DIR}\"" --gin.TRAIN_STEPS="${STEPS:-10000}" --gin.RANDOM_SEED=0 \
  "--gin.TASK_FEATURE_LENGTHS={'inputs': 512, 'targets': 64}" "$@"
