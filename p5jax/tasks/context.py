"""Everything an example builder needs about one registered dataset, in one immutable object."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

PROTOCOLS = ('original', 'corrected')
# How training targets are cut from a user's sequence: 'p5' = P5's cut (a target among the last
# three training items, 20 examples per user and epoch); 'every_prefix' = every training position
# is a target once per epoch, with all earlier items as its history.
SEQUENTIAL_CUTS = ('p5', 'every_prefix')
# What to do with a training template whose prompt cannot fit the input length: 'warn' (once, with
# counts, and train on the cut prompt) or 'drop' (leave it out of its task's templates).
OVERLONG_ACTIONS = ('warn', 'drop')


class ItemIds(Protocol):
  """The part of ``p5jax.indexing.ItemIndex`` the prompts use."""

  def item_to_tokens(self, item: int) -> str:
    ...


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetContext:
  """A prepared dataset seen through one ID scheme and one protocol.

  ``dataset`` follows ``p5jax.data.PreparedDataset`` (contract §3); ``index`` gives item id text;
  ``count_tokens`` (text -> number of pieces, EOS excluded) lets the corrected protocol (and the
  every-prefix cut) cut long histories from the old end; None disables that cut.
  ``sequential_cut``: see ``SEQUENTIAL_CUTS`` (None: 'p5' under the original protocol,
  'every_prefix' under the corrected one). ``overlong_templates``: see ``OVERLONG_ACTIONS``.
  """

  dataset: Any
  index: ItemIds
  variant: str  # template variant: 'amazon' | 'yelp'
  protocol: str  # 'original' | 'corrected'
  seed: int = 0
  input_length: int = 512
  count_tokens: Callable[[str], int] | None = None
  sequential_cut: str | None = None
  overlong_templates: str = 'warn'

  def __post_init__(self):
    if self.protocol not in PROTOCOLS:
      raise ValueError(f'protocol must be one of {PROTOCOLS}, got {self.protocol!r}')
    if self.sequential_cut is None:
      cut = 'p5' if self.protocol == 'original' else 'every_prefix'
      object.__setattr__(self, 'sequential_cut', cut)
    if self.sequential_cut not in SEQUENTIAL_CUTS:
      raise ValueError(
          f'sequential_cut must be one of {SEQUENTIAL_CUTS}, got {self.sequential_cut!r}'
      )
    if self.overlong_templates not in OVERLONG_ACTIONS:
      raise ValueError(
          f'overlong_templates must be one of {OVERLONG_ACTIONS}, got {self.overlong_templates!r}'
      )

  @property
  def corrected(self) -> bool:
    return self.protocol == 'corrected'

  @property
  def fits_histories(self) -> bool:
    """Whether histories are cut from the old end to fit ``input_length`` (corrected protocol
    or every-prefix cut); P5's original examples keep the whole history and seqio cuts the end."""
    return self.corrected or self.sequential_cut == 'every_prefix'

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
