"""P5's split protocol (paper §5.1, its preprocessing notebooks): the 80/10/10 review split
and fixed evaluation negatives.

Sequences use leave-one-out and need no stored split: `items[-1]` is test, `items[-2]`
validation, `items[:-2]` train.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from p5jax.data.errors import DataFormatError
from p5jax.seeds import purpose_rng

TRAIN, VAL, TEST = 'train', 'val', 'test'


# Negatives per user and split unless `p5jax-prepare --num_negatives` says otherwise (P5: 99,
# so each candidate list holds 100 items). The manifest records the count a dataset was made with.
DEFAULT_NUM_NEGATIVES = 99


def split_reviews(
    pairs: Sequence[tuple[int, int]],
    *,
    seed: int,
    pinned: Mapping[tuple[int, int], str] | None = None,
) -> list[str]:
  """The split of each review, given its (user, item).

  One random review per user and one per item are forced into train, train is filled to
  round(0.8 N) at random, validation takes round(0.1 N) of the rest, test the remainder (P5).
  `pinned` ((user, item) -> 'val'|'test'; the corrected protocol) sends those reviews to that
  split first; they are never forced into train, and the random fill tops val/test up to
  their sizes only if the pinned reviews fall short.
  """
  n = len(pairs)
  rng = purpose_rng(seed, 'splits/reviews')
  split: list[str | None] = [None] * n
  pinned = pinned or {}
  for k, pair in enumerate(pairs):
    split[k] = pinned.get(pair)
  free = [k for k in range(n) if split[k] is None]
  for position in (0, 1):  # one random review per user, then per item
    groups: dict[int, list[int]] = {}
    for k in free:
      groups.setdefault(pairs[k][position], []).append(k)
    for key in sorted(groups):
      members = groups[key]
      if not any(split[k] == TRAIN for k in members):
        split[members[rng.integers(len(members))]] = TRAIN
  rest = [k for k in rng.permutation(n).tolist() if split[k] is None]
  want = {TRAIN: round(0.8 * n), VAL: round(0.1 * n)}
  have = {s: split.count(s) for s in (TRAIN, VAL, TEST)}
  for name in (TRAIN, VAL):
    take = max(0, want[name] - have[name])
    for k in rest[:take]:
      split[k] = name
    rest = rest[take:]
  for k in rest:
    split[k] = TEST
  return split  # type: ignore[return-value]


def sample_negatives(
    sequences: Mapping[int, Sequence[int]],
    num_items: int,
    *,
    seed: int,
    count: int = DEFAULT_NUM_NEGATIVES,
) -> dict[int, dict[str, list[int]]]:
  """Per user, `count` distinct items for val and (independently) for test, uniform over
  items 1..num_items never in the user's full history. Vectorised over users; one seeded
  generator, users in ascending order, so the result is reproducible."""
  users = np.array(sorted(sequences), np.int64)
  lengths = np.array([len(sequences[u]) for u in users.tolist()])
  rows = np.repeat(np.arange(len(users)), lengths)
  history = np.concatenate([np.asarray(sequences[u], np.int64) for u in users.tolist()])
  keys = np.unique(rows * (num_items + 1) + history)  # (row, item) pairs of every history
  available = num_items - np.bincount(keys // (num_items + 1), minlength=len(users))
  short = np.flatnonzero(available < count)
  if len(short):
    raise DataFormatError(
        '<negatives>',
        f'user {users[short[0]]} has only '
        f'{available[short[0]]} items outside their history; {count} '
        'negatives per user are needed',
        field='num_negatives',
    )
  rng = purpose_rng(seed, 'negatives')
  val = _draw_rows(rng, keys, len(users), num_items, count)
  test = _draw_rows(rng, keys, len(users), num_items, count)
  return {u: {VAL: v, TEST: t} for u, v, t in zip(users.tolist(), val.tolist(), test.tolist())}


def _draw_rows(
    rng: np.random.Generator, keys: np.ndarray, num_rows: int, num_items: int, count: int
) -> np.ndarray:
  """[num_rows, count]: per row, the first `count` distinct drawn items whose (row, item) key
  is not in `keys`; rows that fall short are redrawn with twice as many candidates."""
  out = np.zeros((num_rows, count), np.int64)
  todo = np.arange(num_rows)
  width = 2 * count + 32
  while len(todo):
    draw = rng.integers(1, num_items + 1, size=(len(todo), width))
    valid = ~np.isin(todo[:, None] * (num_items + 1) + draw, keys)
    order = np.argsort(draw, axis=1, kind='stable')
    ordered = np.take_along_axis(draw, order, axis=1)
    repeat = np.zeros_like(valid)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    np.put_along_axis(valid, order, np.take_along_axis(valid, order, axis=1) & ~repeat, axis=1)
    enough = valid.sum(axis=1) >= count
    take = valid & (np.cumsum(valid, axis=1) <= count) & enough[:, None]
    out[todo[enough]] = draw[take].reshape(-1, count)
    todo, width = todo[~enough], 2 * width
  return out
