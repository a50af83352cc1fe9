"""Postprocessors and metric functions attached to the evaluation tasks, by metric kind.

Predictions stay strings (``p5jax.metrics`` parses them under the dataset's protocol); ranking
predictions become a best-first list of item id strings (a single decode is a list of one).
Yes/no ranking (5-1..5-4) is a score metric: each example is one (user, candidate) prompt, its
target postprocesses to ``(user, item, is_positive, position)``, and a user's candidates are
ranked by the model's score of 'yes'; ties keep the prompt's (shuffled) candidate order, which
favours neither the positive nor any item number.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from p5jax import metrics
from p5jax.tasks.decoding import DecodingSpec
from p5jax.vocab import normalize_text

KS = (1, 5, 10)


def _text(value: Any) -> str:
  if isinstance(value, bytes):
    value = value.decode('utf-8')
  return normalize_text(str(value))


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


def candidate_position(item: int, candidates: np.ndarray) -> int:
  """Where ``item`` is listed among ``candidates`` (the tie-break of yes/no ranking)."""
  hits = np.flatnonzero(np.asarray(candidates) == item)
  if not len(hits):
    raise ValueError(f'item {item} is not among its candidates')
  return int(hits[0])


def scored_candidate_postprocessor(output: Any, example=None, is_target: bool = False):
  """Target -> (user, item, is_positive, position); predictions (scores) pass through."""
  if not is_target:
    return output
  item = int(example['item'])
  position = candidate_position(item, example['candidates'])
  return int(example['user']), item, _text(output) == 'yes', position


def accuracy(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
  """Exact-match accuracy of closed-set answers (yes/no, like/dislike)."""
  if len(targets) != len(predictions):
    raise ValueError(f'{len(targets)} targets but {len(predictions)} predictions')
  return {'accuracy': float(np.mean([t == p for t, p in zip(targets, predictions)]))}


def yes_no_ranking(
    targets: Sequence[tuple[int, int, bool, int]], scores: Sequence[float]
) -> dict[str, float]:
  """HR@k / NDCG@k of each user's positive when its candidates are ranked by P('yes')."""
  if len(targets) != len(scores):
    raise ValueError(f'{len(targets)} targets but {len(scores)} scores')
  by_user = collections.defaultdict(list)
  for (user, _, positive, position), score in zip(targets, scores):
    by_user[user].append((-float(score), position, positive))
  ranks = []
  for rows in by_user.values():
    rows.sort()  # best score first; ties in the prompt's candidate order
    ranks.append(next((r + 1 for r, row in enumerate(rows) if row[2]), None))
  out = {f'HR@{k}': metrics.hit_ratio_at_k(ranks, k) for k in KS}
  out.update({f'NDCG@{k}': metrics.ndcg_at_k(ranks, k) for k in KS if k > 1})
  return out


def postprocessor(spec: DecodingSpec) -> Callable:
  if spec.mode == 'score_yes_no':
    return scored_candidate_postprocessor
  return ranking_postprocessor if spec.metric_kind == 'ranking' else text_postprocessor


def metric_fns(spec: DecodingSpec, protocol: str) -> Sequence[Callable]:
  """seqio metric functions of ``spec`` under the dataset's protocol: P5's rounding of review
  ratings (4-2/4-4) and its BLEU-2 for review summaries (4-1) under 'original'."""
  kind = spec.metric_kind
  if spec.mode == 'score_yes_no':
    return [yes_no_ranking]
  if kind == 'ranking':
    return [metrics.make_ranking_metric(KS, protocol=protocol)]
  if kind in ('rating', 'review_rating'):
    rounded = kind == 'review_rating' and protocol == 'original'
    return [metrics.make_rating_metric(protocol=protocol, rounded=rounded)]
  if kind == 'classification':
    return [accuracy]
  orders = (2,) if kind == 'summary' else (1, 4)
  return [metrics.make_text_metric(bleu_orders=orders, protocol=protocol)]
