"""The real-data CPU recipe still learns: bench/learning_check.py, scaled down to minutes.

A chain file (next item = last item + 1) is learnable by reading the history; popularity scores
~1/items there. If a change to the model, optimizer, input stream or decoding stops the recipe
from conditioning on the history, HR@10 falls to that level and this test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_the_cpu_recipe_learns_a_chain_file(tmp_path):
  env = dict(
      os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ['PATH']])
  )
  run = subprocess.run(
      [
          sys.executable,
          os.path.join(REPO, 'bench', 'learning_check.py'),
          f'--out_dir={tmp_path}',
          '--items=400',
          '--users=1500',
          '--train_minutes=2',
          '--eval_users=300',
      ],
      cwd=REPO,
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
      timeout=1200,
      check=False,
  )
  assert run.returncode == 0, run.stdout[-3000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert result['users'] == 300
  assert result['train_minutes'] <= 2.5
  # Popularity is ~0.03 on this file; reading the history gives ~1.
  assert result['hr@10'] >= 0.5, run.stdout[-3000:]
