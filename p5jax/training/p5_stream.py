"""The trainer's input for P5 training tasks: token ids built by position, no tf.data.

For a registered P5 training task, or a mixture of them (``p5_<name>_pretrain``), example ``p``
of the stream is built on demand (``tasks.epochs.ExampleOrder``: one seeded permutation per
epoch over the union of the families' examples, which is exactly P5's shuffled concatenation
for the pretrain mixture's default rates) and tokenized through an exact per-word cache
(``tasks.word_cache``), then padded or packed in numpy (``training.packing``) into the features
``seqio.EncDecFeatureConverter`` gives. Histories are fitted to the trained input length.

The state of the stream is one integer per host, the position of the next unused example, so a
resumed run starts at its checkpoint's position in O(1) (no replay) and sees the same batches as
an uninterrupted one. ``num_workers`` processes build disjoint chunks of positions in parallel;
the batches do not depend on it. Host ``h`` of ``H`` reads stream positions ``h, h+H, ...``.
Any other task (a user's seqio task) is read with ``seqio.get_dataset`` (``training.data``).
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import itertools
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from p5jax.training.packing import Example, RowPacker, pad_rows

CHUNK = 128  # positions per worker job
STATE_KEY = 'p5_stream_positions'  # in the checkpoint's input state: next position per host


@dataclasses.dataclass(frozen=True)
class StreamPart:
  """One P5 training task of the stream (picklable: workers rebuild it)."""

  name: str
  context: Any  # tasks.registry.ContextSpec, fitted to the trained input length
  family: str
  templates: tuple[str, ...]  # template ids
  train_per_user: int | None
  rate: float | None  # None: the task's examples per epoch


@dataclasses.dataclass(frozen=True)
class StreamSpec:
  """What a process needs to build any example of one host's stream."""

  parts: tuple[StreamPart, ...]
  seed: int
  shuffle: bool
  input_length: int
  target_length: int
  shard_index: int = 0
  num_shards: int = 1
  fitted: bool = False  # True: ``parts`` hold only templates that passed the length check


def _with_eos(ids: list[int], length: int, eos: int) -> np.ndarray:
  """seqio's ``append_eos_after_trim``: at most ``length - 1`` ids, then EOS."""
  ids = ids[: length - 1]
  ids.append(eos)
  return np.asarray(ids, np.int32)


class ExampleBuilder:
  """Tokenized examples of a ``StreamSpec`` by host-local position (one per process)."""

  def __init__(self, spec: StreamSpec):
    from p5jax import prompts
    from p5jax.tasks.epochs import ExampleOrder
    from p5jax.tasks.families import TrainFamily
    from p5jax.tasks.lengths import fitting_templates

    self.spec = spec
    parts = []
    for part in spec.parts:
      ctx = part.context()
      by_id = prompts.templates(ctx.variant)
      templates = [by_id[t] for t in part.templates]
      if not spec.fitted:
        templates = fitting_templates(
            ctx, part.family, templates, spec.input_length, part.train_per_user
        )
      family = TrainFamily(ctx, part.family, templates, part.train_per_user)
      parts.append((part.name, family, part.rate))
    self.order = ExampleOrder(parts, spec.seed, spec.shuffle)
    self._encoders = [part.context.encoder() for part in spec.parts]
    self._eos = [part.context.vocabulary().eos_id for part in spec.parts]

  def fitted_spec(self) -> StreamSpec:
    """``spec`` with the templates this builder kept, marked checked (for worker processes)."""
    parts = tuple(
        dataclasses.replace(part, templates=tuple(t.id for t in family.templates))
        for part, family in zip(self.spec.parts, self.order.families)
    )
    return dataclasses.replace(self.spec, parts=parts, fitted=True)

  def global_position(self, position: int) -> int:
    return position * self.spec.num_shards + self.spec.shard_index

  def raw(self, position: int) -> dict | None:
    """The untokenized example at host-local ``position`` (None: skipped)."""
    return self.order.example(self.global_position(position))

  def tokens(self, position: int) -> Example | None:
    """(input ids, target ids) with EOS, trimmed to the feature lengths (None: skipped)."""
    part, epoch, index = self.order.locate(self.global_position(position))
    example = self.order.families[part].example(epoch, index)
    if example is None:
      return None
    encode, eos = self._encoders[part].encode, self._eos[part]
    return (
        _with_eos(encode(example['inputs']), self.spec.input_length, eos),
        _with_eos(encode(example['targets']), self.spec.target_length, eos),
    )

  def chunk(self, start: int, count: int) -> list[Example | None]:
    return [self.tokens(p) for p in range(start, start + count)]


_BUILDERS: dict[StreamSpec, ExampleBuilder] = {}


def builder(spec: StreamSpec) -> ExampleBuilder:
  """This process's builder of ``spec`` (built once)."""
  if spec not in _BUILDERS:
    _BUILDERS[spec] = ExampleBuilder(spec)
  return _BUILDERS[spec]


def _worker_chunk(spec: StreamSpec, start: int, count: int) -> list[Example | None]:
  return builder(spec).chunk(start, count)


def _quiet_worker() -> None:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


