import random

import pytest

from p5jax.data.protocols import P5_SHUFFLE_SEED, assign_ids, user_names
from p5jax.data.records import RawDataset, RawItem, RawReview


def _raw(name='beauty'):
  sequences = {
      'ann': [('x', 1), ('y', 2), ('z', 3)],
      'bob': [('y', 1), ('w', 2), ('x', 3)],
      'cat': [('u', 1), ('z', 2), ('w', 3)],
      'dan': [('v', 1), ('x', 2), ('w', 3)],
  }
  items = {i: RawItem() for i in 'xyzwuv'}
  return RawDataset(name, 'f', {u: u for u in sequences}, items, sequences)


def test_original_amazon_hand_checked():
  order = ['ann', 'bob', 'cat', 'dan']
  random.seed(P5_SHUFFLE_SEED)  # what P5's notebook does
  random.shuffle(order)
  assert order == ['ann', 'dan', 'bob', 'cat']
  users, items = assign_ids(_raw(), 'original', 0)
  assert users == {'ann': 1, 'dan': 2, 'bob': 3, 'cat': 4}
  # ann: x y z are new; dan: v new, x seen, w new; bob: nothing new; cat: u new.
  assert items == {'x': 1, 'y': 2, 'z': 3, 'v': 4, 'w': 5, 'u': 6}


def test_original_yelp_is_not_shuffled():
  users, items = assign_ids(_raw('yelp'), 'original', 0)
  assert users == {'ann': 1, 'bob': 2, 'cat': 3, 'dan': 4}
  assert items == {'x': 1, 'y': 2, 'z': 3, 'w': 4, 'u': 5, 'v': 6}


def test_original_keeps_source_numbers():
  raw = _raw()
  raw.user_numbers = {'ann': 3, 'bob': 1, 'cat': 2}
  raw.item_numbers = {'x': 5, 'y': 4, 'z': 3, 'w': 2, 'v': 1}
  assert assign_ids(raw, 'original', 0) == (raw.user_numbers, raw.item_numbers)


def test_corrected_ignores_sequence_order_and_is_seeded():
  users, items = assign_ids(_raw(), 'corrected', 7)
  assert users == {'ann': 1, 'bob': 2, 'cat': 3, 'dan': 4}
  assert sorted(items.values()) == [1, 2, 3, 4, 5, 6]
  assert assign_ids(_raw(), 'corrected', 7)[1] == items
  other = _raw()
  other.sequences = {u: list(reversed(s)) for u, s in other.sequences.items()}
  assert assign_ids(other, 'corrected', 7)[1] == items  # positions do not matter
  many = [assign_ids(_raw(), 'corrected', s)[1] for s in range(6)]
  assert len({tuple(sorted(m.items())) for m in many}) > 1


def test_unknown_protocol():
  with pytest.raises(ValueError, match='protocol must be one of'):
    assign_ids(_raw(), 'fixed', 0)


def test_original_user_names_follow_p5s_last_review():
  """P5's user_id2name: the last review in file order wins, a nameless one writes the raw id."""
  raw = _raw()
  raw.users = {'ann': 'Ann B', 'bob': 'Bob', 'cat': 'Cat', 'dan': 'Dan'}
  raw.reviews = [
      RawReview('ann', 'x', 5.0, 1, user_name='Ann A'),
      RawReview('ann', 'y', 5.0, 2, user_name=None),
      RawReview('bob', 'y', 5.0, 1, user_name='Bobby'),
  ]
  names = user_names(raw, 'original')
  assert names['ann'] == 'ann' and names['bob'] == 'Bobby' and names['cat'] == 'Cat'
  assert user_names(raw, 'corrected') == raw.users
