"""Which families a dataset has, the one entry point that builds any family's examples, and
``TrainFamily``: a family's training examples of one epoch addressable by index."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from p5jax.prompts import Template
from p5jax.tasks import direct, reviews, sequential
from p5jax.tasks.context import DatasetContext

SEQUENCE_FAMILIES = ('sequential', 'direct')
REVIEW_FAMILIES = ('rating', 'explanation', 'review', 'zeroshot')


def available_families(manifest: Mapping, variant: str) -> tuple[str, ...]:
  """Families a prepared dataset supports: rating/review need reviews, explanation explanations;
  zero-shot (Amazon only) needs reviews."""
  families = list(SEQUENCE_FAMILIES)
  if manifest.get('has_reviews'):
    families += ['rating', 'review']
    if manifest.get('has_explanations'):
      families.append('explanation')
    if variant == 'amazon':
      families.append('zeroshot')
  return tuple(
      f
      for f in ('rating', 'sequential', 'explanation', 'review', 'direct', 'zeroshot')
      if f in families
  )


class TrainFamily:
  """The training examples of one family (and template set) in one epoch, by index.

  Index order is user (or review record) order; ``size`` is the same in every epoch, and example
  ``i`` of epoch ``e`` is a pure function of (dataset context, templates, e, i): the random
  choices come from ``randomness.example_rng`` keyed by the user/record and the slot, so the
  examples are those of ``examples(..., 'train', ...)`` whatever order they are built in.
  Sequential: P5's 20 draws or every training position per user (``ctx.sequential_cut``);
  direct: ``train_per_user`` (default 15) per user with a training item; review families: one
  per training record.
  """

  def __init__(
      self,
      ctx: DatasetContext,
      family: str,
      templates: Sequence[Template],
      train_per_user: int | None = None,
  ):
    if train_per_user is not None and family != 'direct':
      raise ValueError(f'train_per_user applies to the direct family only, not {family!r}')
    if not templates:
      raise ValueError(f'{family}: no training template')
    self.ctx, self.family, self.templates = ctx, family, tuple(templates)
    self._records: list[dict] = []
    if family == 'sequential':
      users, counts = sequential.train_users(ctx)
      self._first_k = 1 if ctx.sequential_cut == 'every_prefix' else 0
    elif family == 'direct':
      users = [u for u in ctx.users if len(ctx.dataset.sequences[u]) > 2]
      counts = np.full(len(users), train_per_user or direct.TRAIN_PER_USER, np.int64)
      self._first_k = 0
    elif family in REVIEW_FAMILIES:
      self._records = reviews.records(ctx, family, 'train', self.templates)
      users, counts = [], np.zeros(0, np.int64)
    else:
      raise ValueError(f'unknown family {family!r}')
    self._users = np.asarray(users, np.int64)
    self._ends = np.cumsum(counts)

  @functools.cached_property
  def size(self) -> int:
    """Examples per epoch."""
    return len(self._records) if self.family in REVIEW_FAMILIES else int(self._ends[-1:].sum())

  def example(self, epoch: int, index: int) -> dict | None:
    """Example ``index`` (0 <= index < size) of ``epoch``; None only for a review record whose
    drawn template needs an explanation the record lacks."""
    if not 0 <= index < self.size:
      raise IndexError(f'{self.family}: index {index} outside 0..{self.size - 1}')
    if self.family in REVIEW_FAMILIES:
      record = self._records[index]
      return reviews.record_example(
          self.ctx, self.family, 'train', self.templates, epoch, index, record
      )
    row = int(np.searchsorted(self._ends, index, side='right'))
    k = index - (int(self._ends[row - 1]) if row else 0) + self._first_k
    user = int(self._users[row])
    if self.family == 'sequential':
      return sequential.train_example(self.ctx, self.templates, epoch, user, k)
    return direct.user_example(self.ctx, self.templates, epoch, user, k)


def examples(
    ctx: DatasetContext,
    family: str,
    split: str,
    templates: Sequence[Template],
    epoch: int,
    shard: tuple[int, int] = (0, 1),
    train_per_user: int | None = None,
) -> Iterator[dict]:
  """Examples of ``family`` for ``split`` ('train' | 'validation' | 'test') in one epoch.

  With several ``templates`` each example draws one uniformly (P5's training); with one, every
  example uses it (evaluation). ``shard`` = (index, count) splits users or records (training:
  ``TrainFamily`` indices). ``train_per_user`` (direct only) replaces P5's 15 training examples
  per user and epoch.
  """
  if train_per_user is not None and family != 'direct':
    raise ValueError(f'train_per_user applies to the direct family only, not {family!r}')
  if split == 'train':
    train = TrainFamily(ctx, family, templates, train_per_user)
    built = (train.example(epoch, i) for i in range(shard[0], train.size, shard[1]))
    return (e for e in built if e is not None)
  if family in SEQUENCE_FAMILIES:
    users = ctx.users[shard[0] :: shard[1]]
    if family == 'sequential':
      return sequential.examples(ctx, split, templates, epoch, users)
    return direct.examples(ctx, split, templates, epoch, users, train_per_user)
  if family in REVIEW_FAMILIES:  # one example per record of the split
    rows = reviews.records(ctx, family, split, templates)
    built = (
        reviews.record_example(ctx, family, split, templates, epoch, i, rows[i])
        for i in range(shard[0], len(rows), shard[1])
    )
    return (e for e in built if e is not None)
  raise ValueError(f'unknown family {family!r}')
