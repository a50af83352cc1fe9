"""Corrected protocol: no validation/test interaction of the sequential split in any training
example of any family (P5's original protocol does leak them through the review splits)."""

import re

from p5jax import prompts
from p5jax.tasks import families

TRAIN_FAMILIES = ('rating', 'sequential', 'explanation', 'review', 'direct')


def mentioned_items(text: str) -> set[int]:
  """Item numbers in rendered fixture text (all other fixture text is letters or user_N)."""
  text = re.sub(r'user_\d+', ' ', text).replace('item_', ' ')
  return {int(t) for t in re.findall(r'(?<![\d.])\d+(?![\d.])', text) if int(t) > 10}


def leaked(ctx) -> list:
  out = []
  for family in TRAIN_FAMILIES:
    seen = prompts.family_templates('amazon', family, seen=True)
    for e in families.examples(ctx, family, 'train', seen, epoch=0):
      user = int(e['user'])
      held_out = set(ctx.dataset.sequences[user][-2:])
      if held_out & (
          mentioned_items(e['inputs'] + ' ' + e['targets'])
          | {int(e['item'])}
          | set(e['candidates'].tolist())
      ):
        out.append((family, e['template'], e['inputs']))
  return out


def test_corrected_training_never_shows_held_out_interactions(make_context):
  assert leaked(make_context('corrected')) == []


def test_original_protocol_leaks_through_reviews(make_context):
  bad = leaked(make_context('original'))
  assert bad and {family for family, _, _ in bad} <= {'rating', 'review', 'explanation'}
