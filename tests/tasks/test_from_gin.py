"""A dataset gin file registers a prepared dataset through `p5jax.tasks.from_gin` after parsing."""

import os

import gin
import pytest
import seqio
from fixture_data import make_dataset, write_prepared_dir

from p5jax.training.data import DatasetConfig, resolve_task

GIN_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'p5jax', 'gin_configs')


@pytest.fixture
def fresh_gin():
  gin.clear_config()
  yield
  gin.clear_config()


@pytest.mark.parametrize('dataset', ['beauty', 'sports', 'toys', 'yelp'])
def test_dataset_gin_files_parse_and_set_p5_macros(dataset, fresh_gin):
  gin.parse_config_file(os.path.join(GIN_DIR, 'datasets', f'{dataset}.gin'))
  assert gin.query_parameter('%MIXTURE_OR_TASK_NAME') == f'p5_{dataset}_pretrain'
  assert gin.query_parameter('%EVAL_MIXTURE_OR_TASK_NAME') == f'p5_{dataset}_eval'
  assert gin.query_parameter('%MIXTURE_OR_TASK_MODULE') == 'p5jax.tasks.from_gin'
  # 10 epochs at global batch 64 take twice the steps of batch 128 (within rounding).
  small, base = gin.query_parameter('%P5_S_TRAIN_STEPS'), gin.query_parameter('%P5_B_TRAIN_STEPS')
  assert abs(base - 2 * small) <= 10


def test_registration_is_deferred_until_after_parsing(tmp_path, fresh_gin):
  prepared = write_prepared_dir(str(tmp_path / 'prepared'), make_dataset())
  gin.parse_config_file(os.path.join(GIN_DIR, 'datasets', 'beauty.gin'))
  gin.bind_parameter('p5jax.tasks.from_gin.configured_dataset.prepared_dir', prepared)
  gin.bind_parameter('p5jax.tasks.from_gin.configured_dataset.name', 'gintest')
  gin.bind_parameter('p5jax.tasks.from_gin.dataset_vocabulary.name', 'gintest')
  assert 'p5_gintest_pretrain' not in seqio.MixtureRegistry.names()
  cfg = DatasetConfig('p5_gintest_pretrain', None, 'train', 1, False, module='p5jax.tasks.from_gin')
  assert resolve_task(cfg).name == 'p5_gintest_pretrain'
  from p5jax.tasks import from_gin

  vocab = from_gin.dataset_vocabulary()
  assert vocab.decode(vocab.encode('user_12 bought 1 0 3')) == 'user_12 bought 1 0 3'


def test_missing_prepared_dir_is_named(fresh_gin):
  from p5jax.tasks import from_gin

  with pytest.raises(ValueError, match='needs prepared_dir'):
    from_gin.configured_dataset(name='nodir')


def test_family_rates_bound_in_gin_replace_p5_shares(tmp_path, fresh_gin):
  data = make_dataset()
  prepared = write_prepared_dir(str(tmp_path / 'prepared'), data)
  from p5jax.tasks import from_gin

  from_gin.configured_dataset(name='ginrates', prepared_dir=prepared, rates={'direct': 7.0})
  mixture = seqio.get_mixture_or_task('p5_ginrates_pretrain')
  rates = {t.name.split('_')[2]: mixture.get_rate(t) for t in mixture.tasks}
  assert rates['direct'] == 7.0
  # Unbound families keep their examples per epoch: corrected data, so every training position.
  assert rates['sequential'] == sum(len(s) - 3 for s in data.sequences.values())
  from_gin.configured_dataset(name='ginrates', prepared_dir=prepared, sequential_cut='p5')
  mixture = seqio.get_mixture_or_task('p5_ginrates_pretrain')
  rates = {t.name.split('_')[2]: mixture.get_rate(t) for t in mixture.tasks}
  assert rates['sequential'] == 20 * len(data.sequences)  # P5's cut: 20 per user
