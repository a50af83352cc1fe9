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
MODEL_GIN = """
from __gin__ import dynamic_registration
from tests.training import fakes
MODEL = @fakes.FakeEncoderDecoderModel()
fakes.FakeEncoderDecoderModel.module = @fakes.TinySeq2Seq()
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
      "--gin.MIXTURE_OR_TASK_MODULE='tests.training.seqio_fixtures'",
      "--gin.TASK_FEATURE_LENGTHS={'inputs': 12, 'targets': 6}",
      f'--gin.TRAIN_STEPS={steps}',
      '--gin.BATCH_SIZE=8',
      f"--gin.MODEL_DIR='{model_dir}'",
      '--gin.RANDOM_SEED=3',
      '--gin.EVAL_PERIOD=None',
      *extra,
  ]


def _run_cli(args, env_extra=None, timeout=120):
  env = dict(os.environ, PYTHONPATH=REPO, **(env_extra or {}))
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


def test_a_runs_directory_on_the_python_path_does_not_hide_the_run_files(
    model_gin, tmp_path, monkeypatch
):
  """After the README demo, `runs/` (its MODEL_DIR) sits in the repository; under `python -m`
  it is importable as a namespace package, which gin's package reader tripped over."""
  (tmp_path / 'runs' / 'demo').mkdir(parents=True)
  monkeypatch.chdir(tmp_path)
  monkeypatch.syspath_prepend(str(tmp_path))
  gin.clear_config()
  parse_gin([model_gin, 'runs/train.gin'], REQUIRED)
  assert entry_run_mode() == 'train'


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
          "--gin.MIXTURE_OR_TASK_MODULE='tests.training.seqio_fixtures'",
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
      PYTHONPATH=REPO,
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


@pytest.fixture
def cli(capsys):
  """Runs the `p5jax` command line in this process: (exit status, stderr)."""
  from absl import flags

  from p5jax.launch import main as main_lib

  def run(args):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(rewrite_gin_args(['p5jax', *args]))
    try:
      main_lib.main(['p5jax'])
      code = 0
    except SystemExit as e:
      code = e.code
    finally:
      flags.FLAGS.unparse_flags()
      gin.clear_config()
    return code, capsys.readouterr().err

  return run


def _one_line(err):
  lines = err.strip().splitlines()
  assert 'Traceback' not in err, err
  assert len(lines) == 1 and lines[0].startswith('p5jax: error: '), err
  return lines[0]


def test_cli_misspelt_macro_stops_before_any_work(model_gin, tmp_path):
  model_dir = tmp_path / 'run'
  out = _run_cli(_flags(model_gin, model_dir, extra=['--gin.TRAIN_STEPZ=1']))
  assert out.returncode == 1
  assert out.stderr.strip().splitlines()[-1] == (
      'p5jax: error: --gin.TRAIN_STEPZ: no gin file given defines the macro TRAIN_STEPZ (did '
      'you mean TRAIN_STEPS?); check the spelling, or add the gin file that uses it'
  )
  assert 'Traceback' not in out.stderr and not model_dir.exists()


def test_missing_gin_file_and_unknown_eval_task_are_named(cli, model_gin, tmp_path):
  code, err = cli(_flags(model_gin, tmp_path / 'run', extra=['--gin_file=runs/nosuch.gin']))
  assert code == 1 and "gin file 'runs/nosuch.gin' not found" in _one_line(err)
  bad_eval = "--gin.EVAL_MIXTURE_OR_TASK_NAME='p5_nosuch_eval'"
  code, err = cli(_flags(model_gin, tmp_path / 'run', extra=[bad_eval, '--dry_run']))
  assert _one_line(err).startswith(
      "p5jax: error: EVAL_MIXTURE_OR_TASK_NAME 'p5_nosuch_eval' is not a registered"
  )
  assert code == 1 and not (tmp_path / 'run').exists()


