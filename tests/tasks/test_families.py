"""TrainFamily: a family's training epoch addressable by index, equal to the streamed examples."""

import pytest

from p5jax import prompts
from p5jax.tasks import families

FAMILIES = ('sequential', 'direct', 'rating', 'explanation', 'review')


def strip(example):
  return {k: v.tolist() if hasattr(v, 'tolist') else v for k, v in example.items()}


@pytest.mark.parametrize('family', FAMILIES)
def test_index_order_is_the_streamed_order_and_any_order_rebuilds_it(make_context, family):
  ctx = make_context()
  seen = prompts.family_templates('amazon', family, seen=True)
  train = families.TrainFamily(ctx, family, seen)
  streamed = [strip(e) for e in families.examples(ctx, family, 'train', seen, epoch=2)]
  by_index = [train.example(2, i) for i in range(train.size)]
  assert [strip(e) for e in by_index if e is not None] == streamed
  assert strip(train.example(2, train.size - 1)) == strip(by_index[-1])  # alone, out of order
  assert strip(train.example(3, 0)) != strip(by_index[0])  # each epoch redraws


def test_sizes(make_context):
  ctx = make_context('original')
  data = ctx.dataset
  seen = lambda f: prompts.family_templates('amazon', f, seen=True)
  assert families.TrainFamily(ctx, 'sequential', seen('sequential')).size == 20 * len(ctx.users)
  assert families.TrainFamily(ctx, 'direct', seen('direct')).size == 15 * len(ctx.users)
  yes_no = families.TrainFamily(ctx, 'direct', seen('direct')[:4], train_per_user=100)
  assert yes_no.size == 100 * len(ctx.users)
  assert families.TrainFamily(ctx, 'rating', seen('rating')).size == len(data.reviews_in('train'))
  every = make_context(sequential_cut='every_prefix')
  assert families.TrainFamily(every, 'sequential', seen('sequential')).size == sum(
      len(s) - 3 for s in data.sequences.values()
  )
  with pytest.raises(IndexError):
    families.TrainFamily(ctx, 'direct', seen('direct')).example(0, 15 * len(ctx.users))
  with pytest.raises(ValueError, match='direct family only'):
    families.TrainFamily(ctx, 'rating', seen('rating'), train_per_user=3)
