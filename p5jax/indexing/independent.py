"""`iid`: one new vocabulary token per item, `<item_523>`; nothing is shared between items.

The number in a token is a seeded random permutation of 1..I, not the item id: under
`protocol=original` item ids follow P5's leaky numbering, and token text can leak into
embeddings initialised from their sub-pieces or into string-level rules (`p5jax-leakcheck`).
"""

from __future__ import annotations

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.seeds import purpose_rng


def iid_token(n: int) -> str:
  return f'<item_{n}>'


def build_iid(inputs: IndexInputs, *, seed: int = 0) -> ItemIndex:
  numbers = purpose_rng(seed, 'index/iid').permutation(len(inputs.all_items)) + 1
  leaves = {i: iid_token(int(n)) for i, n in zip(inputs.all_items, numbers)}
  return ItemIndex('iid', {i: '' for i in leaves}, leaves, sorted(leaves.values()), seed=seed)
