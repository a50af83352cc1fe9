"""`rid`: random distinct numbers (a seeded permutation of 1..I), carrying no information."""

from __future__ import annotations

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.numbering import format_number
from p5jax.seeds import purpose_rng


def build_rid(inputs: IndexInputs, *, seed: int = 0, number_style: str = 'digits') -> ItemIndex:
  numbers = purpose_rng(seed, 'index/rid').permutation(len(inputs.all_items)) + 1
  leaves = {i: format_number(int(n), number_style) for i, n in zip(inputs.all_items, numbers)}
  return ItemIndex(
      'rid', {i: '' for i in leaves}, leaves, [], params={'number_style': number_style}, seed=seed
  )
