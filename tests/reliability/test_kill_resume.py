"""The real `p5jax` command, stopped the hard way, resumes to exactly the uninterrupted run.

One run trains 30 steps straight. Another is killed with SIGKILL midway, resumed (taking over
the dead run's lock), sent SIGTERM (it saves and exits with status 75), and resumed again to
the end. Every step's loss and the final parameters must be identical.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import numpy as np
import orbax.checkpoint as ocp
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 30
MODEL_GIN = """
from __gin__ import dynamic_registration
from tests.reliability import fakes as slow
from tests.training import fakes
MODEL = @slow.SlowModel()
slow.SlowModel.module = @fakes.TinySeq2Seq()
"""
_STEP = re.compile(r'^step (\d+)/\d+  loss ([\d.]+)')


def _command(model_gin, model_dir):
  return [
      sys.executable,
      '-m',
      'p5jax.launch.main',
      f'--gin_file={model_gin}',
      '--gin_file=runs/train.gin',
      "--gin.MIXTURE_OR_TASK_NAME='trainer_test_copy'",
      "--gin.MIXTURE_OR_TASK_MODULE='tests.training.seqio_fixtures'",
      "--gin.TASK_FEATURE_LENGTHS={'inputs': 12, 'targets': 6}",
      f'--gin.TRAIN_STEPS={STEPS}',
      '--gin.BATCH_SIZE=8',
      '--gin.CHECKPOINT_PERIOD=5',
      f"--gin.MODEL_DIR='{model_dir}'",
      '--gin.RANDOM_SEED=3',
      '--gin.EVAL_PERIOD=None',
      '--gin.train_lib.train.stats_period=1',
  ]


def _run(command, log, stop_at=None, sig=None):
  """Runs `command`; sends `sig` once it prints step `stop_at`. (exit status, {step: loss})."""
  env = dict(
      os.environ,
      PYTHONPATH=REPO,
      JAX_PLATFORMS='cpu',
      XLA_FLAGS='--xla_force_host_platform_device_count=1',
  )
  losses = {}
  with open(log, 'w') as err:
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, text=True
    )
    for line in proc.stdout:
      m = _STEP.match(line)
      if m:
        losses[int(m.group(1))] = m.group(2)
        if stop_at is not None and int(m.group(1)) == stop_at:
          proc.send_signal(sig)
    code = proc.wait(timeout=600)
  return code, losses


def _params(model_dir):
  state = ocp.StandardCheckpointer().restore(
      os.path.join(model_dir, f'checkpoint_{STEPS}', 'state')
  )
  return state['params']


@pytest.mark.slow
def test_kill_9_then_sigterm_then_resume_gives_the_uninterrupted_losses(tmp_path):
  model_gin = tmp_path / 'slow_model.gin'
  model_gin.write_text(MODEL_GIN)
  straight_dir, broken_dir = tmp_path / 'straight', tmp_path / 'broken'

  code, straight = _run(_command(model_gin, straight_dir), tmp_path / 'straight.log')
  assert code == 0, (tmp_path / 'straight.log').read_text()[-3000:]
  assert sorted(straight) == list(range(1, STEPS + 1))

  log = tmp_path / 'broken.log'
  code, first = _run(_command(model_gin, broken_dir), log, stop_at=12, sig=signal.SIGKILL)
  assert code == -signal.SIGKILL and max(first) < STEPS
  code, second = _run(_command(model_gin, broken_dir), log, stop_at=22, sig=signal.SIGTERM)
  err = log.read_text()
  assert code == 75, err[-3000:]
  assert 'taking over the stale lock' in err  # the killed run's lock
  last = err.strip().splitlines()[-1]
  assert re.fullmatch(
      r'p5jax: preempted: stopped by SIGTERM at step \d+ of 30 with .*checkpoint_\d+ saved; '
      r'rerun the same command to resume',
      last,
  ), last
  code, third = _run(_command(model_gin, broken_dir), log)
  assert code == 0, log.read_text()[-3000:]

  resumed = {**first, **second, **third}  # a resumed run reprints the steps it replays
  assert min(second) <= max(first) + 1 and min(third) <= max(second) + 1  # no gap
  assert resumed == straight
  a, b = _params(straight_dir), _params(broken_dir)
  for key in a:
    np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]))
