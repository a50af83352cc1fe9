import numpy as np
import pytest

from p5jax.data.errors import DataFormatError
from p5jax.data.splits import sample_negatives, split_reviews


def _pairs(rng, n_users=30, n_items=20, n=400):
  return [(int(rng.integers(1, n_users + 1)), int(rng.integers(1, n_items + 1))) for _ in range(n)]


def test_review_split_sizes_and_coverage():
  pairs = _pairs(np.random.default_rng(0))
  split = split_reviews(pairs, seed=3)
  n = len(pairs)
  assert split.count('train') == round(0.8 * n) and split.count('val') == round(0.1 * n)
  assert split.count('test') == n - round(0.8 * n) - round(0.1 * n)
  train = [p for p, s in zip(pairs, split) if s == 'train']
  assert {u for u, _ in train} == {u for u, _ in pairs}
  assert {i for _, i in train} == {i for _, i in pairs}
  assert split_reviews(pairs, seed=3) == split and split_reviews(pairs, seed=4) != split


def test_every_user_and_item_forced_into_train_even_when_train_is_small():
  pairs = [(u, u) for u in range(1, 11)]  # each user/item has exactly one review
  assert split_reviews(pairs, seed=0) == ['train'] * 10


def test_pinned_reviews_never_reach_train():
  pairs = _pairs(np.random.default_rng(1))
  pinned = {pairs[0]: 'test', pairs[1]: 'val'}
  split = split_reviews(pairs, seed=0, pinned=pinned)
  for pair, s in zip(pairs, split):
    if pair in pinned:
      assert s == pinned[pair]


def test_negatives_fixed_distinct_and_outside_history():
  rng = np.random.default_rng(0)
  seqs = {u: rng.choice(np.arange(1, 301), size=40, replace=False).tolist() for u in range(1, 50)}
  negs = sample_negatives(seqs, 300, seed=5)
  for u, seq in seqs.items():
    for name in ('val', 'test'):
      assert len(set(negs[u][name])) == 99
      assert not set(negs[u][name]) & set(seq)
      assert all(1 <= i <= 300 for i in negs[u][name])
  assert negs == sample_negatives(seqs, 300, seed=5)
  assert negs != sample_negatives(seqs, 300, seed=6)


def test_too_few_items_for_negatives():
  with pytest.raises(DataFormatError, match=r'user 1 has only 2 items outside their history'):
    sample_negatives({1: [1, 2, 3]}, 5, seed=0, count=3)
