"""Family 2 (sequential) examples: cuts of each user's chronological sequence.

Training uses P5's cut (``train_cut``: 20 examples per user and epoch, targets among the last three
training items) or the every-prefix cut (each training position a target once per epoch, history
= every earlier item); ``DatasetContext.sequential_cut`` chooses. Neither ever targets or shows the
validation or test item. Evaluation is leave-one-out (``eval_cut``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from p5jax.prompts import Template
from p5jax.tasks import sampling
from p5jax.tasks.context import DatasetContext
from p5jax.tasks.example import make_example
from p5jax.tasks.randomness import example_rng

TRAIN_PER_USER = 20  # P5 train_sample_numbers['sequential'] = (5, 5, 10)
YELP_HISTORY_LIMIT = 20


def train_cut(rng: np.random.Generator, items: Sequence[int]) -> tuple[list[int], int] | None:
  """P5's training cut: target one of the <= 3 items before validation, history starts at 1..3.

  With P5's 1-based positions, ``end`` is uniform over {max(2, n-5) .. n-3} and the target is item
  ``end + 1``; ``start`` is uniform over {1 .. min(3, end-1)}. Sequences shorter than P5's 5-core
  minimum use ``end = n-3``; fewer than 4 items (2 training items) give no training example.
  """
  n = len(items)
  if n < 4:
    return None
  end = int(rng.integers(max(2, n - 5), n - 2)) if n >= 5 else n - 3
  start = int(rng.integers(1, max(2, min(4, end))))
  return list(items[start - 1 : end]), int(items[end])


def every_prefix_count(items: Sequence[int]) -> int:
  """Training positions of a sequence under the every-prefix cut: targets 2..n-2 (1-based), so a
  user with n items (the last two held out) gives n - 3 examples."""
  return max(0, len(items) - 3)


def train_users(ctx: DatasetContext) -> tuple[list[int], np.ndarray]:
  """Users with training examples, in id order, and how many each has per epoch."""
  users, counts = [], []
  for user in ctx.users:
    items = ctx.dataset.sequences[user]
    count = (
        every_prefix_count(items)
        if ctx.sequential_cut == 'every_prefix'
        else (TRAIN_PER_USER if len(items) >= 4 else 0)
    )
    if count:
      users.append(user)
      counts.append(count)
  return users, np.asarray(counts, np.int64)


def train_example(
    ctx: DatasetContext, templates: Sequence[Template], epoch: int, user: int, k: int
) -> dict:
  """Training example ``k`` of ``user`` in ``epoch`` (P5's cut: draw k of 20; every-prefix: the
  example whose target is the user's item k, 1 <= k <= n-3, 0-based)."""
  items = ctx.dataset.sequences[user]
  if ctx.sequential_cut == 'every_prefix':
    rng = example_rng(ctx.seed, epoch, 'sequential/train/every_prefix', user, k)
    template = templates[int(rng.integers(len(templates)))]
    history, target = list(items[:k]), int(items[k])
  else:
    rng = example_rng(ctx.seed, epoch, 'sequential/train', user, k)
    template = templates[int(rng.integers(len(templates)))]
    history, target = train_cut(rng, items)
  return build(ctx, template, user, history, target, rng, 'train')


def eval_cut(items: Sequence[int], split: str) -> tuple[list[int], int]:
  """Leave-one-out: validation predicts item n-1 from 1..n-2, test item n from 1..n-1."""
  last = len(items) - (2 if split == 'validation' else 1)
  return list(items[:last]), int(items[last])


def _render_history(
    ctx: DatasetContext, template: Template, values: dict, history: list[int], separator: str
) -> None:
  """Sets the history slots, keeping the newest items that fit the input length (when
  ``ctx.fits_histories``); a prompt that does not fit even with one item gets an empty history."""
  if ctx.variant == 'yelp':
    history = history[-YELP_HISTORY_LIMIT:]

  def fill(start: int) -> str:
    text = ctx.join_items(history[start:], separator)
    values['purchase_history'] = values['visit_history'] = text
    return template.render(values)[0]

  full = fill(0)
  if ctx.fits_histories and not ctx.fits(full):
    lo, hi = 1, len(history)  # smallest start whose prompt fits; len(history): empty
    while lo < hi:
      mid = (lo + hi) // 2
      lo, hi = (lo, mid) if ctx.fits(fill(mid)) else (mid + 1, hi)
    fill(lo)


def build(
    ctx: DatasetContext,
    template: Template,
    user: int,
    history: list[int],
    target: int,
    rng: np.random.Generator,
    split: str,
) -> dict:
  """One sequential example of ``template`` for a given history and true next item."""
  values = {'user_id': ctx.user_id(user), 'user_desc': ctx.user_desc(user)}
  separator = sampling.history_separator(rng)
  candidates: list[int] = []
  if 'yes_no' in template.slots:  # 2-11 / 2-12: 1:1 positive vs. negative
    positive = bool(rng.integers(2))
    shown = (
        target
        if positive
        else sampling.sample_negatives(rng, ctx.all_items, ctx.user_items(user), 1)[0]
    )
    values.update(item_id=ctx.item_id(shown), yes_no='yes' if positive else 'no')
  else:
    values['item_id'] = ctx.item_id(target)
    if 'candidates' in template.slots:  # 2-7 .. 2-10
      candidates = sampling.shuffled_candidates(rng, target, _negatives(ctx, rng, user, split))
      values['candidates'] = ctx.join_items(candidates, sampling.CANDIDATE_SEPARATOR)
  _render_history(ctx, template, values, history, separator)
  return make_example(template, values, user=user, item=target, candidates=candidates)


def _negatives(ctx: DatasetContext, rng: np.random.Generator, user: int, split: str) -> list[int]:
  if split == 'test' or (split == 'validation' and ctx.corrected):
    return list(ctx.dataset.negatives[user]['test' if split == 'test' else 'val'])
  count = int(rng.integers(79, 100)) if ctx.variant == 'yelp' else 99
  return sampling.sample_negatives(rng, ctx.all_items, ctx.user_items(user), count)


def examples(
    ctx: DatasetContext, split: str, templates: Sequence[Template], epoch: int, users: Sequence[int]
) -> Iterator[dict]:
  """Examples of ``users`` in user order. Train: every training example of the user
  (``train_example``), template uniform over ``templates``; eval: one per user."""
  if split == 'train':
    chosen = set(users)
    for user, count in zip(*train_users(ctx)):
      if user in chosen:
        first = 1 if ctx.sequential_cut == 'every_prefix' else 0
        for k in range(first, first + int(count)):
          yield train_example(ctx, templates, epoch, user, k)
    return
  for user in users:
    items = ctx.dataset.sequences[user]
    rng = example_rng(ctx.seed, epoch, f'sequential/{split}', user, 0)
    template = templates[int(rng.integers(len(templates)))]
    history, target = eval_cut(items, split)
    if history:
      yield build(ctx, template, user, history, target, rng, split)
