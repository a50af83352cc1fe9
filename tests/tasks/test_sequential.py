import collections

import numpy as np
import pytest

from p5jax import prompts
from p5jax.tasks import sequential

AMAZON = prompts.templates('amazon')


@pytest.mark.parametrize('n', [4, 5, 6, 10, 30])
def test_train_cut_targets_only_the_window_before_validation(n):
  items = list(range(100, 100 + n))
  targets, starts = set(), set()
  for s in range(300):
    history, target = sequential.train_cut(np.random.default_rng(s), items)
    position = items.index(target) + 1  # P5's 1-based position
    assert history == items[items.index(history[0]) : position - 1]
    targets.add(position)
    starts.add(items.index(history[0]) + 1)
  expected = {n - 2} if n < 5 else set(range(max(3, n - 4), n - 1))
  assert targets == expected
  last_end = max(expected) - 1
  assert starts == set(range(1, max(2, min(4, last_end))))


def test_train_cut_needs_two_training_items():
  assert sequential.train_cut(np.random.default_rng(0), [1, 2, 3]) is None


def test_counts_and_eval_targets(make_context):
  ctx = make_context()
  seen = prompts.family_templates('amazon', 'sequential', seen=True)
  train = list(sequential.examples(ctx, 'train', seen, 0, ctx.users))
  assert collections.Counter(int(e['user']) for e in train) == {u: 20 for u in ctx.users}
  assert {e['template'] for e in train} <= {t.id for t in seen}
  for split, position in (('validation', -2), ('test', -1)):
    out = list(sequential.examples(ctx, split, (AMAZON['2-3'],), 0, ctx.users))
    assert [int(e['item']) for e in out] == [ctx.dataset.sequences[u][position] for u in ctx.users]


def test_renders_exact_history_prompt(make_context):
  ctx = make_context()
  user = 1
  example = next(sequential.examples(ctx, 'test', (AMAZON['2-3'],), 0, [user]))
  items = ctx.dataset.sequences[user]
  sep = ' , ' if ' , ' in example['inputs'] else ' -> '
  assert example['inputs'] == (
      f'Here is the purchase history list of user_1 : \n '
      f'{sep.join(map(str, items[:-1]))} \n try to recommend next item '
      'to the user'
  )
  assert example['targets'] == str(items[-1])


def test_test_candidates_are_the_prepared_negatives(make_context):
  ctx = make_context()
  for e in sequential.examples(ctx, 'test', (AMAZON['2-7'],), 0, ctx.users):
    user = int(e['user'])
    expected = set(ctx.dataset.negatives[user]['test']) | {ctx.dataset.sequences[user][-1]}
    assert len(e['candidates']) == 100 and set(e['candidates'].tolist()) == expected
    assert e['inputs'].endswith(' , '.join(map(str, e['candidates'])))


def test_separator_and_yes_no_are_balanced(make_context):
  ctx = make_context()
  out = list(sequential.examples(ctx, 'train', (AMAZON['2-11'],), 0, ctx.users))
  arrows = sum(' -> ' in e['inputs'] for e in out)
  yes = sum(e['targets'] == 'yes' for e in out)
  assert 0.3 < arrows / len(out) < 0.7 and 0.3 < yes / len(out) < 0.7
  for e in out:
    shown = int(e['inputs'].split('buy ')[1].split(' ')[0])
    assert (shown == e['item']) == (e['targets'] == 'yes')
    assert e['targets'] == 'yes' or shown not in ctx.dataset.sequences[int(e['user'])]


def test_corrected_cuts_long_histories_from_the_old_end(make_context):
  count_words = lambda text: len(text.split())
  user = 6
  items = make_context().dataset.sequences[user]
  corrected = make_context(count_tokens=count_words, input_length=24)
  example = next(sequential.examples(corrected, 'test', (AMAZON['2-3'],), 0, [user]))
  assert count_words(example['inputs']) + 1 <= 24
  sep = ' , ' if ' , ' in example['inputs'] else ' -> '
  kept = example['inputs'].split(' \n ')[1].split(sep)
  assert 0 < len(kept) < len(items) - 1
  assert kept == [str(i) for i in items[-1 - len(kept) : -1]]  # the newest items survive
  original = make_context('original', count_tokens=count_words, input_length=24)
  full = next(sequential.examples(original, 'test', (AMAZON['2-3'],), 0, [user]))
  assert len(full['inputs'].split(' \n ')[1].split(sep)) == len(items) - 1


def test_yelp_keeps_the_last_20_items(make_context):
  ctx = make_context(variant='yelp')
  long_items = list(range(11, 41))
  ctx.dataset.sequences[1] = long_items
  example = next(sequential.examples(ctx, 'test', (prompts.templates('yelp')['2-3'],), 0, [1]))
  history = example['inputs'].split(' \n ')[1].replace(' -> ', ' , ').split(' , ')
  assert history == [str(i) for i in range(20, 40)]  # test history 11..39, newest 20 kept


def test_same_key_same_example(make_context):
  a = list(sequential.examples(make_context(), 'train', AMAZON_SEEN, 3, [2, 5]))
  b = list(sequential.examples(make_context(), 'train', AMAZON_SEEN, 3, [5]))
  assert [e['inputs'] for e in a if e['user'] == 5] == [e['inputs'] for e in b]
  c = list(sequential.examples(make_context(), 'train', AMAZON_SEEN, 4, [5]))
  assert [e['inputs'] for e in b] != [e['inputs'] for e in c]


AMAZON_SEEN = prompts.family_templates('amazon', 'sequential', seen=True)
