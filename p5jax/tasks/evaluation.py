"""Postprocessors and metric functions attached to the evaluation tasks, by metric kind.

Predictions stay strings (``p5jax.metrics`` parses them under the dataset's protocol); ranking
predictions become a best-first list of item id strings (a single decode is a list of one).
Yes/no ranking (5-1..5-4) is a score metric: each example is one (user, candidate) prompt, its
target postprocesses to ``(user, item, is_positive)``, and a user's candidates are ranked by the
model's score of 'yes'.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from p5jax import metrics
from p5jax.tasks.decoding import DecodingSpec

KS = (1, 5, 10)


def _text(value: Any) -> str:
  if isinstance(value, bytes):
    value = value.decode('utf-8')
  return ' '.join(str(value).split())


def ranking_postprocessor(output: Any, example=None, is_target: bool = False):
  """Target: the item id string; prediction: a best-first list of item id strings."""
  del example
  if is_target or isinstance(output, (str, bytes)):
    return _text(output) if is_target else [_text(output)]
  return [_text(o) for o in output]


def text_postprocessor(output: Any, example=None, is_target: bool = False) -> str:
  """Whitespace-normalised text (ratings stay strings: the metric parses them per protocol)."""
  del example, is_target
  return _text(output)


def scored_candidate_postprocessor(output: Any, example=None, is_target: bool = False):
  """Target -> (user, item, is_positive); predictions (scores) pass through."""
  if not is_target:
    return output
  return int(example['user']), int(example['item']), _text(output) == 'yes'


def accuracy(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
  """Exact-match accuracy of closed-set answers (yes/no, like/dislike)."""
  if len(targets) != len(predictions):
    raise ValueError(f'{len(targets)} targets but {len(predictions)} predictions')
  return {'accuracy': float(np.mean([t == p for t, p in zip(targets, predictions)]))}


def yes_no_ranking(
    targets: Sequence[tuple[int, int, bool]], scores: Sequence[float]
) -> dict[str, float]:
  """HR@k / NDCG@k of each user's positive when its candidates are ranked by P('yes')."""
  if len(targets) != len(scores):
    raise ValueError(f'{len(targets)} targets but {len(scores)} scores')
  by_user = collections.defaultdict(list)
  for (user, item, positive), score in zip(targets, scores):
    by_user[user].append((-float(score), item, positive))
  ranks = []
  for rows in by_user.values():
    rows.sort()  # best score first; ties broken by item number, deterministically
    ranks.append(next((r + 1 for r, row in enumerate(rows) if row[2]), None))
  out = {f'HR@{k}': metrics.hit_ratio_at_k(ranks, k) for k in KS}
  out.update({f'NDCG@{k}': metrics.ndcg_at_k(ranks, k) for k in KS if k > 1})
  return out


def postprocessor(spec: DecodingSpec) -> Callable:
  if spec.mode == 'score_yes_no':
    return scored_candidate_postprocessor
  return ranking_postprocessor if spec.metric_kind == 'ranking' else text_postprocessor


def metric_fns(spec: DecodingSpec, protocol: str) -> Sequence[Callable]:
  """seqio metric functions of ``spec`` under the dataset's protocol."""
  if spec.mode == 'score_yes_no':
    return [yes_no_ranking]
  if spec.metric_kind == 'ranking':
    return [metrics.make_ranking_metric(KS, protocol=protocol)]
  if spec.metric_kind == 'rating':
    return [metrics.make_rating_metric(protocol=protocol)]
  if spec.metric_kind == 'classification':
    return [accuracy]
  return [metrics.make_text_metric(protocol=protocol)]
