"""Dataset configuration and per-host, deterministic, resumable input.

P5 training tasks and mixtures are read through ``p5_stream`` (examples built and tokenized by
position, packed in numpy): the checkpoint stores each host's next example position and a
restart begins there, in O(1) whatever the step. Any other task goes through
``seqio.get_dataset``: a fixed shuffle seed makes that stream a pure function of (seed, shard),
so the checkpoint stores how many batches were consumed and a restart skips that many batches
(tiny checkpoints independent of tf.data internals, at the cost of re-reading the skipped input).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import seqio
import tensorflow as tf

from p5jax.training import p5_stream
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
  # P5 training tasks through p5jax's example stream (False: through seqio.get_dataset).
  p5_stream: bool = True
  num_workers: int = 0  # processes building P5 examples (0: a thread of the trainer process)
  # seqio path: an example shuffle buffer on top of the tasks' own (None: only theirs).
  shuffle_buffer_size: int | None = None


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
) -> tf.data.Dataset | p5_stream.P5Stream:
  """This host's batches (`batch_size / num_hosts` rows) of the model features: a
  `p5_stream.P5Stream` for an endless P5 training stream, else a `tf.data.Dataset`."""
  if cfg.batch_size % layout.num_shards:
    raise ValueError(f'batch_size={cfg.batch_size} not divisible by {layout.num_shards} hosts')
  task = resolve_task(cfg)
  converter = feature_converter(model, cfg.pack)
  if (
      cfg.p5_stream
      and cfg.split == 'train'
      and num_epochs is None
      and not cfg.use_cached
      and cfg.task_feature_lengths
      and type(converter) is seqio.EncDecFeatureConverter
  ):
    stream = p5_stream.stream_for(
        cfg, layout.shard_id, layout.num_shards, layout.per_host_batch_size, cfg.num_workers
    )
    if stream is not None:
      return stream
  ds = task.get_dataset(
      cfg.task_feature_lengths,
      split=cfg.split,
      use_cached=cfg.use_cached,
      shuffle=cfg.shuffle,
      seed=cfg.seed,
      shard_info=seqio.ShardInfo(index=layout.shard_id, num_shards=layout.num_shards),
      num_epochs=num_epochs,
  )
  if cfg.shuffle and cfg.shuffle_buffer_size:
    ds = ds.shuffle(cfg.shuffle_buffer_size, seed=cfg.seed)
  ds = converter(ds, task_feature_lengths=cfg.task_feature_lengths)
  return ds.batch(layout.per_host_batch_size, drop_remainder=True)


def resumable_batches(
    dataset: tf.data.Dataset | p5_stream.P5Stream,
    start_batch: int,
    input_state: Mapping[str, Any] | None = None,
) -> Iterator[dict[str, np.ndarray]]:
  """Numpy batches from `start_batch` on. A P5 stream starts at the position stored in
  `input_state` (a checkpoint's; without one it replays `start_batch` batches); its iterator's
  `input_state()` gives what to store at the next checkpoint. A tf.data stream skips inside
  tf.data."""
  if isinstance(dataset, p5_stream.P5Stream):
    positions = (input_state or {}).get(p5_stream.STATE_KEY)
    if positions is not None and len(positions) != dataset.spec.num_shards:
      raise ValueError(
          f'the checkpoint holds the input positions of {len(positions)} hosts, this run has '
          f'{dataset.spec.num_shards}: resume with {len(positions)} hosts'
      )
    start = int(positions[dataset.spec.shard_index]) if positions is not None else 0
    batches = p5_stream.ResumableBatches(dataset, start)
    if positions is None and start_batch:
      logging.warning('no stored input position: replaying %d batches', start_batch)
      for _ in range(start_batch):
        next(batches)
    return batches
  ds = dataset.skip(start_batch) if start_batch else dataset
  return iter(ds.prefetch(tf.data.AUTOTUNE).as_numpy_iterator())
