"""T5X's `utils` names for the configuration dataclasses, so gin files read as in T5X
(`utils.DatasetConfig`, `utils.CheckpointConfig`, ...)."""

from p5jax.training.checkpoints import (
    CheckpointConfig,
    RestoreCheckpointConfig,
    SaveCheckpointConfig,
)
from p5jax.training.data import DatasetConfig

__all__ = ['CheckpointConfig', 'DatasetConfig', 'RestoreCheckpointConfig', 'SaveCheckpointConfig']
