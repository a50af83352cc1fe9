"""Which families a dataset has, and the one entry point that builds any family's examples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

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
  example uses it (evaluation). ``shard`` = (index, count) splits users or records.
  ``train_per_user`` (direct only) replaces P5's 15 training examples per user and epoch.
  """
  if train_per_user is not None and family != 'direct':
    raise ValueError(f'train_per_user applies to the direct family only, not {family!r}')
  if family in SEQUENCE_FAMILIES:
    users = ctx.users[shard[0] :: shard[1]]
    if family == 'sequential':
      return sequential.examples(ctx, split, templates, epoch, users)
    return direct.examples(ctx, split, templates, epoch, users, train_per_user)
  if family in REVIEW_FAMILIES:
    return reviews.examples(ctx, family, split, templates, epoch, shard)
  raise ValueError(f'unknown family {family!r}')
