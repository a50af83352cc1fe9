"""The `p5jax` command line: gin flag plumbing, early errors, a real run, two processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import gin
import pytest

from p5jax.launch.gin_flags import GinConfigError, entry_run_mode, parse_gin, rewrite_gin_args

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAINING_TESTS = os.path.join(REPO, 'tests', 'training')
MODEL_GIN = """
from __gin__ import dynamic_registration
import training_fakes
MODEL = @training_fakes.FakeEncoderDecoderModel()
training_fakes.FakeEncoderDecoderModel.module = @training_fakes.TinySeq2Seq()
"""


@pytest.fixture
def model_gin(tmp_path):
  path = tmp_path / 'fake_model.gin'
  path.write_text(MODEL_GIN)
  return str(path)


@pytest.fixture(autouse=True)
def clean_gin():
  gin.clear_config()
  yield
  gin.clear_config()


def _flags(model_gin, model_dir, steps=2, extra=()):
  return [
      f'--gin_file={model_gin}',
      '--gin_file=runs/train.gin',
      "--gin.MIXTURE_OR_TASK_NAME='trainer_test_copy'",
      "--gin.MIXTURE_OR_TASK_MODULE='seqio_fixtures'",
      "--gin.TASK_FEATURE_LENGTHS={'inputs': 12, 'targets': 6}",
      f'--gin.TRAIN_STEPS={steps}',
      '--gin.BATCH_SIZE=8',
      f"--gin.MODEL_DIR='{model_dir}'",
      '--gin.RANDOM_SEED=3',
      '--gin.EVAL_PERIOD=None',
      *extra,
  ]


def _run_cli(args, env_extra=None, timeout=120):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([TRAINING_TESTS, REPO]), **(env_extra or {}))
  return subprocess.run(
      [sys.executable, '-m', 'p5jax.launch.main', *args],
      cwd=REPO,
      env=env,
      capture_output=True,
      text=True,
      timeout=timeout,
  )


def test_rewrite_gin_args():
  assert rewrite_gin_args(['p5jax', "--gin.MODEL_DIR='/x'", '--gin_file=a.gin']) == [
      'p5jax',
      "--gin_bindings=MODEL_DIR = '/x'",
      '--gin_file=a.gin',
  ]


REQUIRED = [
    "MIXTURE_OR_TASK_NAME = 'x'",
    "MODEL_DIR = '/tmp/x'",
    'TRAIN_STEPS = 1',
    "TASK_FEATURE_LENGTHS = {'inputs': 4, 'targets': 4}",
]


def test_run_files_parse_and_pick_their_entry(model_gin):
  for mode in ('train', 'eval', 'infer'):
    gin.clear_config()
    bindings = REQUIRED if mode == 'train' else [b for b in REQUIRED if 'TRAIN_STEPS' not in b]
    parse_gin([model_gin, f'runs/{mode}.gin'], bindings)
    assert entry_run_mode() == mode


def test_unset_required_macro_is_named(model_gin):
  with pytest.raises(GinConfigError, match='TRAIN_STEPS'):
    parse_gin([model_gin, 'runs/train.gin'], [b for b in REQUIRED if 'TRAIN' not in b])


def test_bad_binding_is_named(model_gin):
  with pytest.raises(GinConfigError, match='train_lib.train.totl_steps'):
    parse_gin([model_gin, 'runs/train.gin'], REQUIRED + ['train_lib.train.totl_steps = 3'])
  gin.clear_config()
  with pytest.raises(GinConfigError, match='no_such.gin'):
    parse_gin(['no_such.gin'], [])


def test_cli_missing_task_fails_before_any_work(model_gin, tmp_path):
  model_dir = tmp_path / 'run'
  flags = _flags(model_gin, model_dir)
  flags[2] = "--gin.MIXTURE_OR_TASK_NAME='p5_nosuch_pretrain'"
  out = _run_cli(flags)
  assert out.returncode != 0
  assert "'p5_nosuch_pretrain' is not a registered seqio task" in out.stderr
  assert not model_dir.exists()


@pytest.mark.slow
def test_cli_trains_then_evaluates(model_gin, tmp_path):
  model_dir = tmp_path / 'run'
  out = _run_cli(_flags(model_gin, model_dir))
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'step 2/2' in out.stdout
  assert (model_dir / 'checkpoint_2').is_dir() and (model_dir / 'config.gin').exists()
  assert 'train_lib.train.total_steps = %TRAIN_STEPS' in (model_dir / 'config.gin').read_text()
  out = _run_cli(
      [
          f'--gin_file={model_gin}',
          '--gin_file=runs/eval.gin',
          "--gin.MIXTURE_OR_TASK_NAME='trainer_test_copy'",
          "--gin.MIXTURE_OR_TASK_MODULE='seqio_fixtures'",
          '--gin.BATCH_SIZE=8',
          "--gin.EVAL_SPLIT='validation'",
          f"--gin.MODEL_DIR='{model_dir}'",
      ]
  )
  assert out.returncode == 0, out.stderr[-3000:]
  results = json.loads((model_dir / 'eval' / 'results.json').read_text())
  assert 'sequence_accuracy' in results['trainer_test_copy']


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_distributed_training(model_gin, tmp_path):
  """Two CPU processes (gloo collectives), one device each, a 2-device 'data' mesh."""
  addr = f'localhost:{_free_port()}'
  model_dir = tmp_path / 'run'
  env = dict(
      os.environ,
      PYTHONPATH=os.pathsep.join([TRAINING_TESTS, REPO]),
      XLA_FLAGS='--xla_force_host_platform_device_count=1',
      JAX_PLATFORMS='cpu',
  )
  procs = [
      subprocess.Popen(
          [
              sys.executable,
              '-m',
              'p5jax.launch.main',
              *_flags(model_gin, model_dir, steps=3),
              f'--coordinator_address={addr}',
              '--process_count=2',
              f'--process_index={i}',
          ],
          cwd=REPO,
          env=env,
          stdout=subprocess.PIPE,
          stderr=subprocess.PIPE,
          text=True,
      )
      for i in range(2)
  ]
  outs = [p.communicate(timeout=180) for p in procs]
  for p, (_, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  assert 'step 3/3' in outs[0][0]
  assert (model_dir / 'checkpoint_3').is_dir()
  info = (model_dir / 'model-info.txt').read_text()
  assert 'over 2 devices' in info
