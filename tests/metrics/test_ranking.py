"""HR@k / NDCG@k vs hand-computed values, both protocols, duplicates and invalid predictions."""

import math

import pytest

from p5jax.metrics import make_ranking_metric, ranking_metrics, target_rank


def test_corrected_rank_counts_invalid_slots_and_first_duplicate():
  preds = ['7', 'junk', '', '3', '7', '5']
  assert target_rank(preds, '5') == 6
  assert target_rank(preds, '7') == 1
  assert target_rank(preds, '9') is None


def test_original_rank_drops_unparseable_and_keeps_later_duplicate():
  preds = ['7', 'junk', '', '3', '7', '5']
  # survivors: 7 -> position 4 (later wins), 3 -> 3, 5 -> 5; ranked 3, 7, 5
  assert target_rank(preds, '5', 'original') == 3
  assert target_rank(preds, '7', 'original') == 2
  assert target_rank(preds, '3', 'original') == 1


def test_hand_computed_metrics():
  targets = ['1', '2', '3', '4']
  predictions = [['1', '9'], ['x', '9', '2'], ['9', '8', '7', '6', '5', '3'], ['8']]
  out = ranking_metrics(targets, predictions, ks=(1, 5, 10))
  # ranks: 1, 3, 6, miss
  assert out['HR@1'] == pytest.approx(0.25)
  assert out['HR@5'] == pytest.approx(0.5)
  assert out['HR@10'] == pytest.approx(0.75)
  assert out['NDCG@5'] == pytest.approx((1 + 1 / math.log2(4)) / 4)
  assert out['NDCG@10'] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(7)) / 4)
  assert out['invalid_rate'] == 0.0  # no catalog given: any non-empty string may be an ID
  catalog = {str(i) for i in range(1, 10)}
  checked = ranking_metrics(targets, predictions, ks=(1,), valid_items=catalog)
  assert checked['invalid_rate'] == pytest.approx(1 / 12)
  original = ranking_metrics(targets, predictions, ks=(1,), protocol='original')
  assert original['HR@1'] == pytest.approx(0.25)  # 'x' dropped: '2' moves to rank 2, not 1
  assert ranking_metrics(['2'], [['x', '2']], ks=(1,), protocol='original')['HR@1'] == 1.0
  assert ranking_metrics(['2'], [['x', '2']], ks=(1,))['HR@1'] == 0.0


def test_metric_fn_signature_and_errors():
  fn = make_ranking_metric(ks=(5,))
  assert fn(['3'], ['3']) == {'HR@5': 1.0, 'NDCG@5': 1.0, 'invalid_rate': 0.0}
  with pytest.raises(ValueError, match='targets'):
    fn(['1', '2'], [['1']])
  with pytest.raises(ValueError, match='protocol'):
    target_rank(['1'], '1', 'bogus')
  with pytest.raises(ValueError, match='target'):
    target_rank(['1'], 'abc', 'original')
