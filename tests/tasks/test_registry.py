"""Every registered task and mixture yields feature-converted batches; same seed, same bytes."""

import collections
import json
import os

import numpy as np
import pytest
import seqio

from p5jax import prompts, tasks
from p5jax.data.prepared import seal
from tests.tasks.fakes import make_dataset, write_prepared_dir

LENGTHS = {'inputs': 512, 'targets': 64}


@pytest.fixture(scope='module')
def fixture_dir(tmp_path_factory):
  return write_prepared_dir(str(tmp_path_factory.mktemp('prepared')), make_dataset())


@pytest.fixture(scope='module')
def registered(fixture_dir):
  return tasks.register_dataset('fixture', fixture_dir, 'sid', seed=0, shuffle_buffer_size=64)


def first_examples(name, split, n=2, pack=False):
  ds = seqio.get_mixture_or_task(name).get_dataset(LENGTHS, split=split, shuffle=False)
  ds = seqio.EncDecFeatureConverter(pack=pack)(ds, LENGTHS).take(n)
  return list(ds.as_numpy_iterator())


def test_names_follow_the_contract(registered):
  amazon = prompts.templates('amazon')
  expected = {f'p5_fixture_{t.family}_{t.task_suffix}' for t in amazon.values()}
  expected |= {
      f'p5_fixture_{f}_train'
      for f in ('rating', 'sequential', 'explanation', 'review', 'direct', 'direct_yes_no')
  }
  assert set(registered) == expected
  assert tasks.task_info('p5_fixture_sequential_2_13').decoding.mode == 'all_items'
  assert tasks.task_info('p5_fixture_direct_5_5').decoding.mode == 'candidates'
  assert tasks.task_info('p5_fixture_direct_5_1').decoding.mode == 'score_yes_no'
  eval_tasks = {t.name for t in seqio.get_mixture_or_task('p5_fixture_eval').tasks}
  assert eval_tasks == {
      f'p5_fixture_{amazon[t].family}_{t.replace("-", "_")}'
      for t in prompts.EVAL_TEMPLATES['amazon']
  }
  sequential = {t.name for t in seqio.get_mixture_or_task('p5_fixture_sequential_eval').tasks}
  assert sequential == {'p5_fixture_sequential_2_3', 'p5_fixture_sequential_2_13'}
  per_family = set().union(
      *(
          {t.name for t in seqio.get_mixture_or_task(f'p5_fixture_{f}_eval').tasks}
          for f in ('rating', 'sequential', 'explanation', 'review', 'direct')
      )
  )
  assert per_family == eval_tasks
  yes_no = {t.name for t in seqio.get_mixture_or_task('p5_fixture_direct_yes_no_eval').tasks}
  assert yes_no == {'p5_fixture_direct_5_1', 'p5_fixture_direct_5_4'}
  zeroshot = {t.name for t in seqio.get_mixture_or_task('p5_fixture_zeroshot').tasks}
  assert zeroshot == {
      f'p5_fixture_{t.family}_{t.task_suffix}' for t in amazon.values() if not t.seen
  }


def test_register_is_idempotent(registered, fixture_dir):
  assert (
      tasks.register_dataset('fixture', fixture_dir, 'sid', seed=0, shuffle_buffer_size=64)
      == registered
  )


@pytest.mark.slow
def test_every_task_and_mixture_converts(registered):
  for name in ('p5_fixture_eval', 'p5_fixture_zeroshot'):
    assert first_examples(name, 'test', n=3)
  for name in registered:
    split = 'train' if name.endswith('_train') else 'test'
    batch = first_examples(name, split)
    assert batch, name
    for ex in batch:
      assert ex['encoder_input_tokens'].shape == (512,) and ex['decoder_target_tokens'][0] > 0
      nonpad = ex['decoder_target_tokens'][ex['decoder_target_tokens'] > 0]
      assert nonpad[-1] == 1, name  # EOS appended


def test_only_eval_tasks_can_be_cached(registered):
  assert seqio.get_mixture_or_task('p5_fixture_sequential_2_13').supports_caching
  assert not seqio.get_mixture_or_task('p5_fixture_sequential_train').supports_caching


def test_eval_tasks_carry_targets_and_candidates(registered):
  task = seqio.get_mixture_or_task('p5_fixture_sequential_2_7')
  ex = next(task.get_dataset(LENGTHS, split='test', shuffle=False).as_numpy_iterator())
  assert ex['candidates'].shape == (100,) and ex['item'] in ex['candidates']
  vocab = task.output_features['targets'].vocabulary
  assert vocab.decode(ex['targets'].tolist()) == ex['targets_pretokenized'].decode()


