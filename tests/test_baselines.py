"""Popularity and transition baselines on a hand-checked toy catalogue."""

import pytest

from p5jax.baselines import ItemStatistics, baseline_rankings, split_history


@pytest.fixture
def sequences():
  # Training parts (all but the last two items): [1,2,3], [1,2,4], [5,2,3], [2,3].
  return {
      1: [1, 2, 3, 9, 2],
      2: [1, 2, 4, 9, 3],
      3: [5, 2, 3, 9, 7],
      4: [2, 3, 8, 1],
  }


def test_statistics_use_training_part_only(sequences):
  stats = ItemStatistics.from_sequences((s[:-2] for s in sequences.values()), range(1, 10))
  assert stats.popularity[9] == 0  # 9 is only ever a validation item
  assert stats.popularity[2] == 4 and stats.popularity[3] == 3
  assert stats.transitions[2, 3] == 3 and stats.transitions[2, 4] == 1
  assert list(stats.popularity_order[:3]) == [2, 3, 1]


def test_transition_ranking_breaks_ties_by_popularity_then_id(sequences):
  ranked = baseline_rankings(sequences, range(1, 10), split='test', k=4)
  # User 4: history [2, 3, 8] -> last item 8 has no successors: falls back to popularity.
  assert list(ranked['transition'][4]) == [2, 3, 1, 4]
  # User 1: history ends with 9, no training successors either.
  assert list(ranked['popularity'][1]) == [2, 3, 1, 4]


def test_transition_ranking_prefers_frequent_successor():
  stats = ItemStatistics.from_sequences([[1, 2], [1, 2], [1, 3], [5, 1]], range(1, 10))
  assert list(stats.rank_all(1, 3, 'transition')) == [2, 3, 1]
  assert list(stats.rank_candidates(1, [3, 4, 2], 'transition')) == [2, 3, 4]
  assert list(stats.rank_candidates(1, [3, 4, 2], 'popularity')) == [2, 3, 4]


def test_split_history():
  assert split_history([1, 2, 3, 4], 'test') == ([1, 2, 3], 4)
  assert split_history([1, 2, 3, 4], 'validation') == ([1, 2], 3)
  with pytest.raises(ValueError, match='split'):
    split_history([1, 2, 3], 'train')


def test_unknown_method_is_rejected(sequences):
  stats = ItemStatistics.from_sequences([[1, 2]], range(1, 4))
  with pytest.raises(ValueError, match='unknown baseline'):
    stats.rank_candidates(1, [2, 3], 'bogus')
