"""A seqio DataSource that builds P5 examples from a prepared dataset on the fly.

Own ``seqio.DataSource`` subclass rather than ``FunctionDataSource`` because it
(1) shards by example (training) or user/record (evaluation) so each host builds only its share
(FunctionDataSource refuses shards), (2) builds the dataset context lazily on first
``get_dataset`` (registration stays cheap), (3) shuffles itself: split 'train' is an endless
stream of epochs, each a seeded permutation of all the epoch's examples (``epochs.ExampleOrder``),
with fresh per-example randomness every epoch as P5 does, derived from (seed, epoch, key) so a
restart at the same position reproduces the same stream; seqio's example buffer is then only an
option (``shuffle_buffer_size`` of ``register_dataset``), and (4) lets ``cache_tasks_main`` cache
the fixed evaluation splits, one cache shard per ``EVAL_SHARDS`` share of users or records.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import seqio
import tensorflow as tf

from p5jax.prompts import Template
from p5jax.tasks import families
from p5jax.tasks.context import DatasetContext
from p5jax.tasks.epochs import ExampleOrder
from p5jax.tasks.example import OUTPUT_SIGNATURE
from p5jax.tasks.lengths import fitting_templates

EVAL_SHARDS = 8  # shards an evaluation split lists (the units of cache_tasks_main's work)


class PromptExamplesSource(seqio.DataSource):
  """Examples of one family (and template set) of a registered dataset.

  ``context`` is called once, on first use. Split 'train' yields epochs 0, 1, ... forever
  (``train_epochs`` caps it), shuffled per epoch when ``get_dataset(shuffle=True)`` (seed: the
  ``seed`` argument, else the context's); 'validation' and 'test' yield epoch 0 once, in user
  or record order. ``train_per_user``: see ``families.TrainFamily``. ``name`` keys the shuffle
  (the task name).
  """

  def __init__(
      self,
      context: Callable[[], DatasetContext],
      family: str,
      templates: Sequence[Template],
      splits: Sequence[str],
      train_epochs: int | None = None,
      train_per_user: int | None = None,
      name: str = '',
  ):
    self._context = context
    self._family = family
    self._templates = tuple(templates)
    self._train_epochs = train_epochs
    self._train_per_user = train_per_user
    self._name = name or family
    super().__init__(
        splits=tuple(splits),
        num_input_examples=None,
        caching_permitted='train' not in splits,
        performs_internal_shuffling=True,
    )

  @property
  def supports_arbitrary_sharding(self) -> bool:
    return True

  def list_shards(self, split: str) -> Sequence[str]:
    if split == 'train':
      return [split]
    return [f'{split}-{i:05d}-of-{EVAL_SHARDS:05d}' for i in range(EVAL_SHARDS)]

  @property
  def output_features(self) -> Mapping[str, seqio.Feature]:
    return {}

  def train_family(self, ctx: DatasetContext | None = None) -> families.TrainFamily:
    """This task's training examples, templates that do not fit ``ctx.input_length`` checked
    (``lengths.fitting_templates``)."""
    ctx = ctx or self._context()
    templates = fitting_templates(
        ctx, self._family, self._templates, ctx.input_length, self._train_per_user
    )
    return families.TrainFamily(ctx, self._family, templates, self._train_per_user)

  def train_order(self, seed: int | None, shuffle: bool = True) -> ExampleOrder:
    ctx = self._context()
    return ExampleOrder(
        [(self._name, self.train_family(ctx), None)],
        ctx.seed if seed is None else int(seed),
        shuffle,
    )

  def _generate(self, split: str, shard: tuple[int, int], shuffle: bool, seed: int | None):
    if split != 'train':
      yield from families.examples(self._context(), self._family, split, self._templates, 0, shard)
      return
    order = self.train_order(seed, shuffle)
    end = None if self._train_epochs is None else self._train_epochs * order.epoch_size
    for position in itertools.count(shard[0], shard[1]):
      if end is not None and position >= end:
        return
      example = order.example(position)
      if example is not None:
        yield example

  def get_dataset(
      self,
      split: str = 'train',
      shuffle: bool = True,
      seed: int | None = None,
      shard_info: seqio.ShardInfo | None = None,
      *,
      sequence_length=None,
      use_cached: bool = False,
      num_epochs: int | None = 1,
  ) -> tf.data.Dataset:
    if split not in self.splits:
      raise ValueError(f'split {split!r} not in {self.splits} ({self._family})')
    shard = (shard_info.index, shard_info.num_shards) if shard_info else (0, 1)
    return tf.data.Dataset.from_generator(
        lambda: self._generate(split, shard, shuffle, seed), output_signature=OUTPUT_SIGNATURE
    )