class P5Stream:
  """Batches of one host's P5 example stream (``rows`` rows of the feature lengths)."""

  def __init__(self, spec: StreamSpec, rows: int, pack: bool, num_workers: int = 0):
    self.spec, self.rows, self.pack, self.num_workers = spec, rows, pack, num_workers

  def examples(self, start: int = 0) -> Iterator[tuple[int, Example]]:
    """(position, tokenized example) from host-local position ``start`` on, in order."""
    if self.num_workers <= 0:
      local = builder(self.spec)
      for position in itertools.count(start):
        example = local.tokens(position)
        if example is not None:
          yield position, example
      return
    context = multiprocessing.get_context('spawn')  # no fork of a JAX/TF process
    with concurrent.futures.ProcessPoolExecutor(
        self.num_workers, mp_context=context, initializer=_quiet_worker
    ) as pool:
      pending: collections.deque = collections.deque()
      starts = itertools.count(start, CHUNK)
      try:
        while True:
          while len(pending) < 2 * self.num_workers:
            first = next(starts)
            pending.append((first, pool.submit(_worker_chunk, self.spec, first, CHUNK)))
          first, future = pending.popleft()
          for offset, example in enumerate(future.result()):
            if example is not None:
              yield first + offset, example
      finally:
        for _, future in pending:
          future.cancel()

  def batches(self, start: int = 0) -> Iterator[tuple[dict, int, list[Example]]]:
    """(features, position after the batch, the batch's examples in stream order)."""
    examples = self.examples(start)
    ahead = next(examples)
    while True:
      chosen: list[Example] = []
      if self.pack:
        packer = RowPacker(self.rows, self.spec.input_length, self.spec.target_length)
        while packer.add(ahead[1]):
          chosen.append(ahead[1])
          ahead = next(examples)
        yield packer.features(), ahead[0], chosen
      else:
        while len(chosen) < self.rows:
          chosen.append(ahead[1])
          ahead = next(examples)
        yield pad_rows(chosen, self.spec.input_length, self.spec.target_length), ahead[0], chosen


def _produce(batches: Iterator, out: queue.Queue, stop: threading.Event) -> None:
  """Puts ``batches``' items (or the exception that ended them) into ``out`` until ``stop``."""
  try:
    for item in batches:
      while not stop.is_set():
        try:
          out.put(item, timeout=0.1)
          break
        except queue.Full:
          continue
      if stop.is_set():
        return
  except BaseException as e:  # surfaced by ResumableBatches.__next__
    out.put(e)
  finally:
    batches.close()


class ResumableBatches:
  """Iterator of a ``P5Stream``'s numpy batches, prefetched by a background thread.

  ``input_state()`` is what a checkpoint stores to resume after the last batch returned
  (positions of every host; a collective when there are several). ``last_examples``: the
  examples of the last batch when ``keep_examples``. The thread (and any worker processes)
  stop on ``close()`` or when the iterator is garbage collected.
  """

  def __init__(
      self, stream: P5Stream, start: int = 0, prefetch: int = 4, keep_examples: bool = False
  ):
    self.stream, self.position, self.keep_examples = stream, int(start), keep_examples
    self.last_examples: list[Example] = []
    self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
    self._stop = threading.Event()
    threading.Thread(
        target=_produce,
        args=(stream.batches(self.position), self._queue, self._stop),
        name='p5-stream',
        daemon=True,
    ).start()

  def __iter__(self) -> ResumableBatches:
    return self

  def __next__(self) -> dict[str, np.ndarray]:
    item = self._queue.get()
    if isinstance(item, BaseException):
      raise item
    features, self.position, examples = item
    self.last_examples = examples if self.keep_examples else []
    return features

  def input_state(self) -> dict[str, Any]:
    """``{STATE_KEY: [next position of host 0, 1, ...]}``."""
    import jax

    if jax.process_count() == 1:
      return {STATE_KEY: [self.position]}
    from jax.experimental import multihost_utils

    gathered = multihost_utils.process_allgather(np.asarray(self.position, np.int64))
    return {STATE_KEY: [int(p) for p in np.ravel(gathered)]}

  def close(self) -> None:
    self._stop.set()

  def __del__(self):
    self.close()


def stream_for(
    cfg: Any, shard_index: int, num_shards: int, rows: int, num_workers: int = 0
) -> P5Stream | None:
  """The P5 stream of a training ``DatasetConfig`` for host ``shard_index`` of ``num_shards``,
  or None when its task is not (only) P5 training tasks. Builds the dataset context and checks
  the templates' lengths here, in the trainer's process."""
  import seqio

  from p5jax import tasks

  provider = seqio.get_mixture_or_task(cfg.mixture_or_task_name)
  members = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  parts = []
  for task in members:
    try:
      info = tasks.task_info(task.name)
    except KeyError:
      return None
    if info.template is not None or not info.templates:
      return None
    rate = provider.get_rate(task) if isinstance(provider, seqio.Mixture) else None
    parts.append(
        StreamPart(
            task.name,
            info.context.with_input_length(cfg.task_feature_lengths['inputs']),
            info.family,
            tuple(t.id for t in info.templates),
            info.train_per_user,
            None if rate is None else float(rate),
        )
    )
  seed = cfg.seed if cfg.seed is not None else parts[0].context.seed
  spec = StreamSpec(
      tuple(parts),
      int(seed),
      bool(cfg.shuffle),
      int(cfg.task_feature_lengths['inputs']),
      int(cfg.task_feature_lengths['targets']),
      shard_index,
      num_shards,
  )
  checked = builder(spec)
  spec = checked.fitted_spec()
  _BUILDERS[spec] = checked  # the same examples
  logging.info(
      'P5 example stream for %s: examples per epoch %s, %d worker processes',
      cfg.mixture_or_task_name,
      checked.order.family_shares(),
      num_workers,
  )
  return P5Stream(spec, rows, cfg.pack, num_workers)
