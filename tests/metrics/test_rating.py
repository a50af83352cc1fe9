"""RMSE / MAE: corrected counts every prediction, original reproduces P5's filter."""

import math

import pytest

from p5jax.metrics import rating_metrics


def test_corrected_scores_unparseable_at_max_error_and_clips():
  out = rating_metrics(['5', '2', '4'], ['4.5', 'great!', '7'])
  # errors: 0.5; target 2 -> farthest rating 5 -> 3; 7 clipped to 5 -> 1
  assert out['MAE'] == pytest.approx((0.5 + 3 + 1) / 3)
  assert out['RMSE'] == pytest.approx(math.sqrt((0.25 + 9 + 1) / 3))
  assert out['count'] == 3 and out['unparseable'] == 1


def test_original_keeps_only_1_0_to_4_9():
  out = rating_metrics(['5', '2', '4', '3'], ['5.0', '2.5', '4', 'x'], protocol='original')
  assert out['count'] == 1 and out['MAE'] == pytest.approx(0.5)


def test_original_rounded_for_review_rating():
  """P5's 4-2/4-4: round(float(p)), half to even, no '1.0'..'4.9' filter (integers count)."""
  out = rating_metrics(['5', '2', '4'], ['4.6', '2.5', '4'], protocol='original', rounded=True)
  assert out['count'] == 3 and out['MAE'] == 0.0  # round(2.5) == 2
  bad = rating_metrics(['5', '3'], ['x', '3'], protocol='original', rounded=True)
  assert bad['count'] == 1 and bad['unparseable'] == 1 and bad['RMSE'] == 0.0


def test_corrected_rounded_keeps_every_example():
  out = rating_metrics(['5', '2'], ['4.6', 'x'], rounded=True)
  assert out['count'] == 2 and out['MAE'] == pytest.approx(1.5)


def test_bad_input():
  with pytest.raises(ValueError, match='target #0'):
    rating_metrics(['five'], ['5'])
  with pytest.raises(ValueError, match='protocol'):
    rating_metrics(['5'], ['5'], protocol='p5')
