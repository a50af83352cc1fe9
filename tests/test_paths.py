"""MODEL_DIR, PREPARED_DIR and outputs go through `p5jax.paths` (etils.epath): `gs://` paths
never become local folders named `gs:`. No cloud: epath's backend is redirected to a local
folder standing in for the bucket."""

from __future__ import annotations

import json
import os

import pytest
from etils.epath import gpath
from etils.epath import testing as epath_testing

from p5jax import paths
from p5jax.errors import UserError


@pytest.fixture
def fake_gcs(tmp_path, monkeypatch):
  """`gs://bucket/...` stored under tmp_path/bucket-store; the working directory is
  tmp_path/cwd, which must stay empty."""
  store, cwd = tmp_path / 'bucket-store', tmp_path / 'cwd'
  store.mkdir()
  cwd.mkdir()
  monkeypatch.chdir(cwd)
  monkeypatch.setattr(gpath, '_is_tf_installed', lambda: False)  # the backend the mock replaces

  def local(path):
    text = os.fspath(path)
    if text.startswith(str(store)):  # the os backend calling itself (e.g. rename -> exists)
      return text
    assert text.startswith('gs://'), f'a local path reached the gs:// backend: {text}'
    return str(store) + '/' + text[len('gs://') :]

  def remote(path):
    return 'gs://' + os.path.relpath(os.fspath(path), store)

  def one(fn, path, *args, **kw):
    return fn(local(path), *args, **kw)

  def two(fn, src, dst, *args, **kw):
    return fn(local(src), local(dst), *args, **kw)

  def walk(fn, top, **kw):
    for root, dirs, files in fn(local(top), **kw):
      yield remote(root), dirs, files

  def glob(fn, pattern):
    return [remote(p) for p in fn(local(pattern))]

  with epath_testing.mock_epath(
      open=one,
      exists=one,
      isdir=one,
      listdir=one,
      makedirs=one,
      mkdir=one,
      remove=one,
      rmtree=one,
      stat=one,
      rename=two,
      replace=two,
      copy=two,
      walk=walk,
      glob=glob,
  ):
    yield store
  assert os.listdir(cwd) == [], 'something created a local folder for a gs:// path'


def test_local_and_file_uris_become_absolute_local_paths(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert paths.as_str('runs/a') == str(tmp_path / 'runs' / 'a')
  assert paths.as_str(f'file://{tmp_path}/x') == f'{tmp_path}/x'
  assert paths.as_str('gs://bucket/run') == 'gs://bucket/run'
  with pytest.raises(UserError, match=r'unsupported path scheme hdfs://'):
    paths.path('hdfs://namenode/run')


def test_a_directory_that_is_a_file_is_named(tmp_path):
  (tmp_path / 'run').write_text('')
  with pytest.raises(UserError, match=rf'MODEL_DIR {tmp_path}/run is a file'):
    paths.ensure_dir(str(tmp_path / 'run'), 'MODEL_DIR')
  with pytest.raises(UserError, match=r'a parent path is a file'):
    paths.ensure_dir(str(tmp_path / 'run' / 'sub'), 'MODEL_DIR')
  (tmp_path / 'out.json').mkdir()
  with pytest.raises(UserError, match=r'out\.json is a directory'):
    paths.output_file(str(tmp_path / 'out.json'), 'the results file')


def test_prepared_dataset_in_a_bucket(fake_gcs, tmp_path):
  from p5jax.data import PreparedDataset, prepare, prepared

  out = 'gs://bucket/prepared/demo'
  manifest = prepare('demo', None, out, id_schemes=('sid',), demo_scale=0.1, num_negatives=5)
  assert sorted(os.listdir(fake_gcs / 'bucket' / 'prepared')) == ['demo']  # no temporary left
  dataset = PreparedDataset.load(out)
  assert dataset.manifest == manifest and len(dataset.users) == manifest['num_users']
  assert len(prepared.load_item_index(out, 'sid')) == manifest['num_items']
  with pytest.raises(UserError, match=r'not empty'):
    prepare('demo', None, out, demo_scale=0.1, num_negatives=5)


def test_outputs_checksums_and_lock_in_a_bucket(fake_gcs):
  from p5jax.training import checkpoints, run_lock
  from p5jax.training.evaluation import write_results

  path = write_results({'task': {'hit@5': 0.5}}, 'gs://bucket/run/eval')
  assert path == 'gs://bucket/run/eval/results.json'
  assert json.loads((fake_gcs / 'bucket/run/eval/results.json').read_text())['task']
  step = fake_gcs / 'bucket' / 'run' / 'checkpoint_3' / 'state'
  step.mkdir(parents=True)
  (step / 'data').write_bytes(b'0123456789')
  checkpoints.write_checksums('gs://bucket/run/checkpoint_3')
  assert checkpoints.verify_checksums('gs://bucket/run/checkpoint_3')
  (step / 'data').write_bytes(b'0123456788')
  with pytest.raises(checkpoints.DamagedCheckpointError, match=r'state/data differs'):
    checkpoints.verify_checksums('gs://bucket/run/checkpoint_3')
  lock = run_lock.RunLock('gs://bucket/run')
  lock.acquire()
  lock_file = fake_gcs / 'bucket' / 'run' / run_lock.LOCK_NAME
  owner = json.loads(lock_file.read_text())
  assert owner['pid'] == os.getpid() and owner['host']
  lock.release()
  assert not lock_file.exists()
  lock_file.write_text(json.dumps(dict(owner, pid=os.getppid(), token='other')))  # alive
  with pytest.raises(run_lock.RunLockedError, match=r'in use by another trainer'):
    run_lock.RunLock('gs://bucket/run').acquire()
