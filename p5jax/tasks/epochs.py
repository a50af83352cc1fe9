"""The order of training examples: a seeded shuffle of each whole epoch, by position.

P5 trains on a DataLoader that shuffles the concatenation of all its families' examples every
epoch. ``ExampleOrder`` is that order as a pure function: position ``p`` of the endless stream
falls in epoch ``p // epoch_size``, and a permutation derived from (seed, epoch) maps it to one
example of one family (``families.TrainFamily``), built on demand. Nothing is buffered, so any
position is reached in O(1) (resume), any host or worker builds any share of the stream, and the
order does not depend on how the work is split.

A mixture's epoch is the union of its families' epochs. With P5's rates (each family's rate is
its number of examples per epoch) that union is exact; other rates give family ``f``
``round(N * rate_f / sum(rates))`` slots per epoch (``N``: examples of all families), filled
from the family's own endless shuffled stream, so a family is up- or down-sampled without
repeating an example before its own epoch is used up.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from p5jax.tasks.families import TrainFamily
from p5jax.tasks.randomness import stream_id


@functools.lru_cache(maxsize=16)
def permutation(seed: int, epoch: int, name: str, size: int) -> np.ndarray:
  """A permutation of ``range(size)`` that depends only on (seed, epoch, name)."""
  rng = np.random.default_rng(np.random.SeedSequence([seed, epoch, stream_id(name)]))
  return rng.permutation(size).astype(np.int64)


class ExampleOrder:
  """An endless stream over one or more training families, shuffled per epoch.

  ``parts``: (name, family, rate) with ``rate`` None for the family's example count (P5's
  share). ``shuffle=False`` keeps index order (families one after another), for inspection.
  """

  def __init__(
      self,
      parts: Sequence[tuple[str, TrainFamily, float | None]],
      seed: int,
      shuffle: bool = True,
  ):
    if not parts:
      raise ValueError('ExampleOrder needs at least one family')
    self.names = tuple(name for name, _, _ in parts)
    self.families = tuple(family for _, family, _ in parts)
    sizes = np.asarray([f.size for f in self.families], np.int64)
    empty = [n for n, s in zip(self.names, sizes) if s == 0]
    if empty:
      raise ValueError(f'training tasks without examples: {empty}')
    rates = np.asarray(
        [float(s) if r is None else float(r) for (_, _, r), s in zip(parts, sizes)], np.float64
    )
    if np.any(rates < 0) or rates.sum() <= 0:
      raise ValueError(f'mixture rates must be >= 0 with a positive sum, got {rates.tolist()}')
    total = int(sizes.sum())
    self._slots = np.rint(total * rates / rates.sum()).astype(np.int64)
    self._sizes = sizes
    self._ends = np.cumsum(self._slots)
    self.epoch_size = int(self._ends[-1])
    self.seed, self.shuffle = int(seed), bool(shuffle)
    self._name = ','.join(self.names)

  def locate(self, position: int) -> tuple[int, int, int]:
    """(part, family epoch, family index) of stream position ``position``."""
    epoch, slot = divmod(int(position), self.epoch_size)
    if self.shuffle:
      slot = int(permutation(self.seed, epoch, self._name, self.epoch_size)[slot])
    part = int(np.searchsorted(self._ends, slot, side='right'))
    j = slot - (int(self._ends[part - 1]) if part else 0)
    slots, size = int(self._slots[part]), int(self._sizes[part])
    if slots == size:  # the family's whole epoch: the union permutation already shuffled it
      return part, epoch, j
    family_epoch, k = divmod(epoch * slots + j, size)
    if self.shuffle:
      k = int(permutation(self.seed, family_epoch, self.names[part], size)[k])
    return part, family_epoch, k

  def example(self, position: int) -> dict | None:
    """The example at ``position`` (None: a record whose template cannot use it, skipped)."""
    part, epoch, index = self.locate(position)
    return self.families[part].example(epoch, index)

  def family_shares(self) -> dict[str, int]:
    """Examples per epoch of each part."""
    return dict(zip(self.names, self._slots.tolist()))
