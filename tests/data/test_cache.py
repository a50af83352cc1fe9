import os

from p5jax.data import PreparedDataset, demo_prepared_dir


def test_builds_once_into_the_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("P5JAX_CACHE", str(tmp_path))
  path = demo_prepared_dir()
  assert path == os.path.join(str(tmp_path), "demo")
  stamp = os.path.getmtime(os.path.join(path, "manifest.json"))
  assert demo_prepared_dir() == path
  assert os.path.getmtime(os.path.join(path, "manifest.json")) == stamp
  assert sorted(os.listdir(tmp_path)) == ["demo"]  # no temporary directory left behind
  assert PreparedDataset.load(path).manifest["dataset"] == "demo"
