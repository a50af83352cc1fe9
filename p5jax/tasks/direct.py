"""Family 5 (direct) examples: yes/no and choose-from-candidates prompts per user."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from p5jax.errors import UserError
from p5jax.prompts import Template
from p5jax.tasks import sampling
from p5jax.tasks.context import DatasetContext
from p5jax.tasks.example import make_example
from p5jax.tasks.randomness import example_rng

TRAIN_PER_USER = 15  # P5 train_sample_numbers['traditional'] = (10, 5)
# P5's separate yes/no model (pretrain_group5_part1.py), whose 5-1/5-4 numbers the paper
# publishes: prompts 5-1..5-4 only, sample_numbers['traditional'] = (100, 5).
YES_NO_TRAIN_PER_USER = 100


def positive_item(rng: np.random.Generator, items: Sequence[int], split: str) -> int | None:
  """Train: uniform over the training items; validation: item n-1; test: item n."""
  if split == 'train':
    return int(items[int(rng.integers(len(items) - 2))]) if len(items) > 2 else None
  return int(items[-2 if split == 'validation' else -1])


def num_negatives(ctx: DatasetContext) -> int:
  """Negatives per candidate list: the prepared dataset's count (manifest `num_negatives`,
  which `p5jax-prepare` writes)."""
  count = ctx.dataset.manifest.get('num_negatives')
  if count is None:
    raise UserError(
        f'the manifest of {getattr(ctx.dataset, "path", "the prepared dataset")} has no num_negatives: prepare the data again with '
        'p5jax-prepare'
    )
  return int(count)


def _candidates(
    ctx: DatasetContext,
    rng: np.random.Generator,
    user: int,
    positive: int,
    split: str,
    yes_no: bool = False,
) -> list[int]:
  """One candidate list: the positive among its negatives, shuffled.

  The negatives are the prepared fixed ones for evaluation under the corrected protocol, and
  under the original for the test split of the yes/no prompts 5-1..5-4: P5 read its released
  `negative_samples.txt` there (p5jax-prepare stores that file's lists, or draws them as P5's
  preprocessing did). Otherwise redrawn, as P5 does for 5-5..5-8 in every split.
  """
  if split != 'train' and (ctx.corrected or (yes_no and split == 'test')):
    negatives = list(ctx.dataset.negatives[user]['test' if split == 'test' else 'val'])
  else:
    negatives = sampling.sample_negatives(
        rng, ctx.all_items, ctx.user_items(user), num_negatives(ctx)
    )
  return sampling.shuffled_candidates(rng, positive, negatives)


def _yes_no_values(ctx: DatasetContext, user: int, shown: int, is_positive: bool) -> dict:
  """The slots of a yes/no prompt (5-1..5-4) that asks about item ``shown``."""
  return {
      'user_id': ctx.user_id(user),
      'user_desc': ctx.user_desc(user),
      'item_id': ctx.item_id(shown),
      'item_title': ctx.item_title(shown),
      'yes_no': 'yes' if is_positive else 'no',
  }


def build(
    ctx: DatasetContext,
    template: Template,
    user: int,
    positive: int,
    rng: np.random.Generator,
    split: str,
) -> dict:
  """One direct example of ``template`` for the user's positive item."""
  if 'candidates' in template.slots:  # 5-5 .. 5-8
    candidates = _candidates(ctx, rng, user, positive, split)
    values = {
        'user_id': ctx.user_id(user),
        'user_desc': ctx.user_desc(user),
        'candidates': ctx.join_items(candidates, sampling.CANDIDATE_SEPARATOR),
        'groundtruth_item_ids': ctx.item_id(positive),
    }
  else:  # 5-1 .. 5-4: 1:1 positive vs. negative
    candidates = []
    is_positive = bool(rng.integers(2))
    shown = (
        positive
        if is_positive
        else sampling.sample_negatives(rng, ctx.all_items, ctx.user_items(user), 1)[0]
    )
    values = _yes_no_values(ctx, user, shown, is_positive)
  return make_example(template, values, user=user, item=positive, candidates=candidates)


def scored_candidates(
    ctx: DatasetContext, template: Template, user: int, positive: int, candidates: list[int]
) -> Iterator[dict]:
  """Evaluation of a yes/no prompt (5-1..5-4): one example per candidate, ranked by P(yes).

  As in P5's group5 notebooks, the positive and its 99 negatives are each put into the prompt;
  every example carries the user's whole candidate list and its own item in ``item``.
  """
  for shown in candidates:
    values = _yes_no_values(ctx, user, shown, shown == positive)
    yield make_example(template, values, user=user, item=shown, candidates=candidates)


def yes_no_templates(templates: Sequence[Template]) -> tuple[Template, ...]:
  """The binary direct prompts among ``templates`` (5-1..5-4)."""
  return tuple(t for t in templates if t.family == 'direct' and 'yes_no' in t.slots)


def examples(
    ctx: DatasetContext,
    split: str,
    templates: Sequence[Template],
    epoch: int,
    users: Sequence[int],
    train_per_user: int | None = None,
) -> Iterator[dict]:
  """Train: ``train_per_user`` (default P5's 15) examples per user, template uniform over
  ``templates``; eval: one per user (one per candidate for a single yes/no evaluation template,
  see ``scored_candidates``)."""
  per_user = (train_per_user or TRAIN_PER_USER) if split == 'train' else 1
  score_each = split != 'train' and len(templates) == 1 and bool(yes_no_templates(templates))
  for user in users:
    items = ctx.dataset.sequences[user]
    if score_each:
      rng = example_rng(ctx.seed, epoch, f'direct/{split}', user)
      positive = positive_item(rng, items, split)
      candidates = _candidates(ctx, rng, user, positive, split, yes_no=True)
      yield from scored_candidates(ctx, templates[0], user, positive, candidates)
      continue
    for k in range(per_user):
      example = user_example(ctx, templates, epoch, user, k, split)
      if example is not None:
        yield example


def user_example(
    ctx: DatasetContext,
    templates: Sequence[Template],
    epoch: int,
    user: int,
    k: int,
    split: str = 'train',
) -> dict | None:
  """Example ``k`` of ``user`` in ``epoch`` (None when the user has no training item)."""
  rng = example_rng(ctx.seed, epoch, f'direct/{split}', user, k)
  template = templates[int(rng.integers(len(templates)))]
  positive = positive_item(rng, ctx.dataset.sequences[user], split)
  return None if positive is None else build(ctx, template, user, positive, rng, split)
