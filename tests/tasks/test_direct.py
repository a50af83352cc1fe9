import collections

import pytest

from p5jax import prompts
from p5jax.errors import UserError
from p5jax.tasks import direct

AMAZON = prompts.templates('amazon')
SEEN = prompts.family_templates('amazon', 'direct', seen=True)


def test_fifteen_training_examples_per_user_from_training_items(make_context):
  ctx = make_context()
  out = list(direct.examples(ctx, 'train', SEEN, 0, ctx.users))
  assert collections.Counter(int(e['user']) for e in out) == {u: 15 for u in ctx.users}
  for e in out:
    assert int(e['item']) in ctx.dataset.sequences[int(e['user'])][:-2]


def test_choose_prompt_lists_positive_and_99_negatives(make_context):
  ctx = make_context()
  for e in direct.examples(ctx, 'test', (AMAZON['5-8'],), 0, ctx.users):
    user = int(e['user'])
    assert e['targets'] == str(ctx.dataset.sequences[user][-1])
    assert set(e['candidates'].tolist()) == (
        set(ctx.dataset.negatives[user]['test']) | {ctx.dataset.sequences[user][-1]}
    )
    assert e['inputs'] == (
        f'We want to make recommendation for user_{user} .  Select the best '
        'item from these candidates : \n ' + ' , '.join(map(str, e['candidates']))
    )


def test_original_protocol_redraws_eval_negatives(make_context):
  ctx = make_context('original')
  for e in direct.examples(ctx, 'test', (AMAZON['5-5'],), 0, ctx.users):
    user = int(e['user'])
    assert set(e['candidates'].tolist()) != (
        set(ctx.dataset.negatives[user]['test']) | {ctx.dataset.sequences[user][-1]}
    )
    assert not set(e['candidates'].tolist()) & set(ctx.dataset.sequences[user][:-1])


def test_yes_no_evaluation_scores_every_candidate(make_context):
  ctx = make_context()
  out = list(direct.examples(ctx, 'validation', (AMAZON['5-4'],), 0, [3]))
  assert len(out) == 100 and sum(e['targets'] == 'yes' for e in out) == 1
  positive = ctx.dataset.sequences[3][-2]
  assert {int(e['item']) for e in out} == set(ctx.dataset.negatives[3]['val']) | {positive}
  yes = next(e for e in out if e['targets'] == 'yes')
  assert int(yes['item']) == positive
  assert yes['inputs'] == (
      'I would like to recommend some items for user_3 . Is the following '
      f'item a good choice ? \n {ctx.item_title(positive)}'
  )


def test_yes_no_training_is_balanced(make_context):
  ctx = make_context()
  out = list(direct.examples(ctx, 'train', (AMAZON['5-1'],), 0, ctx.users))
  assert 0.3 < sum(e['targets'] == 'yes' for e in out) / len(out) < 0.7


def test_train_per_user_sets_the_yes_no_model_count(make_context):
  ctx = make_context()
  yes_no = direct.yes_no_templates(SEEN)
  assert [t.id for t in yes_no] == ['5-1', '5-2', '5-3', '5-4']
  out = list(direct.examples(ctx, 'train', yes_no, 0, ctx.users, train_per_user=100))
  assert collections.Counter(int(e['user']) for e in out) == {u: 100 for u in ctx.users}


def test_original_yes_no_test_reads_the_prepared_negative_samples(make_context):
  """P5's 5-1/5-4 test rows come from negative_samples.txt (stored by p5jax-prepare); its
  validation, like 5-5/5-8, redraws."""
  ctx = make_context('original')
  positive = ctx.dataset.sequences[3][-1]
  out = list(direct.examples(ctx, 'test', (AMAZON['5-1'],), 0, [3]))
  assert {int(e['item']) for e in out} == set(ctx.dataset.negatives[3]['test']) | {positive}
  val = list(direct.examples(ctx, 'validation', (AMAZON['5-1'],), 0, [3]))
  assert {int(e['item']) for e in val} != set(ctx.dataset.negatives[3]['val']) | {
      ctx.dataset.sequences[3][-2]
  }


def test_negative_count_comes_from_the_manifest(make_context):
  ctx = make_context('original')
  ctx.dataset.manifest['num_negatives'] = 9
  assert direct.num_negatives(ctx) == 9
  out = next(iter(direct.examples(ctx, 'test', (AMAZON['5-5'],), 0, [3])))
  assert len(out['candidates']) == 10


def test_a_manifest_without_the_negative_count_is_an_error(make_context, monkeypatch):
  ctx = make_context('original')
  monkeypatch.delitem(ctx.dataset.manifest, 'num_negatives')
  with pytest.raises(UserError, match='num_negatives'):
    direct.num_negatives(ctx)
