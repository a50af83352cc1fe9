"""Tiny stand-ins for the prepared dataset, with the contract attributes indexing reads."""

from __future__ import annotations

import json
import os

import numpy as np

from p5jax.indexing import IndexInputs, ItemMeta


class FakeDataset:
  """manifest / items / users / sequences / reviews and train_sequence(), per CONTRACTS §3."""

  def __init__(self, sequences, items, *, protocol='corrected', reviews=(), seed=0):
    self.sequences = {int(u): list(s) for u, s in sequences.items()}
    self.items = items
    self.users = {
        u: {'user': u, 'raw_id': f'U{u}', 'name': f'Reviewer {u}'} for u in self.sequences
    }
    self.reviews = list(reviews)
    self.manifest = {
        'protocol': protocol,
        'seed': seed,
        'id_schemes': [],
        'num_items': len(items),
        'num_users': len(self.sequences),
    }

  def train_sequence(self, user):
    return self.sequences[user][:-2]

  def write_manifest(self, directory):
    with open(os.path.join(directory, 'manifest.json'), 'w') as f:
      json.dump(self.manifest, f)


def item_record(i, title, categories):
  return {
      'item': i,
      'raw_id': f'B{i:05d}',
      'title': title,
      'brand': 'Acme',
      'categories': list(categories),
      'price': None,
  }


def two_communities(
    per_side: int = 10, users_per_side: int = 30, cold: int = 3, seed: int = 0
) -> FakeDataset:
  """Items 1..per_side are bought together, per_side+1..2*per_side together, and `cold` items
  never appear in any sequence."""
  rng = np.random.default_rng(seed)
  sequences, user = {}, 1
  for side in range(2):
    pool = np.arange(1, per_side + 1) + side * per_side
    for _ in range(users_per_side):
      sequences[user] = rng.choice(pool, size=6, replace=False).tolist()
      user += 1
  n_items = 2 * per_side + cold
  items = {
      i: item_record(i, f'Shade {i % 4} lip gloss', ['Beauty', 'Makeup' if i % 2 else 'Skin'])
      for i in range(1, n_items + 1)
  }
  return FakeDataset(sequences, items)


def leaky_sequences(num_users: int = 400, tail: int = 3000, seed: int = 0) -> dict[int, list]:
  """Sequences numbered like P5's id_map (first appearance along users' full sequences, test
  items included): 5 very popular head items plus a long tail of mostly new items."""
  rng = np.random.default_rng(seed)
  raw = []
  for _ in range(num_users):
    length = int(rng.integers(5, 9))
    head = rng.random(length) < 0.35
    raw.append([f'h{rng.integers(5)}' if h else f't{rng.integers(tail)}' for h in head])
  ids: dict[str, int] = {}
  sequences = {}
  for u, seq in enumerate(raw, start=1):
    out = []
    for name in seq:
      ids.setdefault(name, len(ids) + 1)
      if ids[name] not in out:
        out.append(ids[name])
    if len(out) >= 3:
      sequences[u] = out
  return sequences


def inputs_of(sequences, protocol='original') -> IndexInputs:
  items = sorted({i for s in sequences.values() for i in s})
  return IndexInputs(
      tuple(items),
      {u: s[:-2] for u, s in sequences.items()},
      {i: ItemMeta(title=f'item {i}') for i in items},
      protocol,
  )
