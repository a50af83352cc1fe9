"""Each console script of setup.py: `--help` shows its usage and its own flags."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize(
    'script,flags',
    [
        (
            'p5jax',
            (
                '--gin_file',
                '--gin_bindings',
                '--run_mode',
                '--dry_run',
                '--process_count',
                '--verbose',
            ),
        ),
        ('p5jax-prepare', ('--dataset', '--raw_dir', '--out_dir', '--num_negatives', '--verbose')),
        ('p5jax-leakcheck', ('--prepared_dir', '--scheme', '--k')),
    ],
)
def test_help_lists_the_scripts_own_flags(script, flags):
  path = os.path.join(os.path.dirname(sys.executable), script)  # installed with the package
  assert os.path.exists(path), f'{script} is not installed next to {sys.executable}'
  out = subprocess.run(
      [path, '--help'],
      cwd=REPO,
      env=dict(os.environ, PYTHONPATH=REPO),
      capture_output=True,
      text=True,
      timeout=300,
  )
  assert out.returncode in (0, 1), out.stderr[-2000:]  # absl's --help exits with status 1
  text = out.stdout + out.stderr
  assert f'usage: {script} --' in text
  for flag in flags:
    assert f'  {flag}' in text or f'--[no]{flag[2:]}' in text, (flag, text)
