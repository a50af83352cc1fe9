"""`contid`: content IDs from the item's category path, then a leaf number.

Each distinct category-path prefix (tree node) gets its own token `<cat_{j}>` (numbered in the
sorted order of the paths, so the numbering does not depend on item ids); an item's ID is the
tokens of its path, at most `max_depth` levels, then its number among the items sharing that
path (seeded order): `<cat_0><cat_3> 1 2`. Items with no categories share the empty path and get
only a number.
"""

from __future__ import annotations

import collections

from p5jax.indexing.inputs import IndexInputs, ItemMeta
from p5jax.indexing.item_index import ItemIndex, normalize_id_string
from p5jax.indexing.numbering import format_number
from p5jax.seeds import purpose_rng


def category_path(meta: ItemMeta | None, max_depth: int) -> tuple[str, ...]:
  if meta is None:
    return ()
  return tuple(normalize_id_string(c) for c in meta.categories if c.strip())[:max_depth]


def build_contid(
    inputs: IndexInputs, *, seed: int = 0, max_depth: int = 4, number_style: str = 'digits'
) -> ItemIndex:
  paths = {i: category_path(inputs.meta.get(i), max_depth) for i in inputs.all_items}
  nodes = sorted({p[:d] for p in paths.values() for d in range(1, len(p) + 1)})
  token = {node: f'<cat_{j}>' for j, node in enumerate(nodes)}
  groups: dict[tuple[str, ...], list[int]] = collections.defaultdict(list)
  for i in sorted(paths):
    groups[paths[i]].append(i)
  rng = purpose_rng(seed, 'index/contid')
  prefixes, leaves = {}, {}
  for path in sorted(groups):
    members = groups[path]
    prefix = ''.join(token[path[:d]] for d in range(1, len(path) + 1))
    for number, pos in enumerate(rng.permutation(len(members))):
      prefixes[members[pos]] = prefix
      leaves[members[pos]] = format_number(number, number_style)
  return ItemIndex(
      'contid',
      prefixes,
      leaves,
      [token[n] for n in nodes],
      params={'max_depth': max_depth, 'number_style': number_style},
      seed=seed,
  )
