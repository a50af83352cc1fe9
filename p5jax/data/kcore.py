"""Iterated k-core filtering of (user, item) interactions to a fixed point."""

from __future__ import annotations

import collections
from collections.abc import Sequence

from p5jax.data.records import RawReview


def kcore_mask(users: Sequence[str], items: Sequence[str], k: int) -> list[bool]:
  """Which interactions survive: every kept user and item has >= k kept interactions.

  Removing a sparse user can make an item sparse and vice versa, so filtering repeats until
  nothing changes (P5's Yelp preprocessing; S3-Rec)."""
  keep = [True] * len(users)
  while True:
    user_count = collections.Counter(u for u, m in zip(users, keep) if m)
    item_count = collections.Counter(i for i, m in zip(items, keep) if m)
    changed = False
    for n, (u, i) in enumerate(zip(users, items)):
      if keep[n] and (user_count[u] < k or item_count[i] < k):
        keep[n] = False
        changed = True
    if not changed:
      return keep


def kcore_reviews(reviews: list[RawReview], k: int, report: collections.Counter) -> list[RawReview]:
  """The reviews in the k-core of their (user, item) pairs; the dropped count goes to `report`."""
  keep = kcore_mask([r.user for r in reviews], [r.item for r in reviews], k)
  report[f'reviews dropped by the {k}-core filter'] += keep.count(False)
  return [r for r, kept in zip(reviews, keep) if kept]
