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
        ('4-2', 'free', 'rating'),
        ('3-12', 'free', 'text'),
        ('4-1', 'free', 'text'),
        ('3-7', 'free', 'text'),
        ('Z-1', 'closed_set', 'classification'),
    ],
)
def test_decoding_modes(tid, mode, kind):
  spec = decoding.decoding_for(AMAZON[tid])
  assert (spec.mode, spec.metric_kind) == (mode, kind)


def test_yes_no_ranking_groups_by_user():
  targets = [(1, 10, False), (1, 11, True), (1, 12, False), (2, 20, True), (2, 21, False)]
  scores = [0.9, 0.5, 0.1, 0.2, 0.3]  # user 1 positive ranked 2nd, user 2 positive 2nd
  out = evaluation.yes_no_ranking(targets, scores)
  assert out['HR@1'] == 0.0 and out['HR@5'] == 1.0
  assert out['NDCG@5'] == pytest.approx(1 / 1.5849625007211563)


def test_postprocessors_and_metrics_attach():
  spec = decoding.decoding_for(AMAZON['2-13'])
  post = evaluation.postprocessor(spec)
  assert post(b' 1 2 ', is_target=True) == '1 2' and post(['1 2', '3']) == ['1 2', '3']
  (ranking,) = evaluation.metric_fns(spec, 'corrected')
  assert ranking(['1 2', '3'], [['3', '1 2'], ['3']])['HR@1'] == 0.5
  target = evaluation.postprocessor(decoding.decoding_for(AMAZON['5-4']))(
      b'yes', example={'user': 3, 'item': 7}, is_target=True
  )
  assert target == (3, 7, True)
  assert evaluation.accuracy(['yes', 'no'], ['yes', 'yes']) == {'accuracy': 0.5}
