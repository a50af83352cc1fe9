"""No-model baselines for the ranking tasks: popularity and item-to-item transitions.

A generative recommender has to beat these on the same split to have learned anything:
- popularity ranks items by how often they occur in the training interactions;
- transition ranks items by how often they directly follow the user's last item in the training
    sequences (ties broken by popularity, then by item id). On Amazon Beauty this simple count
    reaches HR@5 ~0.051 / NDCG@5 ~0.038, as high as P5's published sequential numbers.

Only training interactions (the leave-one-out train part of every sequence) shape the statistics,
so neither baseline ever sees a validation or test item of the split it is scored on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

BASELINES = ('popularity', 'transition')


@dataclasses.dataclass(frozen=True)
class ItemStatistics:
  """Popularity counts and a sparse first-order transition matrix over item ids."""

  popularity: np.ndarray  # float64 [num_ids]: training occurrences per item id
  transitions: sp.csr_matrix  # [num_ids, num_ids]: counts of a -> b in training sequences
  popularity_order: np.ndarray  # int64 [num_items]: item ids, most popular first

  @classmethod
  def from_sequences(
      cls, train_sequences: Iterable[Sequence[int]], item_ids: Sequence[int]
  ) -> ItemStatistics:
    """Counts over training sequences; `item_ids` is the catalogue (all rankable items)."""
    item_ids = np.asarray(sorted(set(int(i) for i in item_ids)), dtype=np.int64)
    num_ids = int(item_ids.max()) + 1 if item_ids.size else 1
    seqs = [np.asarray(s, dtype=np.int64) for s in train_sequences]
    flat = np.concatenate(seqs) if seqs else np.zeros(0, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= num_ids):
      raise ValueError('training sequences mention an item id outside the catalogue')
    popularity = np.bincount(flat, minlength=num_ids).astype(np.float64)
    src = np.concatenate([s[:-1] for s in seqs]) if seqs else np.zeros(0, np.int64)
    dst = np.concatenate([s[1:] for s in seqs]) if seqs else np.zeros(0, np.int64)
    transitions = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(num_ids, num_ids))
    transitions.sum_duplicates()
    # Most popular first; equal counts by ascending id (lexsort: last key is primary).
    order = np.lexsort((item_ids, -popularity[item_ids]))
    return cls(popularity, transitions, item_ids[order])

  def rank_all(self, last_item: int | None, k: int, method: str) -> np.ndarray:
    """Top-k item ids over the whole catalogue for one user."""
    if method == 'popularity' or last_item is None or last_item >= self.transitions.shape[0]:
      return self.popularity_order[:k]
    if method != 'transition':
      raise ValueError(f'unknown baseline {method!r}; expected one of {BASELINES}')
    row = self.transitions[last_item]
    succ, counts = row.indices.astype(np.int64), row.data
    order = np.lexsort((succ, -self.popularity[succ], -counts))
    head = succ[order][:k]
    if head.size >= k:
      return head
    rest = self.popularity_order[~np.isin(self.popularity_order, head)]
    return np.concatenate([head, rest[: k - head.size]])

  def rank_candidates(
      self, last_item: int | None, candidates: Sequence[int], method: str
  ) -> np.ndarray:
    """All candidates ordered best first (P5's direct-recommendation protocol)."""
    cand = np.asarray(candidates, dtype=np.int64)
    trans = np.zeros(cand.size)
    if method == 'transition' and last_item is not None and last_item < self.transitions.shape[0]:
      trans = np.asarray(self.transitions[last_item, cand].todense()).ravel()
    elif method not in BASELINES:
      raise ValueError(f'unknown baseline {method!r}; expected one of {BASELINES}')
    order = np.lexsort((cand, -self.popularity[cand], -trans))
    return cand[order]


def split_history(sequence: Sequence[int], split: str) -> tuple[list[int], int]:
  """(history, target) of a full chronological sequence under leave-one-out."""
  if split == 'test':
    return list(sequence[:-1]), int(sequence[-1])
  if split in ('validation', 'val'):
    return list(sequence[:-2]), int(sequence[-2])
  raise ValueError(f"split must be 'validation' or 'test', got {split!r}")


def baseline_rankings(
    sequences: Mapping[int, Sequence[int]],
    item_ids: Sequence[int],
    *,
    split: str = 'test',
    k: int = 20,
    candidates: Mapping[int, Sequence[int]] | None = None,
    methods: Sequence[str] = BASELINES,
) -> dict[str, dict[int, np.ndarray]]:
  """Per method, per user: ranked item ids (top-k of all items, or all given candidates).

  `sequences` are full chronological sequences; the statistics use each one's training part
  (all but the last two items). With `candidates` (user -> candidate ids, target included) the
  candidates are ranked instead of the whole catalogue, as in P5's direct prompts 5-5..5-8.
  """
  stats = ItemStatistics.from_sequences((s[:-2] for s in sequences.values()), item_ids)
  out: dict[str, dict[int, np.ndarray]] = {}
  for method in methods:
    ranked = {}
    for user, seq in sequences.items():
      history, _ = split_history(seq, split)
      last = history[-1] if history else None
      if candidates is not None:
        ranked[user] = stats.rank_candidates(last, candidates[user], method)
      else:
        ranked[user] = stats.rank_all(last, k, method)
    out[method] = ranked
  return out
