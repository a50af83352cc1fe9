"""One random stream per purpose, all derived from one user-facing seed.

Every seeded choice of data preparation and item indexing (the corrected item numbering, the
review split, the evaluation negatives, each ID scheme) draws from its own generator,
`purpose_rng(seed, purpose)`, seeded with `SeedSequence([seed, crc32(purpose)])`. Two purposes
that shared `default_rng(seed)` would draw the same permutation: the corrected item numbering
and `rid` then coincided, so `rid` reproduced a source's first-appearance numbering (its
test-position leak) exactly.
"""

from __future__ import annotations

import zlib

import numpy as np


def purpose_id(purpose: str) -> int:
  """A stable non-negative integer naming a purpose ('ids/items', 'index/rid', ...)."""
  return zlib.crc32(purpose.encode('utf-8'))


def purpose_rng(seed: int, purpose: str) -> np.random.Generator:
  """The generator of `purpose` under `seed`: independent of every other purpose's."""
  return np.random.default_rng(np.random.SeedSequence([int(seed), purpose_id(purpose)]))
