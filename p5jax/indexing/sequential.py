"""`sid`: items numbered by first appearance in **training** interactions.

Users are walked in a seeded random order and each user's train items chronologically; a new
item gets the next number. Items never seen in training (only in validation/test, or in the
catalog alone) are numbered after all of them in a seeded random order, so a held-out item's
number does not depend on where it sits in anyone's sequence.
"""

from __future__ import annotations

import numpy as np

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.numbering import format_number
from p5jax.seeds import purpose_rng


def sequential_order(inputs: IndexInputs, seed: int) -> np.ndarray:
  """Item ids in SID order (position p gets number p+1)."""
  rng = purpose_rng(seed, 'index/sid')
  users = np.array(sorted(inputs.train_sequences), dtype=np.int64)
  users = users[rng.permutation(len(users))]
  parts = [np.asarray(inputs.train_sequences[int(u)], dtype=np.int64) for u in users]
  walk = np.concatenate(parts) if parts else np.zeros(0, np.int64)
  _, first = np.unique(walk, return_index=True)
  seen = walk[np.sort(first)]
  catalog = np.asarray(inputs.all_items, dtype=np.int64)
  unknown = np.setdiff1d(seen, catalog)
  if unknown.size:
    raise ValueError(f'train sequences name items not in the catalog: {unknown[:10].tolist()}')
  unseen = np.setdiff1d(catalog, seen)
  return np.concatenate([seen, unseen[rng.permutation(len(unseen))]])


def build_sid(inputs: IndexInputs, *, seed: int = 0, number_style: str = 'digits') -> ItemIndex:
  order = sequential_order(inputs, seed)
  leaves = {int(i): format_number(p + 1, number_style) for p, i in enumerate(order)}
  return ItemIndex(
      'sid', {i: '' for i in leaves}, leaves, [], params={'number_style': number_style}, seed=seed
  )
