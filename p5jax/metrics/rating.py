"""RMSE and MAE for rating prediction (P5 families 1 and 4).

* ``corrected`` (default): every example counts. A prediction that does not parse as a number
    is a miss: it is scored at the largest error possible for its target (as if the farthest
    rating had been predicted) and counted in ``unparseable``. Parsed values are clipped to the
    rating range.
* ``original``: P5's rating notebooks (1-6, 1-10). Only predictions whose string is one of
    ``'1.0' .. '4.9'`` are kept (so ``'5.0'``, integers and garbage are silently dropped); kept
    values are clipped and averaged. With ``rounded`` it is P5's review-rating path (4-2, 4-4):
    ``round(float(pred))`` (half to even) with no filter. P5 raised on an unparseable
    prediction; here it is dropped and counted in ``unparseable``, so one bad string does not
    end an evaluation.

``rounded`` under ``corrected`` rounds parsed predictions too (ratings as integers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from p5jax.protocols import check_protocol

P5_KEPT_STRINGS = frozenset(str(i / 10.0) for i in range(10, 50))


def _parse_float(text: str) -> float | None:
  try:
    value = float(str(text).strip())
  except ValueError:
    return None
  return value if np.isfinite(value) else None


def rating_metrics(
    targets: Sequence[str | float],
    predictions: Sequence[str],
    *,
    protocol: str = 'corrected',
    rounded: bool = False,
    min_rating: float = 1.0,
    max_rating: float = 5.0,
) -> dict[str, float]:
  """``{'RMSE', 'MAE', 'count', 'unparseable'}`` over (target, prediction) pairs."""
  check_protocol(protocol)
  if len(targets) != len(predictions):
    raise ValueError(f'{len(targets)} targets but {len(predictions)} predictions')
  gold, pred, unparseable = [], [], 0
  for i, (t, p) in enumerate(zip(targets, predictions)):
    target = _parse_float(t)
    if target is None:
      raise ValueError(f'target #{i} {t!r} is not a number')
    if protocol == 'original' and not rounded:
      if str(p) not in P5_KEPT_STRINGS:
        continue
      value = float(p)
    else:
      value = _parse_float(p)
      if value is None:
        unparseable += 1
        if protocol == 'original':
          continue
        value = min_rating if target - min_rating >= max_rating - target else max_rating
      elif rounded:
        value = float(round(value))
    gold.append(target)
    pred.append(min(max(value, min_rating), max_rating))
  err = np.asarray(pred) - np.asarray(gold)
  return {
      'RMSE': float(np.sqrt(np.mean(err**2))) if err.size else float('nan'),
      'MAE': float(np.mean(np.abs(err))) if err.size else float('nan'),
      'count': float(err.size),
      'unparseable': float(unparseable),
  }


def make_rating_metric(
    protocol: str = 'corrected',
    rounded: bool = False,
    min_rating: float = 1.0,
    max_rating: float = 5.0,
):
  """A seqio metric ``fn(targets, predictions) -> dict`` with these settings bound."""

  def rating(targets, predictions):
    return rating_metrics(
        targets,
        predictions,
        protocol=protocol,
        rounded=rounded,
        min_rating=min_rating,
        max_rating=max_rating,
    )

  return rating
