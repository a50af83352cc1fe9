"""The random draws of P5's example construction (its `pretrain_data.py`), as pure functions
of a generator."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

# P5's `gaussian_sampling`: per integer rating, mean and std of the perturbed training target.
_RATING_MEAN = {1: 1.2, 2: 1.95, 3: 2.95, 4: 3.95, 5: 4.75}
_RATING_STD = {1: 0.1, 2: 0.225, 3: 0.225, 4: 0.225, 5: 0.125}

HISTORY_SEPARATORS = (' , ', ' -> ')
CANDIDATE_SEPARATOR = ' , '


def noisy_rating(rng: np.random.Generator, rating: float) -> str:
  """Training rating target: N(mu_r, sigma_r), rounded to 1 decimal, clipped to [1, 5], as str."""
  r = int(rating)
  value = round(float(rng.normal(_RATING_MEAN[r], _RATING_STD[r])), 1)
  return str(min(5.0, max(1.0, value)))


def wrong_rating(rng: np.random.Generator, rating: float) -> int:
  """A rating drawn uniformly from {1..5} without the true one (1-3 / 1-8 negatives)."""
  others = [r for r in range(1, 6) if r != int(rating)]
  return others[int(rng.integers(len(others)))]


def history_separator(rng: np.random.Generator) -> str:
  """' , ' or ' -> ' with probability 1/2 each, drawn per example."""
  return HISTORY_SEPARATORS[int(rng.integers(2))]


def sample_negatives(
    rng: np.random.Generator, all_items: np.ndarray, exclude: Collection[int], count: int
) -> list[int]:
  """``count`` distinct items drawn uniformly from ``all_items`` and not in ``exclude``."""
  if len(all_items) - len(exclude) < count:
    raise ValueError(
        f'cannot draw {count} negatives: only {len(all_items)} items, ' f'{len(exclude)} excluded'
    )
  picked: list[int] = []
  taken = set(exclude)
  while len(picked) < count:
    draw = all_items[rng.integers(len(all_items), size=2 * (count - len(picked)) + 8)].tolist()
    for item in draw:  # distinct, not excluded, in draw order
      if item not in taken:
        taken.add(item)
        picked.append(item)
        if len(picked) == count:
          break
  return picked


def shuffled_candidates(
    rng: np.random.Generator, positive: int, negatives: Sequence[int]
) -> list[int]:
  """The positive appended to the negatives, then shuffled (P5's candidate list)."""
  items = list(negatives) + [positive]
  return [items[i] for i in rng.permutation(len(items))]
