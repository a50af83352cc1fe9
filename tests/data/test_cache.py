import os

from p5jax.data import PreparedDataset, demo_prepared_dir
from p5jax.data.cache import demo_cache_name


def test_builds_once_into_the_cache(tmp_path, monkeypatch):
  monkeypatch.setenv('P5JAX_CACHE', str(tmp_path))
  path = demo_prepared_dir()
  assert path == os.path.join(str(tmp_path), demo_cache_name())
  stamp = os.path.getmtime(os.path.join(path, 'manifest.json'))
  assert demo_prepared_dir() == path
  assert os.path.getmtime(os.path.join(path, 'manifest.json')) == stamp
  assert sorted(os.listdir(tmp_path)) == [demo_cache_name()]  # no temporary directory left behind
  assert PreparedDataset.load(path).manifest['dataset'] == 'demo'


def test_losing_a_build_race_uses_the_winner(tmp_path, monkeypatch):
  from p5jax.data import pipeline

  def racing_prepare(dataset, raw_dir, out_dir, **kwargs):
    for directory in (
        out_dir,
        tmp_path / demo_cache_name(),
    ):  # ours, and the other process's finished one
      os.makedirs(directory, exist_ok=True)
      with open(os.path.join(directory, 'manifest.json'), 'w') as f:
        f.write('{}')
    return {}

  monkeypatch.setattr(pipeline, 'prepare', racing_prepare)
  assert demo_prepared_dir(str(tmp_path)) == str(tmp_path / demo_cache_name())
  assert sorted(os.listdir(tmp_path)) == [demo_cache_name()]
