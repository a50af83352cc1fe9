"""`iid`: one new vocabulary token per item, `<item_523>`; nothing is shared between items."""

from __future__ import annotations

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex


def iid_token(item: int) -> str:
  return f"<item_{item}>"


def build_iid(inputs: IndexInputs, *, seed: int = 0) -> ItemIndex:
  leaves = {i: iid_token(i) for i in inputs.all_items}
  return ItemIndex("iid", {i: "" for i in leaves}, leaves, list(leaves.values()), seed=seed)
