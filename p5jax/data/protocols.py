"""How users and items are numbered under each protocol (`p5jax.protocols`).

`original` reproduces P5's numbering: for Amazon, users are shuffled with Python
`random.seed(2022)` and numbered in that order, and items are numbered by first appearance along
the shuffled users' chronological sequences, validation and test items included, so a user's
test item is often the next new number. Yelp users keep source order (P5 does not shuffle them).
Sources that carry their own numbers (sequence files, P5 releases) keep them.

`corrected` (default): ids carry no information about positions in any split. Users are
numbered by sorted raw id; items by a permutation of their sorted raw ids drawn with `seed`.
The review split also pins every review of a user's sequential validation/test interaction
to the review validation/test split (see `splits.split_reviews`), so no evaluation
interaction of the sequential split reaches any family's training data.
"""

from __future__ import annotations

import random

from p5jax.data.records import RawDataset
from p5jax.protocols import PROTOCOLS, check_protocol
from p5jax.seeds import purpose_rng

__all__ = ['P5_SHUFFLE_SEED', 'PROTOCOLS', 'assign_ids', 'user_names']
P5_SHUFFLE_SEED = 2022


def _natural_key(raw: str) -> tuple[int, int | str]:
  return (0, int(raw)) if raw.isdigit() else (1, raw)


def assign_ids(raw: RawDataset, protocol: str, seed: int) -> tuple[dict[str, int], dict[str, int]]:
  """(raw user -> 1..U, raw item -> 1..I) under `protocol`."""
  if check_protocol(protocol) == 'original':
    if raw.user_numbers is not None and raw.item_numbers is not None:
      return dict(raw.user_numbers), dict(raw.item_numbers)
    users = list(raw.sequences)
    if raw.name != 'yelp':
      random.Random(P5_SHUFFLE_SEED).shuffle(users)
    user_ids = {u: n for n, u in enumerate(users, start=1)}
    item_ids: dict[str, int] = {}
    for u in users:
      for item, _ in raw.sequences[u]:
        item_ids.setdefault(item, len(item_ids) + 1)
    return user_ids, item_ids
  users = sorted(raw.sequences, key=_natural_key)
  items = sorted(raw.items, key=_natural_key)
  order = purpose_rng(seed, 'ids/items').permutation(len(items))
  return (
      {u: n for n, u in enumerate(users, start=1)},
      {items[k]: n for n, k in enumerate(order, start=1)},
  )


def user_names(raw: RawDataset, protocol: str) -> dict[str, str]:
  """raw user -> the name prompts show (`user_desc` of the sequential and direct families).

  Under `original`, a source with per-review names (raw Amazon files, not P5's release, whose
  `user_id2name.pkl` already holds P5's names) gets P5's `user_id2name`: its reviews in file
  order, each overwriting the user's name with its `reviewerName` or, without one, the raw
  reviewer id. Otherwise the source's own name per user.
  """
  if check_protocol(protocol) != 'original' or raw.user_numbers is not None:
    return dict(raw.users)
  if not any(r.user_name for r in raw.reviews):
    return dict(raw.users)
  names = dict(raw.users)
  for review in raw.reviews:
    names[review.user] = review.user_name or review.user
  return names
