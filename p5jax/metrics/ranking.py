"""HR@k and NDCG@k over ranked predictions with one ground-truth item.

With a single relevant item at 1-based rank r (r <= k), HR@k = 1 and NDCG@k = 1 / log2(r + 1);
otherwise both are 0. Metrics are averaged over all examples.

How the rank r is found depends on the protocol:

* ``corrected`` (default): r is the position of the target in the returned list. Invalid or
    unparseable predictions are misses that still occupy their slot, and a repeated item only
    counts at its first position. No ties are possible: the list order (the beam order, best
    first) is the ranking.
* ``original``: P5's notebooks. Each prediction is parsed with ``int()``; failures are dropped;
    the survivors get score ``-(position)``, kept in a dict so a repeated item takes its *later*
    position; items are then ranked by score. Dropped predictions therefore do not use up slots.
    (P5 shuffles before ``heapq.nlargest`` to break ties, but the scores are distinct, so this is
    deterministic.)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence

import numpy as np

from p5jax.protocols import check_protocol

Parse = Callable[[str], Hashable | None]


def parse_string(text: str) -> str | None:
  """Corrected protocol: an item ID is its stripped string; empty means invalid."""
  text = str(text).strip()
  return text or None


def parse_int(text: str) -> int | None:
  """P5's parse: ``int(text)``, None where that raises."""
  try:
    return int(text)
  except (TypeError, ValueError):
    return None


def target_rank(
    predictions: Sequence[str], target: str, protocol: str = 'corrected', parse: Parse | None = None
) -> int | None:
  """1-based rank of ``target`` among ranked ``predictions`` (best first), or None if absent."""
  check_protocol(protocol)
  parse = parse or (parse_string if protocol == 'corrected' else parse_int)
  gold = parse(target)
  if gold is None:
    raise ValueError(f'target {target!r} cannot be parsed as an item ID')
  parsed = [parse(p) for p in predictions]
  if protocol == 'corrected':
    return parsed.index(gold) + 1 if gold in parsed else None
  position = {item: j for j, item in enumerate(parsed) if item is not None}  # later wins
  if gold not in position:
    return None
  return 1 + sum(1 for j in position.values() if j < position[gold])


def hit_ratio_at_k(ranks: Sequence[int | None], k: int) -> float:
  """Share of examples whose target rank is <= k."""
  return float(np.mean([r is not None and r <= k for r in ranks])) if len(ranks) else 0.0


def ndcg_at_k(ranks: Sequence[int | None], k: int) -> float:
  """Mean of 1 / log2(rank + 1) over examples, 0 where the target is not in the top k."""
  gains = [1.0 / np.log2(r + 1) if r is not None and r <= k else 0.0 for r in ranks]
  return float(np.mean(gains)) if gains else 0.0


def ranking_metrics(
    targets: Sequence[str],
    predictions: Sequence[Sequence[str] | str],
    *,
    ks: Sequence[int] = (1, 5, 10),
    protocol: str = 'corrected',
    parse: Parse | None = None,
    valid_items: Collection[Hashable] | None = None,
) -> dict[str, float]:
  """HR@k and NDCG@k for every k (NDCG@1 equals HR@1 and is omitted), plus ``invalid_rate``.

  ``predictions[i]`` is example i's ranked list of item ID strings, best first (a bare string
  counts as a list of one). ``invalid_rate`` is the share of predictions that ``parse``
  rejects or, when ``valid_items`` (parsed IDs of the catalog) is given, that name no item.
  """
  if len(targets) != len(predictions):
    raise ValueError(f'{len(targets)} targets but {len(predictions)} predictions')
  lists = [[p] if isinstance(p, str) else list(p) for p in predictions]
  ranks = [target_rank(p, t, protocol, parse) for p, t in zip(lists, targets)]
  out = {}
  for k in ks:
    out[f'HR@{k}'] = hit_ratio_at_k(ranks, k)
    if k > 1:
      out[f'NDCG@{k}'] = ndcg_at_k(ranks, k)
  check = parse or (parse_string if protocol == 'corrected' else parse_int)
  total = sum(len(p) for p in lists)
  parsed = [check(x) for p in lists for x in p]
  invalid = sum(x is None or (valid_items is not None and x not in valid_items) for x in parsed)
  out['invalid_rate'] = invalid / total if total else 0.0
  return out


def make_ranking_metric(
    ks: Sequence[int] = (1, 5, 10),
    protocol: str = 'corrected',
    parse: Parse | None = None,
    valid_items: Collection[Hashable] | None = None,
):
  """A seqio metric ``fn(targets, predictions) -> dict`` with these settings bound."""

  def ranking(targets, predictions):
    return ranking_metrics(
        targets, predictions, ks=ks, protocol=protocol, parse=parse, valid_items=valid_items
    )

  return ranking
