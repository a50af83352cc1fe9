#!/usr/bin/env bash
# Train on every host of a Cloud TPU pod slice: the same command runs on all workers and
# jax.distributed discovers the slice from the TPU metadata.
#   TPU_NAME=my-v4-32 ZONE=us-central2-b MODEL_DIR=gs://bucket/p5/beauty ./launch/tpu_pod.sh \
#     --gin.NUM_PARTITIONS=1 --gin.BATCH_SIZE=512
set -euo pipefail
: "${TPU_NAME:?set TPU_NAME}" "${ZONE:?set ZONE}" "${MODEL_DIR:?set MODEL_DIR}"
MIXTURE="${MIXTURE:-p5_beauty_pretrain}"
MODEL_GIN="${MODEL_GIN:-models/p5_small.gin}"
STEPS="${STEPS:-10000}"
EXTRA=$(printf ' %q' "$@")
gcloud compute tpus tpu-vm ssh "${TPU_NAME}" --zone="${ZONE}" --worker=all --command="
  cd ~/p5jax && p5jax --distributed \
    --gin_file=${MODEL_GIN} --gin_file=runs/train.gin \
    --gin.MIXTURE_OR_TASK_NAME=\\\"${MIXTURE}\\\" --gin.MODEL_DIR=\\\"${MODEL_DIR}\\\" \
    --gin.TRAIN_STEPS=${STEPS} --gin.RANDOM_SEED=0 \
    \"--gin.TASK_FEATURE_LENGTHS={'inputs': 512, 'targets': 64}\" ${EXTRA}"
