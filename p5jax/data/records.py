"""`RawDataset`: what every reader returns, keyed by the source's raw ids (before numbering)."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable


@dataclasses.dataclass
class RawItem:
  title: str | None = None
  brand: str | None = None
  categories: list[str] = dataclasses.field(default_factory=list)
  price: float | None = None


@dataclasses.dataclass
class RawReview:
  user: str
  item: str
  rating: float
  time: int
  summary: str | None = None
  text: str | None = None
  explanation: str | None = None
  feature: str | None = None
  split: str | None = None  # preset split from a released split file, else None
  user_name: str | None = None


@dataclasses.dataclass
class RawDataset:
  """One source read and validated.

  users: raw id -> display name, in source order (first appearance).
  items: raw id -> metadata (every item that occurs in a sequence).
  sequences: raw user -> chronological [(raw item, time)], in source user order.
  reviews: review records (empty for plain sequence files).
  user_numbers / item_numbers: the source's own integer ids, when it has them (P5 files).
  test_negatives: preset test negatives (raw ids) from a released file, if any.
  report: counted notes and skips, printed in the summary and stored in the manifest.
  """

  name: str
  source: str
  users: dict[str, str]
  items: dict[str, RawItem]
  sequences: dict[str, list[tuple[str, int]]]
  reviews: list[RawReview] = dataclasses.field(default_factory=list)
  user_numbers: dict[str, int] | None = None
  item_numbers: dict[str, int] | None = None
  test_negatives: dict[str, list[str]] | None = None
  report: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def user_sequences(reviews: Iterable[RawReview]) -> dict[str, list[tuple[str, int]]]:
  """raw user -> chronological [(raw item, time)] (stable: review order breaks ties), users in
  order of their first review."""
  by_user: dict[str, list[RawReview]] = {}
  for r in reviews:
    by_user.setdefault(r.user, []).append(r)
  return {
      u: [(r.item, r.time) for r in sorted(rs, key=lambda r: r.time)] for u, rs in by_user.items()
  }
