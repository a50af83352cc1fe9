"""T5X-style training for p5jax: partitioning, train/eval/infer entry points, checkpoints.

Names are resolved lazily (PEP 562): `from p5jax.training import Trainer` imports only what the
trainer needs, so the partitioner, optimizer and train step work without TensorFlow/seqio (for
example on an accelerator host that only has JAX); the data, evaluation and inference entry
points import seqio when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    'CheckpointConfig': 'checkpoints',
    'CheckpointError': 'checkpoints',
    'RestoreCheckpointConfig': 'checkpoints',
    'SaveCheckpointConfig': 'checkpoints',
    'DatasetConfig': 'data',
    'evaluate': 'evaluation',
    'infer': 'inference',
    'Optimizer': 'optimizers',
    'p5_adamw': 'optimizers',
    'warmup_linear_decay': 'optimizers',
    'Partitioner': 'partitioning',
    'PjitPartitioner': 'partitioning',
    'standard_logical_axis_rules': 'partitioning',
    'NonFiniteLossError': 'train_lib',
    'train': 'train_lib',
    'Trainer': 'trainer',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
  if name not in _EXPORTS:
    raise AttributeError(f"module 'p5jax.training' has no attribute {name!r}")
  return getattr(importlib.import_module(f'p5jax.training.{_EXPORTS[name]}'), name)


def __dir__() -> list[str]:
  return sorted(list(globals()) + __all__)