@pytest.mark.parametrize('pack', [False, True])
def test_pretrain_mixture_converts(registered, pack):
  assert len(first_examples('p5_fixture_pretrain', 'train', n=3, pack=pack)) == 3


def pretrain_batches(seed, n=2):
  ds = seqio.get_mixture_or_task('p5_fixture_pretrain').get_dataset(
      LENGTHS, split='train', shuffle=True, seed=seed
  )
  ds = seqio.EncDecFeatureConverter(pack=False)(ds, LENGTHS).batch(4).take(n)
  return [{k: v.tobytes() for k, v in b.items()} for b in ds.as_numpy_iterator()]


def test_same_seed_same_bytes(registered):
  assert pretrain_batches(3) == pretrain_batches(3)
  assert pretrain_batches(3) != pretrain_batches(4)


def test_pretrain_rates_follow_p5_counts(registered):
  mixture = seqio.get_mixture_or_task('p5_fixture_pretrain')
  data = make_dataset()
  rates = {t.name.split('_')[2]: mixture.get_rate(t) for t in mixture.tasks}
  # Corrected data: the every-prefix cut, one example per training position (targets 2..n-2).
  assert rates['sequential'] == sum(len(s) - 3 for s in data.sequences.values())
  assert rates['direct'] == 15 * len(data.sequences)
  held_out = {(u, i) for u, s in data.sequences.items() for i in s[-2:]}
  assert rates['rating'] == sum(
      (r['user'], r['item']) not in held_out for r in data.reviews_in('train')
  )


def test_absent_families_are_not_registered(tmp_path):
  path = write_prepared_dir(str(tmp_path), make_dataset())
  manifest_path = os.path.join(path, 'manifest.json')
  with open(manifest_path) as f:
    manifest = json.load(f)
  manifest.update(has_reviews=False, has_explanations=False, num_reviews=0)
  os.remove(os.path.join(path, 'reviews.jsonl'))
  seal(path, manifest)
  names = tasks.register_dataset('noreviews', path, 'sid')
  assert {n.split('_')[2] for n in names} == {'sequential', 'direct'}
  pretrain = seqio.get_mixture_or_task('p5_noreviews_pretrain')
  assert {t.name for t in pretrain.tasks} == {
      'p5_noreviews_sequential_train',
      'p5_noreviews_direct_train',
  }
  assert first_examples('p5_noreviews_pretrain', 'train')


def test_demo_is_registered_lazily():
  assert 'p5_demo_sequential_2_13' in seqio.TaskRegistry.names()
  assert {'p5_demo_pretrain', 'p5_demo_eval', 'p5_demo_zeroshot'} <= set(
      seqio.MixtureRegistry.names()
  )
  assert tasks.feature_lengths('sequential') == {'inputs': 512, 'targets': 64}
  assert np.all(
      [tasks.decoding_for(t).mode in tasks.MODES for t in prompts.templates('yelp').values()]
  )


def test_register_from_gin(fixture_dir):
  import gin

  try:
    gin.parse_config(
        [
            "tasks.registry.register_dataset.name = 'fromgin'",
            f"tasks.registry.register_dataset.prepared_dir = '{fixture_dir}'",
            "tasks.registry.register_dataset.id_scheme = 'sid'",
        ]
    )
    names = tasks.register_dataset()
  finally:
    gin.clear_config()
  assert (
      'p5_fromgin_sequential_2_13' in names
      and 'p5_fromgin_pretrain' in seqio.MixtureRegistry.names()
  )


def test_yes_no_model_task_draws_100_binary_prompts_per_user(registered):
  """P5's separate yes/no model: 5-1..5-4 only, 100 examples per user and epoch
  (P5's pretrain_group5_part1.py)."""
  ds = seqio.get_mixture_or_task('p5_fixture_direct_yes_no_train').get_dataset(
      LENGTHS, split='train', shuffle=False
  )
  users = tasks.task_info('p5_fixture_direct_yes_no_train').context().users
  epoch = list(ds.take(100 * len(users)).as_numpy_iterator())
  assert collections.Counter(int(e['user']) for e in epoch) == {u: 100 for u in users}
  assert {e['template'].decode() for e in epoch} == {'5-1', '5-2', '5-3', '5-4'}
  assert {e['targets_pretokenized'].decode() for e in epoch} == {'yes', 'no'}
