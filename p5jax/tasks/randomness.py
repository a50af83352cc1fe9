"""Per-example random generators derived from a seed and the example's key.

Every random choice (template, separator, negatives, noise, cut points) of an example comes from a
generator seeded by ``(seed, epoch, stream, user/record, k)``, so any example can be rebuilt alone:
runs are reproducible, resumable and independent of iteration order and sharding.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
  """A stable non-negative integer for a string (task or family name)."""
  return zlib.crc32(name.encode('utf-8'))


def example_rng(seed: int, epoch: int, stream: str, key: int, k: int = 0) -> np.random.Generator:
  """The generator of example ``k`` of ``key`` (a user or record index) in ``stream``/``epoch``."""
  return np.random.default_rng(np.random.SeedSequence([seed, epoch, stream_id(stream), key, k]))
