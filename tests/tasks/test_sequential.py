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
  ctx = make_context(sequential_cut='p5')
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
  ctx = make_context(sequential_cut='p5')
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


@pytest.mark.parametrize('cut', ['p5', 'every_prefix'])
def test_same_key_same_example(make_context, cut):
  a = list(sequential.examples(make_context(sequential_cut=cut), 'train', AMAZON_SEEN, 3, [2, 5]))
  b = list(sequential.examples(make_context(sequential_cut=cut), 'train', AMAZON_SEEN, 3, [5]))
  assert [e['inputs'] for e in a if e['user'] == 5] == [e['inputs'] for e in b]
  c = list(sequential.examples(make_context(sequential_cut=cut), 'train', AMAZON_SEEN, 4, [5]))
  assert [e['inputs'] for e in b] != [e['inputs'] for e in c]


def test_cut_defaults_follow_the_protocol(make_context):
  assert make_context('original').sequential_cut == 'p5'
  assert make_context('corrected').sequential_cut == 'every_prefix'
  with pytest.raises(ValueError, match='sequential_cut must be one of'):
    make_context(sequential_cut='last')


@pytest.mark.parametrize('protocol', ['original', 'corrected'])
def test_every_prefix_targets_each_training_position_once(make_context, protocol):
  ctx = make_context(protocol, sequential_cut='every_prefix')
  train = list(sequential.examples(ctx, 'train', (AMAZON['2-3'],), 0, ctx.users))
  sep = lambda text: ' , ' if ' , ' in text else ' -> '
  seen = collections.Counter()
  for e in train:
    items = ctx.dataset.sequences[int(e['user'])]
    k = items.index(int(e['item']))
    history = e['inputs'].split(' \n ')[1].split(sep(e['inputs']))
    assert history == [str(i) for i in items[:k]]  # every earlier item, oldest first
    assert 1 <= k <= len(items) - 3  # never the validation or test item
    seen[(int(e['user']), k)] += 1
  expected = {(u, k) for u, s in ctx.dataset.sequences.items() for k in range(1, len(s) - 2)}
  assert set(seen) == expected and set(seen.values()) == {1}


def test_every_prefix_fits_history_from_the_old_end(make_context):
  count_words = lambda text: len(text.split())
  ctx = make_context(
      'original', sequential_cut='every_prefix', count_tokens=count_words, input_length=24
  )
  user, items = 6, ctx.dataset.sequences[6]
  out = list(sequential.examples(ctx, 'train', (AMAZON['2-3'],), 0, [user]))
  longest = out[-1]  # target = last training item: the longest history
  assert count_words(longest['inputs']) + 1 <= 24
  sep = ' , ' if ' , ' in longest['inputs'] else ' -> '
  kept = longest['inputs'].split(' \n ')[1].split(sep)
  assert 0 < len(kept) < len(items) - 3
  assert kept == [str(i) for i in items[len(items) - 3 - len(kept) : len(items) - 3]]


def test_history_that_cannot_fit_one_item_is_empty(make_context):
  count_words = lambda text: len(text.split())
  prompt_words = count_words(AMAZON['2-3'].input.format(user_id=1, purchase_history=''))
  ctx = make_context(count_tokens=count_words, input_length=prompt_words + 1)  # EOS only
  example = next(sequential.examples(ctx, 'test', (AMAZON['2-3'],), 0, [1]))
  assert example['inputs'].split(' \n ')[1].strip() == ''


AMAZON_SEEN = prompts.family_templates('amazon', 'sequential', seen=True)
