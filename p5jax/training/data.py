"""Dataset configuration and per-host, deterministic, resumable SeqIO input.

Resume strategy: a fixed shuffle seed makes the stream a pure function of (seed, shard), so the
checkpoint only stores how many batches were consumed and a restart skips that many batches.
This keeps checkpoints tiny and independent of tf.data internals (an iterator checkpoint holds
the whole shuffle buffer) at the cost of re-reading the skipped input once on restore.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import seqio
import tensorflow as tf

from p5jax.training.partitioning import DataLayout


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
  """What to read (T5X `utils.DatasetConfig` field names)."""

  mixture_or_task_name: str
  task_feature_lengths: Mapping[str, int] | None
  split: str
  batch_size: int  # global, over all hosts
  shuffle: bool
  seed: int | None = None
  use_cached: bool = False
  pack: bool = False
  module: str | None = None  # imported first, so its registrations exist


def import_task_module(cfg: DatasetConfig) -> None:
  """Imports `MIXTURE_OR_TASK_MODULE` (registering its tasks, as in T5X).

  A module whose registrations depend on gin bindings (e.g. `p5jax.tasks.from_gin`) is imported
  while gin parses its own `import` line, before those bindings exist; such a module exposes
  `register_from_gin()`, called here, after parsing and before any task lookup. It must be
  idempotent.
  """
  if cfg.module:
    module = importlib.import_module(cfg.module)
    register = getattr(module, 'register_from_gin', None)
    if callable(register):
      register()


def resolve_task(cfg: DatasetConfig) -> seqio.Task | seqio.Mixture:
  """The registered task/mixture, or a `ValueError` naming the missing name and a few known."""
  import_task_module(cfg)
  name = cfg.mixture_or_task_name
  if name in seqio.MixtureRegistry.names():
    return seqio.get_mixture_or_task(name)
  if name in seqio.TaskRegistry.names():
    return seqio.get_mixture_or_task(name)
  known = sorted(set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names()))
  close = [k for k in known if k.startswith(name.split('_')[0])][:8] or known[:8]
  hint = f' (module={cfg.module!r} was imported)' if cfg.module else ''
  raise ValueError(
      f'MIXTURE_OR_TASK_NAME {name!r} is not a registered seqio task or '
      f'mixture{hint}; e.g. {close}'
  )


def feature_converter(model: Any, pack: bool) -> seqio.FeatureConverter:
  cls = getattr(model, 'FEATURE_CONVERTER_CLS', seqio.EncDecFeatureConverter)
  return cls(pack=pack)


def model_input_shapes(model: Any, cfg: DatasetConfig) -> dict[str, tuple[int, int]]:
  """Global shapes of the model features, for initialising the model."""
  lengths = feature_converter(model, cfg.pack).get_model_feature_lengths(
      dict(cfg.task_feature_lengths)
  )
  return {k: (cfg.batch_size, v) for k, v in lengths.items()}


def get_dataset(
    cfg: DatasetConfig, layout: DataLayout, model: Any, num_epochs: int | None = None
) -> tf.data.Dataset:
  """This host's batches (`batch_size / num_hosts` rows) of the model features."""
  if cfg.batch_size % layout.num_shards:
    raise ValueError(f'batch_size={cfg.batch_size} not divisible by {layout.num_shards} hosts')
  resolve_task(cfg)
  return seqio.get_dataset(
      cfg.mixture_or_task_name,
      task_feature_lengths=cfg.task_feature_lengths,
      feature_converter=feature_converter(model, cfg.pack),
      dataset_split=cfg.split,
      use_cached=cfg.use_cached,
      shuffle=cfg.shuffle,
      num_epochs=num_epochs,
      shard_info=seqio.ShardInfo(index=layout.shard_id, num_shards=layout.num_shards),
      verbose=False,
      seed=cfg.seed,
      batch_size=layout.per_host_batch_size,
  )


def resumable_batches(
    dataset: tf.data.Dataset, start_batch: int
) -> Iterator[dict[str, np.ndarray]]:
  """Numpy batches from `start_batch` on (the skip runs inside tf.data)."""
  ds = dataset.skip(start_batch) if start_batch else dataset
  return iter(ds.prefetch(tf.data.AUTOTUNE).as_numpy_iterator())
