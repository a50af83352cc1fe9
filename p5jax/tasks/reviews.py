"""Families 1 (rating), 3 (explanation), 4 (review) and Z (zero-shot): one example per review.

Records come from the prepared review split (explanation and zero-shot explanation prompts only
use reviews that have an explanation). In the corrected protocol, training drops every review of a
(user, item) pair that is a validation or test interaction of the sequential split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from p5jax.prompts import Template
from p5jax.tasks import sampling
from p5jax.tasks.context import DatasetContext
from p5jax.tasks.example import make_example
from p5jax.tasks.randomness import example_rng

_PREPARED_SPLIT = {'train': 'train', 'validation': 'val', 'test': 'test'}


def records(
    ctx: DatasetContext, family: str, split: str, templates: Sequence[Template]
) -> list[dict]:
  """The review records one family builds examples from, in prepared-file order."""
  rows = list(ctx.dataset.reviews_in(_PREPARED_SPLIT[split]))
  needs_explanation = family == 'explanation' or all('explanation' in t.slots for t in templates)
  if needs_explanation:
    rows = [r for r in rows if r.get('explanation')]
  if split == 'train' and ctx.corrected:
    rows = [r for r in rows if (r['user'], r['item']) not in ctx.held_out_pairs]
  return rows


def review_user_desc(ctx: DatasetContext, record: dict) -> str:
  """The user as a review-based prompt names them: under the original protocol P5's name of
  that review (its reviewerName, else the raw reviewer id); otherwise the user's one name."""
  if ctx.corrected:
    return ctx.user_desc(int(record['user']))
  user = ctx.dataset.users.get(int(record['user'])) or {}
  return record.get('user_name') or user.get('raw_id') or ctx.user_desc(int(record['user']))


def slot_values(
    ctx: DatasetContext, template: Template, record: dict, split: str, rng: np.random.Generator
) -> dict:
  """Fills every slot a review-based template can use from one review record."""
  user, item, rating = int(record['user']), int(record['item']), float(record['rating'])
  values = {
      'user_id': ctx.user_id(user),
      'user_desc': review_user_desc(ctx, record),
      'item_id': ctx.item_id(item),
      'item_title': ctx.item_title(item),
      'brand': ctx.item_field(item, 'brand', 'unknown brand'),
      'price': ctx.item_field(item, 'price', 'unknown price'),
      'review_body': record.get('text') or '',
      'review_headline': record.get('summary') or '',
      'explanation': record.get('explanation') or '',
      'feature': record.get('feature') or '',
      'like_dislike': 'like' if rating >= 4 else 'dislike',
      'star_rating': str(int(rating)),
  }
  if 'yes_no' in template.slots:  # 1-3 / 1-8: true rating (yes) or another rating (no), 1:1
    positive = bool(rng.integers(2))
    values['yes_no'] = 'yes' if positive else 'no'
    values['star_rating'] = str(int(rating) if positive else sampling.wrong_rating(rng, rating))
  elif (
      split == 'train'
      and 'star_rating' in template.target_slots
      and template.family in ('rating', 'explanation')
  ):
    values['star_rating'] = sampling.noisy_rating(rng, rating)  # 4-x ratings stay integers
  return values


def record_example(
    ctx: DatasetContext,
    family: str,
    split: str,
    templates: Sequence[Template],
    epoch: int,
    i: int,
    record: dict,
) -> dict | None:
  """The example of record ``i`` of ``records(...)`` in ``epoch`` (None when its template needs
  an explanation the record lacks)."""
  rng = example_rng(ctx.seed, epoch, f'{family}/{split}', i)
  template = templates[int(rng.integers(len(templates)))]
  if 'explanation' in template.slots and not record.get('explanation'):
    return None
  values = slot_values(ctx, template, record, split, rng)
  return make_example(template, values, user=int(record['user']), item=int(record['item']))
