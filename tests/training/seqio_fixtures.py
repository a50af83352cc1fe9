"""A tiny seqio copy task (pass-through vocabulary) registered for trainer tests."""

from __future__ import annotations

import numpy as np
import seqio
import tensorflow as tf

VOCAB = seqio.PassThroughVocabulary(size=64, eos_id=1)
TASK = 'trainer_test_copy'
FEATURE_LENGTHS = {'inputs': 12, 'targets': 6}


def _dataset_fn(split: str, shuffle_files: bool, seed=None) -> tf.data.Dataset:
  rng = np.random.default_rng({'train': 0, 'validation': 1}[split])
  n = 64 if split == 'train' else 16
  inputs = rng.integers(3, 64, (n, 11)).astype(np.int32)
  return tf.data.Dataset.from_tensor_slices({'inputs': inputs, 'targets': inputs[:, :5]})


def sequence_accuracy(targets, predictions):
  return {
      'sequence_accuracy': float(
          np.mean([list(t) == list(p) for t, p in zip(targets, predictions)])
      )
  }


def register() -> str:
  if TASK not in seqio.TaskRegistry.names():
    features = {
        k: seqio.Feature(VOCAB, add_eos=True, dtype=tf.int32) for k in ('inputs', 'targets')
    }
    seqio.TaskRegistry.add(
        TASK,
        source=seqio.FunctionDataSource(_dataset_fn, splits=('train', 'validation')),
        preprocessors=[seqio.preprocessors.append_eos_after_trim],
        output_features=features,
        metric_fns=[sequence_accuracy],
    )
  return TASK


register()  # importing this module (MIXTURE_OR_TASK_MODULE) registers the task
