"""A seqio DataSource that builds P5 examples from a prepared dataset on the fly.

Own ``seqio.DataSource`` subclass rather than ``FunctionDataSource`` because it
(1) shards by user/record so each host builds only its share (FunctionDataSource refuses shards),
(2) builds the dataset context lazily on first ``get_dataset`` (registration stays cheap), and
(3) streams successive epochs with fresh per-example randomness for training: every epoch redraws
templates, cuts, negatives and noise as P5 does, derived from (seed, epoch, key) so a restart at
the same position reproduces the same stream.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import seqio
import tensorflow as tf

from p5jax.prompts import Template
from p5jax.tasks import families
from p5jax.tasks.context import DatasetContext
from p5jax.tasks.example import OUTPUT_SIGNATURE


class PromptExamplesSource(seqio.DataSource):
  """Examples of one family (and template set) of a registered dataset.

  ``context`` is called once, on first use. Split 'train' repeats epochs 0, 1, ... forever
  (``train_epochs`` caps it); 'validation' and 'test' yield epoch 0 once. ``train_per_user``:
  see ``families.examples``.
  """

  def __init__(
      self,
      context: Callable[[], DatasetContext],
      family: str,
      templates: Sequence[Template],
      splits: Sequence[str],
      train_epochs: int | None = None,
      train_per_user: int | None = None,
  ):
    self._context = context
    self._family = family
    self._templates = tuple(templates)
    self._train_epochs = train_epochs
    self._train_per_user = train_per_user
    super().__init__(splits=tuple(splits), num_input_examples=None, caching_permitted=False)

  @property
  def supports_arbitrary_sharding(self) -> bool:
    return True

  def list_shards(self, split: str) -> Sequence[str]:
    return [split]

  @property
  def output_features(self) -> Mapping[str, seqio.Feature]:
    return {}

  def _generate(self, split: str, shard: tuple[int, int]):
    ctx = self._context()
    epochs = (
        (itertools.count() if self._train_epochs is None else range(self._train_epochs))
        if split == 'train'
        else range(1)
    )
    for epoch in epochs:
      yield from families.examples(
          ctx, self._family, split, self._templates, epoch, shard, self._train_per_user
      )

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
        lambda: self._generate(split, shard), output_signature=OUTPUT_SIGNATURE
    )
