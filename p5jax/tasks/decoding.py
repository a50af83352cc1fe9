"""What decoding each evaluation prompt needs, declared per template for the trainer's evaluate.

Modes:
- ``all_items``: beam search constrained to every item ID string of the scheme (2-1..2-6, 2-13).
- ``candidates``: beam search constrained to the example's ``candidates`` feature (int32 item
  numbers in prompt order; 2-7..2-10, 5-5..5-8).
- ``score_yes_no``: score the target 'yes' for each example; the examples of one user share
  ``candidates`` and each holds its own ``item``; rank a user's items by that score (5-1..5-4).
- ``closed_set``: the answer is one of ``answers`` (yes/no, like/dislike); decode restricted to
  them or score each.
- ``free``: unconstrained greedy/beam decoding (ratings, explanations, summaries).
"""

from __future__ import annotations

import dataclasses

from p5jax.prompts import Template

MODES = ('all_items', 'candidates', 'score_yes_no', 'closed_set', 'free')


@dataclasses.dataclass(frozen=True)
class DecodingSpec:
  """How to decode one task: ``mode`` (see module doc), closed ``answers``, the metric ``kind``
  ('ranking' | 'rating' | 'classification' | 'text')."""

  mode: str
  metric_kind: str
  answers: tuple[str, ...] = ()


def decoding_for(template: Template) -> DecodingSpec:
  """The decoding an evaluation task of ``template`` needs."""
  slots, target = template.slots, template.target_slots
  if target in (('item_id',), ('groundtruth_item_ids',)):
    return DecodingSpec('candidates' if 'candidates' in slots else 'all_items', 'ranking')
  if target == ('yes_no',):
    if template.family == 'direct':
      return DecodingSpec('score_yes_no', 'ranking', ('yes', 'no'))
    return DecodingSpec('closed_set', 'classification', ('yes', 'no'))
  if target == ('like_dislike',):
    return DecodingSpec('closed_set', 'classification', ('like', 'dislike'))
  if target == ('star_rating',):
    return DecodingSpec('free', 'rating')
  return DecodingSpec('free', 'text')
