"""`IndexInputs`: the plain data every scheme builder reads, extracted from a prepared dataset.

Builders are pure functions of these inputs, so they can be tested and benchmarked without a
prepared directory. Only **training** interactions are exposed (leave-one-out train parts), so
no scheme can see a validation or test item's position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class ItemMeta:
  """The item metadata the content schemes use."""

  title: str | None = None
  brand: str | None = None
  categories: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class IndexInputs:
  """all_items: every item id; train_sequences: user -> chronological TRAIN items only;
  meta: item -> ItemMeta; protocol: 'original' | 'corrected'."""

  all_items: tuple[int, ...]
  train_sequences: Mapping[int, Sequence[int]]
  meta: Mapping[int, ItemMeta] = dataclasses.field(default_factory=dict)
  protocol: str = 'corrected'


def _field(record: Any, name: str) -> Any:
  if isinstance(record, Mapping):
    return record.get(name)
  return getattr(record, name, None)


def item_meta(record: Any) -> ItemMeta:
  """ItemMeta from an `items.jsonl` record (a dict or an object with those attributes)."""
  categories = _field(record, 'categories') or ()
  return ItemMeta(
      title=_field(record, 'title'),
      brand=_field(record, 'brand'),
      categories=tuple(str(c) for c in categories),
  )


def inputs_from_dataset(dataset: Any) -> IndexInputs:
  """Reads a `p5jax.data.PreparedDataset` through its contract attributes."""
  items = dataset.items
  return IndexInputs(
      all_items=tuple(sorted(int(i) for i in items)),
      train_sequences={int(u): tuple(dataset.train_sequence(u)) for u in dataset.sequences},
      meta={int(i): item_meta(r) for i, r in items.items()},
      protocol=str(dataset.manifest.get('protocol', 'corrected')),
  )
