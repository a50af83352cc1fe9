"""The popularity baseline scored on exactly the examples a model is evaluated on.

For every ranking task (all_items / candidates / score_yes_no) the same users, targets and
candidate sets are ranked by training-set popularity (`p5jax.baselines.ItemStatistics`) and
scored by the task's own seqio metric functions, so the two rows of a table are comparable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import seqio

from p5jax.baselines import ItemStatistics

RANKING_MODES = ('all_items', 'candidates', 'score_yes_no')
TOP_K = 20


def example_arrays(
    examples: Iterable[Mapping[str, Any]], keys: Iterable[str]
) -> dict[str, np.ndarray]:
  """Stack per-example features; ragged 1-D features (candidates) are right-padded with 0."""
  rows = list(examples)
  out = {}
  for key in keys:
    values = [np.asarray(r[key]) for r in rows]
    if values and values[0].ndim == 1:
      width = max([v.shape[0] for v in values] + [1])
      out[key] = np.stack([np.pad(v, (0, width - v.shape[0])) for v in values])
    else:
      out[key] = np.asarray(values)
  return out


def _statistics(context: Any) -> ItemStatistics:
  seqs = context.dataset.sequences
  return ItemStatistics.from_sequences((s[:-2] for s in seqs.values()), context.all_items)


def popularity_metrics(
    task: seqio.Task, mode: str, context: Any, examples: Mapping[str, np.ndarray]
) -> dict[str, Any]:
  """The task's metrics of the popularity ranking on `examples` (`user`, `item`,
  `candidates` arrays as the task yields them)."""
  stats = _statistics(context)
  index = context.index
  items, cands = examples['item'], examples['candidates']
  if mode == 'score_yes_no':
    positives = examples['is_positive']
    targets = [(int(u), int(i), bool(p)) for u, i, p in zip(examples['user'], items, positives)]
    scores = stats.popularity[items.astype(np.int64)].tolist()
    return _merge(fn(targets, scores) for fn in task.score_metric_fns)
  if mode == 'candidates':
    ranked = [stats.rank_candidates(None, row[row > 0], 'popularity') for row in cands]
  else:
    top = stats.rank_all(None, TOP_K, 'popularity')
    ranked = [top] * len(items)
  predictions = [[_id(index, i) for i in r] for r in ranked]
  targets = [_id(index, i) for i in items]
  return _merge(fn(targets, predictions) for fn in task.predict_metric_fns)


def _id(index: Any, item: Any) -> str:
  return ' '.join(index.item_to_tokens(int(item)).split())


def _merge(dicts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
  out: dict[str, Any] = {}
  for d in dicts:
    out.update(d)
  return out
