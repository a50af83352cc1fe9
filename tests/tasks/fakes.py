"""A tiny prepared dataset (docs/CONTRACTS §3) in memory and on disk, for the tasks tests."""

from __future__ import annotations

import json
import os

import numpy as np

from p5jax.data.prepared import FORMAT_VERSION, PreparedDataset, seal
from p5jax.indexing.build import add_scheme

NUM_USERS, NUM_ITEMS = 6, 120
NUM_NEGATIVES = 99  # P5's count, as p5jax-prepare writes by default
FIRST_ITEM = 11  # item numbers never collide with star ratings 1..5 in rendered text


def word(n: int) -> str:
  """A number spelled in letters, so only item/user ids are digits in rendered fixture text."""
  return ''.join(chr(ord('a') + int(d)) for d in str(n))


class FakePreparedDataset:
  """The contract surface of ``p5jax.data.PreparedDataset`` over plain dicts."""

  def __init__(self, manifest, users, items, sequences, reviews, negatives):
    self.manifest, self.users, self.items = manifest, users, items
    self.sequences, self.reviews, self.negatives = sequences, reviews, negatives

  @classmethod
  def load(cls, path):
    def rows(name):
      file = os.path.join(path, name)
      if not os.path.exists(file):
        return []
      with open(file, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]

    with open(os.path.join(path, 'manifest.json'), encoding='utf-8') as f:
      manifest = json.load(f)
    return cls(
        manifest,
        {r['user']: r for r in rows('users.jsonl')},
        {r['item']: r for r in rows('items.jsonl')},
        {r['user']: r['items'] for r in rows('sequences.jsonl')},
        rows('reviews.jsonl'),
        {r['user']: {'val': r['val'], 'test': r['test']} for r in rows('negatives.jsonl')},
    )

  def train_sequence(self, user):
    return self.sequences[user][:-2]

  def val_item(self, user):
    return self.sequences[user][-2]

  def test_item(self, user):
    return self.sequences[user][-1]

  def reviews_in(self, split):
    return [r for r in self.reviews if r['split'] == split]


def make_dataset(protocol: str = 'corrected', seed: int = 0) -> FakePreparedDataset:
  """6 users with 5..10 items, a review per interaction (random 80/10/10 split, so some train
  reviews hit a user's val/test item), explanations on every other review."""
  rng = np.random.default_rng(seed)
  users = {
      u: {'user': u, 'raw_id': f'U{u}', 'name': f'name {word(u)}'} for u in range(1, NUM_USERS + 1)
  }
  all_items = np.arange(FIRST_ITEM, FIRST_ITEM + NUM_ITEMS)
  items = {
      int(i): {
          'item': int(i),
          'raw_id': f'A{i}',
          'title': f'title {word(i)}' if i % 7 else None,
          'brand': f'brand {word(i % 3)}',
          'categories': ['Beauty', f'c{word(i % 4)}'],
          'price': float(i),
      }
      for i in all_items
  }
  sequences = {u: [int(i) for i in rng.choice(all_items, 4 + u, replace=False)] for u in users}
  reviews, k = [], 0
  for u, seq in sequences.items():
    for t, i in enumerate(seq):
      split = ('train', 'train', 'train', 'val', 'test')[k % 5]
      k += 1
      reviews.append(
          {
              'user': u,
              'item': i,
              'rating': float(1 + (u + t) % 5),
              'summary': f'summary {word(i)}',
              'text': f'text of {word(u)} on {word(i)}',
              'explanation': f'explain {word(i)}' if k % 2 else None,
              'feature': f'feat {word(i % 5)}' if k % 2 else None,
              'time': t,
              'split': split,
          }
      )
  negatives = {}
  for u, seq in sequences.items():
    pool = np.setdiff1d(all_items, seq)
    negatives[u] = {
        s: [int(i) for i in rng.choice(pool, NUM_NEGATIVES, replace=False)] for s in ('val', 'test')
    }
  manifest = {
      'format_version': 1,
      'dataset': 'fixture',
      'protocol': protocol,
      'num_users': NUM_USERS,
      'num_items': NUM_ITEMS,
      'num_interactions': sum(map(len, sequences.values())),
      'num_reviews': len(reviews),
      'num_negatives': NUM_NEGATIVES,
      'has_reviews': True,
      'has_explanations': True,
      'has_metadata': True,
      'seed': seed,
      'id_schemes': [],
      'source': 'tests',
  }
  return FakePreparedDataset(manifest, users, items, sequences, reviews, negatives)


def write_prepared_dir(path: str, dataset: FakePreparedDataset) -> str:
  """Writes ``dataset`` in the prepared-directory layout of the contract."""
  os.makedirs(path, exist_ok=True)

  def dump(name, rows):
    with open(os.path.join(path, name), 'w', encoding='utf-8') as f:
      f.writelines(json.dumps(r) + '\n' for r in rows)

  dump('users.jsonl', dataset.users.values())
  dump('items.jsonl', dataset.items.values())
  dump(
      'sequences.jsonl',
      [{'user': u, 'items': s, 'times': list(range(len(s)))} for u, s in dataset.sequences.items()],
  )
  dump('reviews.jsonl', dataset.reviews)
  dump('negatives.jsonl', [{'user': u, **n} for u, n in dataset.negatives.items()])
  seal(path, dict(dataset.manifest, format_version=FORMAT_VERSION))  # hashes, as p5jax-prepare
  add_scheme(path, 'sid', PreparedDataset.load(path))  # the scheme the tests register
  return path


class BareIds:
  """Item ids as bare numbers (P5's original scheme) for fixture contexts."""

  def item_to_tokens(self, item: int) -> str:
    return str(item)
