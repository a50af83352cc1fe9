"""Iterated k-core filtering of (user, item) interactions to a fixed point."""

from __future__ import annotations

import collections
from collections.abc import Sequence


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
