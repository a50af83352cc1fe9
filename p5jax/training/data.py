"""Dataset configuration and per-host, deterministic, resumable input.

A task whose registrations offer an *example stream* (``register_stream_provider``; P5's
training tasks do, see ``p5jax.tasks.stream``: examples built and tokenized by position, packed
in numpy) is read through it: the checkpoint stores each host's next example position and a
restart begins there, in O(1) whatever the step. Any other task goes through
``seqio.get_dataset``: a fixed shuffle seed makes that stream a pure function of (seed, shard),
so the checkpoint stores how many batches were consumed and a restart skips that many batches
(tiny checkpoints independent of tf.data internals, at the cost of re-reading the skipped input).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import seqio
import tensorflow as tf

from p5jax.errors import UserError
from p5jax.training.partitioning import DataLayout


@runtime_checkable
class ExampleStream(Protocol):
  """An endless, position-addressed stream of one host's batches (see `resumable_batches`)."""

  def resumable_batches(
      self, start_batch: int, input_state: Mapping[str, Any] | None
  ) -> Iterator[dict[str, np.ndarray]]:
    """Batches from the position stored in `input_state` (a checkpoint's), else from batch
    `start_batch`; the iterator's `input_state()` is what the next checkpoint stores."""


# fn(cfg, shard_index, num_shards, rows) -> an ExampleStream, or None when the provider does not
# serve `cfg`'s task. Registered by task packages (seqio's registry pattern).
StreamProvider = Callable[['DatasetConfig', int, int, int], 'ExampleStream | None']
_STREAM_PROVIDERS: list[StreamProvider] = []


def register_stream_provider(provider: StreamProvider) -> None:
  """Offers `provider`'s example streams for endless training reads (idempotent)."""
  if provider not in _STREAM_PROVIDERS:
    _STREAM_PROVIDERS.append(provider)


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
  # Endless training reads through a registered example stream when one serves the task (P5's
  # training tasks: `p5jax.tasks.stream`); False: always through seqio.get_dataset.
  example_stream: bool = True
  num_workers: int = 0  # processes building stream examples (0: a thread of the trainer process)
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


class UnknownTaskError(UserError, ValueError):
  """`MIXTURE_OR_TASK_NAME` names no registered seqio task or mixture."""


def resolve_task(cfg: DatasetConfig) -> seqio.Task | seqio.Mixture:
  """The registered task/mixture, or an `UnknownTaskError` naming the missing name and a few
  known ones."""
  import_task_module(cfg)
  name = cfg.mixture_or_task_name
  if name in seqio.MixtureRegistry.names():
    return seqio.get_mixture_or_task(name)
  if name in seqio.TaskRegistry.names():
    return seqio.get_mixture_or_task(name)
  known = sorted(set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names()))
  close = [k for k in known if k.startswith(name.split('_')[0])][:8] or known[:8]
  hint = f' (module={cfg.module!r} was imported)' if cfg.module else ''
  raise UnknownTaskError(
      f'MIXTURE_OR_TASK_NAME {name!r} is not a registered seqio task or '
      f'mixture{hint}; e.g. {close}'
  )


def feature_converter(pack: bool) -> seqio.FeatureConverter:
  """seqio's encoder-decoder converter (the one model family p5jax trains)."""
  return seqio.EncDecFeatureConverter(pack=pack)


def model_input_shapes(model: Any, cfg: DatasetConfig) -> dict[str, tuple[int, int]]:
  """Global shapes of the model features, for initialising the model."""
  lengths = feature_converter(cfg.pack).get_model_feature_lengths(dict(cfg.task_feature_lengths))
  return {k: (cfg.batch_size, v) for k, v in lengths.items()}


def get_dataset(
    cfg: DatasetConfig, layout: DataLayout, model: Any, num_epochs: int | None = None
) -> tf.data.Dataset | ExampleStream:
  """This host's batches (`batch_size / num_hosts` rows) of the model features: a registered
  `ExampleStream` for an endless training read it serves, else a `tf.data.Dataset`."""
  if cfg.batch_size % layout.num_shards:
    raise ValueError(f'batch_size={cfg.batch_size} not divisible by {layout.num_shards} hosts')
  task = resolve_task(cfg)
  converter = feature_converter(cfg.pack)
  if (
      cfg.example_stream
      and cfg.split == 'train'
      and num_epochs is None
      and not cfg.use_cached
      and cfg.task_feature_lengths
      and type(converter) is seqio.EncDecFeatureConverter
  ):
    for provider in _STREAM_PROVIDERS:
      stream = provider(cfg, layout.shard_id, layout.num_shards, layout.per_host_batch_size)
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
    dataset: tf.data.Dataset | ExampleStream,
    start_batch: int,
    input_state: Mapping[str, Any] | None = None,
) -> Iterator[dict[str, np.ndarray]]:
  """Numpy batches from `start_batch` on. An `ExampleStream` starts at the position stored in
  `input_state` (a checkpoint's); a tf.data stream skips inside tf.data."""
  if isinstance(dataset, ExampleStream):
    return dataset.resumable_batches(start_batch, input_state)
  ds = dataset.skip(start_batch) if start_batch else dataset
  return iter(ds.prefetch(tf.data.AUTOTUNE).as_numpy_iterator())
