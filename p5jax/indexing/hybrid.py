"""Hybrid IDs `a+b`: the structural prefix of scheme `a` followed by the full ID of scheme `b`.

`cid+iid` gives `<c12><c3> <item_523>`: the cluster path is kept and the leaf number is replaced
by the item's own token, so siblings share the prefix yet each item keeps a private embedding.
The result is unique because `b` is. With `keep='full'` (for flat schemes such as `sid`, which
have no prefix) the full ID of `a` is kept instead: `sid+iid` gives `1 2 <item_523>`.
"""

from __future__ import annotations

from p5jax.indexing.item_index import ItemIndex


def compose(first: ItemIndex, second: ItemIndex, keep: str = 'prefix') -> ItemIndex:
  if first.items() != second.items():
    raise ValueError(f'cannot compose {first.scheme}+{second.scheme}: different item sets')
  if keep not in ('prefix', 'full'):
    raise ValueError(f"keep must be 'prefix' or 'full', got {keep!r}")
  part = first.prefix if keep == 'prefix' else first.item_to_tokens
  prefixes = {i: part(i) for i in first.items()}
  leaves = {i: second.item_to_tokens(i) for i in second.items()}
  return ItemIndex(
      f'{first.scheme}+{second.scheme}',
      prefixes,
      leaves,
      first.new_tokens() + second.new_tokens(),
      params={first.scheme: first.params, second.scheme: second.params},
      seed=first.seed,
  )