def test_model_dir_that_is_a_file_is_one_line(cli, model_gin, tmp_path):
  (tmp_path / 'run').write_text('')
  for extra in ([], ['--dry_run']):
    code, err = cli(_flags(model_gin, tmp_path / 'run', extra=extra))
    assert code == 1 and f"MODEL_DIR {tmp_path / 'run'} is a file" in _one_line(err)


@pytest.fixture(scope='module')
def prepared_demo(tmp_path_factory):
  from p5jax.data import prepare

  path = tmp_path_factory.mktemp('prepared') / 'demo'
  prepare('demo', None, str(path), id_schemes=('sid',), demo_scale=0.1, num_negatives=5)
  return path


def _dataset_flags(model_gin, model_dir, prepared_dir, scheme):
  return [
      f'--gin_file={model_gin}',
      '--gin_file=runs/train.gin',
      '--gin_file=datasets/beauty.gin',
      f"--gin.PREPARED_DIR='{prepared_dir}'",
      f"--gin.ID_SCHEME='{scheme}'",
      "--gin.TASK_FEATURE_LENGTHS={'inputs': 12, 'targets': 6}",
      '--gin.TRAIN_STEPS=1',
      f"--gin.MODEL_DIR='{model_dir}'",
      '--dry_run',
  ]


def test_dry_run_checks_the_prepared_dataset_and_id_scheme(cli, model_gin, prepared_demo, tmp_path):
  run = tmp_path / 'run'
  code, err = cli(_dataset_flags(model_gin, run, tmp_path / 'nope', 'sid'))
  assert code == 1
  assert f"prepared dataset {tmp_path / 'nope'} does not exist: create it with p5jax-prepare" in (
      _one_line(err)
  )
  code, err = cli(_dataset_flags(model_gin, run, prepared_demo, 'cidd'))
  assert code == 1 and "unknown ID scheme 'cidd'" in _one_line(err)
  code, err = cli(_dataset_flags(model_gin, run, prepared_demo, 'cid'))
  assert code == 1
  assert f'python -m p5jax.indexing.build --prepared_dir={prepared_demo} --scheme=cid' in _one_line(
      err
  )
  assert not (prepared_demo / 'indexes' / 'cid.json').exists() and not run.exists()
  code, err = cli(_dataset_flags(model_gin, run, prepared_demo, 'sid'))
  assert code == 0, err


def test_user_errors_are_one_line_unless_verbose_and_bugs_keep_their_traceback(
    cli, model_gin, tmp_path, monkeypatch
):
  from p5jax.training import train_lib
  from p5jax.training.checkpoints import CheckpointError

  def damaged(**kwargs):
    raise CheckpointError(f"checkpoint {kwargs['model_dir']}/checkpoint_4 is damaged")

  monkeypatch.setattr('p5jax.launch.main._entry', lambda mode: lambda: damaged(model_dir='/m'))
  code, err = cli(_flags(model_gin, tmp_path / 'run'))
  assert code == 1 and _one_line(err) == 'p5jax: error: checkpoint /m/checkpoint_4 is damaged'
  code, err = cli(_flags(model_gin, tmp_path / 'run', extra=['--verbose']))
  assert code == 1 and 'Traceback' in err
  assert err.strip().splitlines()[-1] == 'p5jax: error: checkpoint /m/checkpoint_4 is damaged'

  def bug():
    raise ValueError('a gin-looking bug')

  monkeypatch.setattr('p5jax.launch.main._entry', lambda mode: bug)
  with pytest.raises(ValueError, match='a gin-looking bug'):  # not a "configuration error"
    cli(_flags(model_gin, tmp_path / 'run'))

  def preempted():
    raise train_lib.Preempted('stopped by SIGTERM at step 3 of 6', 3)

  monkeypatch.setattr('p5jax.launch.main._entry', lambda mode: preempted)
  code, err = cli(_flags(model_gin, tmp_path / 'run'))
  assert code == 75 and err.strip() == 'p5jax: preempted: stopped by SIGTERM at step 3 of 6'
