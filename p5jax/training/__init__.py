"""T5X-style training for p5jax: partitioning, train/eval/infer entry points, checkpoints."""

from p5jax.training.checkpoints import (CheckpointConfig, CheckpointError,
                                        RestoreCheckpointConfig, SaveCheckpointConfig)
from p5jax.training.data import DatasetConfig
from p5jax.training.evaluation import evaluate
from p5jax.training.inference import infer
from p5jax.training.optimizers import Optimizer, p5_adamw, warmup_linear_decay
from p5jax.training.partitioning import (Partitioner, PjitPartitioner,
                                         standard_logical_axis_rules)
from p5jax.training.train_lib import NonFiniteLossError, train
from p5jax.training.trainer import Trainer

__all__ = ["CheckpointConfig", "CheckpointError", "DatasetConfig", "NonFiniteLossError",
           "Optimizer", "Partitioner", "PjitPartitioner", "RestoreCheckpointConfig",
           "SaveCheckpointConfig", "Trainer", "evaluate", "infer", "p5_adamw",
           "standard_logical_axis_rules", "train", "warmup_linear_decay"]
