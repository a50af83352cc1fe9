"""Everything an example builder needs about one registered dataset, in one immutable object."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from p5jax.protocols import check_protocol


class ItemIds(Protocol):
  """The part of ``p5jax.indexing.ItemIndex`` the prompts use."""

  def item_to_tokens(self, item: int) -> str:
    ...


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetContext:
  """A prepared dataset seen through one ID scheme and one protocol.

  ``dataset`` follows ``p5jax.data.PreparedDataset`` (contract §3); ``index`` gives item id text;
  ``count_tokens`` (text -> number of pieces, EOS excluded) lets the corrected protocol cut long
  histories from the old end; None disables that cut.
  """

  dataset: Any
  index: ItemIds
  variant: str  # template variant: 'amazon' | 'yelp'
  protocol: str  # 'original' | 'corrected'
  seed: int = 0
  input_length: int = 512
  count_tokens: Callable[[str], int] | None = None

  def __post_init__(self):
    check_protocol(self.protocol)

  @property
  def corrected(self) -> bool:
    return self.protocol == 'corrected'

  @functools.cached_property
  def all_items(self) -> np.ndarray:
    """The catalogue, the pool of negative sampling (P5: items of its sequence file, the same
    set after 5-core filtering)."""
    return np.asarray(sorted(int(i) for i in self.dataset.items), np.int64)

  @functools.cached_property
  def users(self) -> tuple[int, ...]:
    return tuple(sorted(self.dataset.sequences))

  @functools.cached_property
  def held_out_pairs(self) -> frozenset[tuple[int, int]]:
    """(user, item) of every validation and test interaction of the sequential split."""
    return frozenset((u, i) for u, s in self.dataset.sequences.items() for i in s[-2:])

  @functools.cached_property
  def _user_item_sets(self) -> dict[int, frozenset[int]]:
    return {u: frozenset(s) for u, s in self.dataset.sequences.items()}

  def user_items(self, user: int) -> frozenset[int]:
    return self._user_item_sets.get(user, frozenset())

  def user_id(self, user: int) -> str:
    return str(user)

  def user_desc(self, user: int) -> str:
    record = self.dataset.users.get(user) or {}
    return record.get('name') or record.get('raw_id') or str(user)

  @functools.cached_property
  def _item_ids(self) -> dict[int, str]:
    return {int(i): self.index.item_to_tokens(int(i)) for i in self.dataset.items}

  def item_id(self, item: int) -> str:
    return self._item_ids[item]

  def item_field(self, item: int, field: str, fallback: str) -> str:
    value = (self.dataset.items.get(item) or {}).get(field)
    return fallback if value is None or value == '' else str(value)

  def item_title(self, item: int) -> str:
    return self.item_field(
        item, 'title', 'unknown name' if self.variant == 'yelp' else 'unknown title'
    )

  def join_items(self, items: Sequence[int], separator: str) -> str:
    ids = self._item_ids
    return separator.join([ids[i] for i in items])

  def fits(self, text: str) -> bool:
    """Whether ``text`` plus EOS fits the input length (always True without a token counter)."""
    if self.count_tokens is None or 2 * len(text.encode('utf-8')) + 1 < self.input_length:
      return True
    return self.count_tokens(text) + 1 <= self.input_length
