import pytest

from p5jax import prompts
from p5jax.tasks import decoding, evaluation

AMAZON = prompts.templates('amazon')


@pytest.mark.parametrize(
    'tid,mode,kind',
    [
        ('2-13', 'all_items', 'ranking'),
        ('2-3', 'all_items', 'ranking'),
        ('2-7', 'candidates', 'ranking'),
        ('5-8', 'candidates', 'ranking'),
        ('5-1', 'score_yes_no', 'ranking'),
        ('2-11', 'closed_set', 'classification'),
        ('1-4', 'closed_set', 'classification'),
        ('1-10', 'free', 'rating'),
        ('4-2', 'free', 'review_rating'),
        ('3-12', 'free', 'text'),
        ('4-1', 'free', 'summary'),
        ('3-7', 'free', 'text'),
        ('Z-1', 'closed_set', 'classification'),
    ],
)
def test_decoding_modes(tid, mode, kind):
  spec = decoding.decoding_for(AMAZON[tid])
  assert (spec.mode, spec.metric_kind) == (mode, kind)


def test_yes_no_ranking_groups_by_user():
  targets = [(1, 10, False, 0), (1, 11, True, 1), (1, 12, False, 2)]
  targets += [(2, 20, True, 0), (2, 21, False, 1)]
  scores = [0.9, 0.5, 0.1, 0.2, 0.3]  # user 1 positive ranked 2nd, user 2 positive 2nd
  out = evaluation.yes_no_ranking(targets, scores)
  assert out['HR@1'] == 0.0 and out['HR@5'] == 1.0
  assert out['NDCG@5'] == pytest.approx(1 / 1.5849625007211563)


def test_yes_no_ties_keep_the_prompt_order_not_the_item_number():
  # a tie between the positive (large, recent item number under P5's numbering) and a negative
  tied = [(1, 900, True, 0), (1, 5, False, 1)]
  assert evaluation.yes_no_ranking(tied, [0.5, 0.5])['HR@1'] == 1.0
  tied = [(1, 900, True, 1), (1, 5, False, 0)]
  assert evaluation.yes_no_ranking(tied, [0.5, 0.5])['HR@1'] == 0.0


def test_postprocessors_and_metrics_attach():
  spec = decoding.decoding_for(AMAZON['2-13'])
  post = evaluation.postprocessor(spec)
  assert post(b' 1 2 ', is_target=True) == '1 2' and post(['1 2', '3']) == ['1 2', '3']
  (ranking,) = evaluation.metric_fns(spec, 'corrected')
  assert ranking(['1 2', '3'], [['3', '1 2'], ['3']])['HR@1'] == 0.5
  target = evaluation.postprocessor(decoding.decoding_for(AMAZON['5-4']))(
      b'yes', example={'user': 3, 'item': 7, 'candidates': [4, 7, 9]}, is_target=True
  )
  assert target == (3, 7, True, 1)
  assert evaluation.accuracy(['yes', 'no'], ['yes', 'yes']) == {'accuracy': 0.5}


@pytest.mark.parametrize(
    'tid,protocol,expected',
    [
        ('4-1', 'original', {'BLEU-2', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L'}),
        ('3-3', 'original', {'BLEU-1', 'BLEU-4', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L'}),
    ],
)
def test_text_metric_orders(tid, protocol, expected):
  (fn,) = evaluation.metric_fns(decoding.decoding_for(AMAZON[tid]), protocol)
  assert set(fn(['a b c'], ['a b c'])) == expected


def test_review_ratings_are_rounded_under_original_only():
  """P5's 4-2/4-4 round the prediction and keep integers; 1-6/1-10 keep only '1.0'..'4.9'."""
  review = decoding.decoding_for(AMAZON['4-2'])
  (original,) = evaluation.metric_fns(review, 'original')
  assert original(['5', '4'], ['5', '4.4']) == {
      'RMSE': 0.0,
      'MAE': 0.0,
      'count': 2.0,
      'unparseable': 0.0,
  }
  (rating,) = evaluation.metric_fns(decoding.decoding_for(AMAZON['1-10']), 'original')
  assert rating(['5', '4'], ['5', '4.4'])['count'] == 1.0
  (corrected,) = evaluation.metric_fns(review, 'corrected')
  assert corrected(['4'], ['4.4'])['MAE'] == pytest.approx(0.4)


def test_settings_resolve_mode_then_template():
  spec = decoding.decoding_for(AMAZON['3-12'])
  default = decoding.settings_for('3-12', spec, num_beams=20)
  assert (default.mode, default.num_beams, default.max_length) == ('hf', 1, 20)
  overrides = {
      'free': {'max_length': 30},
      '3-12': {'num_beams': 12, 'num_beam_groups': 3, 'min_length': 9},
  }
  got = decoding.settings_for('3-12', spec, 20, overrides)
  assert (got.max_length, got.num_beams, got.num_beam_groups, got.min_length) == (30, 12, 3, 9)
  ranking = decoding.settings_for('2-3', decoding.decoding_for(AMAZON['2-3']), 20)
  assert (ranking.mode, ranking.num_beams, ranking.num_return_sequences) == ('constrained', 20, 20)
  with pytest.raises(ValueError, match='unknown fields'):
    decoding.settings_for('3-12', spec, 20, {'3-12': {'beams': 3}})
  with pytest.raises(ValueError, match='multiple of num_beam_groups'):
    decoding.DecodingSettings('hf', num_beams=4, num_beam_groups=3)
