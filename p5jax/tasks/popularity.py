"""The popularity baseline scored on exactly the examples a model is evaluated on.

`popularity_rows` is the trainer's `extra_rows` hook: for every ranking task (all_items /
candidates / score_yes_no) the same users, targets and candidate sets are ranked by
training-set popularity (`p5jax.baselines.ItemStatistics`), cut to as many items as the model
returns, and scored by the task's own seqio metric functions, so the two rows of a table are
comparable. The row is named `popularity/<task>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import seqio

from p5jax.baselines import ItemStatistics
from p5jax.tasks.decoding import RANKING_MODES
from p5jax.tasks.evaluation import candidate_position
from p5jax.tasks.registry import task_info
from p5jax.training.task_decoding import ExamplesFn, TaskDecoding
from p5jax.vocab import normalize_text


def _text(value: Any) -> str:
  return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def _statistics(context: Any) -> ItemStatistics:
  seqs = context.dataset.sequences
  return ItemStatistics.from_sequences((s[:-2] for s in seqs.values()), context.all_items)


def popularity_metrics(
    task: seqio.Task, mode: str, context: Any, examples: Mapping[str, np.ndarray], top_k: int
) -> dict[str, Any]:
  """The task's metrics of the popularity ranking on `examples` (`user`, `item`,
  `candidates`, `is_positive` arrays as the task yields them); `top_k` items per list."""
  stats = _statistics(context)
  index = context.index
  items, cands = examples['item'], examples['candidates']
  if mode == 'score_yes_no':
    targets = [
        (int(u), int(i), bool(p), candidate_position(int(i), row))
        for u, i, p, row in zip(examples['user'], items, examples['is_positive'], cands)
    ]
    scores = stats.popularity[items.astype(np.int64)].tolist()
    return _merge(fn(targets, scores) for fn in task.score_metric_fns)
  if mode == 'candidates':
    ranked = [stats.rank_candidates(None, row[row > 0], 'popularity')[:top_k] for row in cands]
  else:
    top = stats.rank_all(None, top_k, 'popularity')
    ranked = [top] * len(items)
  predictions = [[_id(index, i) for i in r] for r in ranked]
  targets = [_id(index, i) for i in items]
  return _merge(fn(targets, predictions) for fn in task.predict_metric_fns)


def popularity_rows(
    task: seqio.Task, decoding: TaskDecoding, examples: ExamplesFn
) -> dict[str, dict[str, Any]]:
  """`{'popularity/<task>': metrics}` for a P5 ranking task, `{}` for any other task."""
  try:
    info = task_info(task.name)
  except KeyError:
    return {}
  if info.decoding is None or info.decoding.mode not in RANKING_MODES:
    return {}
  ex = examples(('user', 'item', 'candidates', 'targets_pretokenized'))
  ex['is_positive'] = np.asarray([_text(t) == 'yes' for t in ex.pop('targets_pretokenized')])
  metrics = popularity_metrics(task, info.decoding.mode, info.context(), ex, decoding.num_decodes)
  return {f'popularity/{task.name}': metrics}


def _id(index: Any, item: Any) -> str:
  return normalize_text(index.item_to_tokens(int(item)))


def _merge(dicts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
  out: dict[str, Any] = {}
  for d in dicts:
    out.update(d)
  return out
