"""Does the real-data CPU recipe learn? A check that needs no downloaded data.

Builds a synthetic sequence file where the next item is always the last item + 1 (by default
2,000 items and 6,000 users, 5-15 purchases each), runs the real-data CPU recipe on it
(bench/quality_cpu.sh: prepare, calibrate, train runs/real_cpu.gin for --train_minutes, evaluate
prompt 2-13 with full-ranking constrained beam search) and prints HR@1 / HR@10 on the first
--eval_users test users. A transition table scores HR@1 = 1 here, so a recipe that learns to read
the history reaches it; one that does not stays at popularity's level (~0.005).

    python bench/learning_check.py [--train_minutes=10] [--out_dir=bench/out/learning_check]

The last line is one JSON object: {"hr@1", "hr@10", "train_minutes", "users"}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write_chain_file(path: str, num_items: int, num_users: int, seed: int = 0) -> None:
  """`user item item ...` lines where every next item is the previous one + 1."""
  rng = np.random.default_rng(seed)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w', encoding='utf-8') as f:
    for user in range(1, num_users + 1):
      length = int(rng.integers(5, 16))
      start = int(rng.integers(1, num_items + 2 - length))
      f.write(' '.join(map(str, [user, *range(start, start + length)])) + '\n')


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--out_dir', default=os.path.join(HERE, 'out', 'learning_check'))
  parser.add_argument('--items', type=int, default=2000)
  parser.add_argument('--users', type=int, default=6000)
  parser.add_argument('--train_minutes', type=float, default=10.0)
  parser.add_argument('--eval_users', type=int, default=2000)
  parser.add_argument(
      '--max_epochs',
      type=float,
      default=1000.0,
      help='passes over the training positions (the chain cannot be overfit: time decides)',
  )
  args = parser.parse_args(argv)
  raw = os.path.join(args.out_dir, 'raw')
  write_chain_file(os.path.join(raw, 'sequential_data.txt'), args.items, args.users)
  print(
      f'chain file: {args.items} items, {args.users} users (next = last + 1) in {raw}', flush=True
  )
  env = dict(
      os.environ,
      TRAIN_MINUTES=f'{args.train_minutes:g}',
      EVAL_USERS=str(args.eval_users),
      MAX_EPOCHS=f'{args.max_epochs:g}',
  )
  command = ['bash', os.path.join(HERE, 'quality_cpu.sh'), raw, os.path.join(args.out_dir, 'run')]
  last = ''
  with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as run:
    for line in run.stdout:  # progress, live
      sys.stdout.write(line)
      sys.stdout.flush()
      last = line if line.strip() else last
  if run.returncode:
    print(f'learning_check: quality_cpu.sh failed with status {run.returncode}', file=sys.stderr)
    return run.returncode
  summary = json.loads(last)
  result = {
      'hr@1': summary['hr@1'],
      'hr@10': summary['hr@10'],
      'train_minutes': summary['train_minutes'],
      'users': summary['users'],
  }
  print(
      f"2-13 on {result['users']} test users after {result['train_minutes']:.1f} min of "
      f"training: HR@1 {result['hr@1']:.3f}, HR@10 {result['hr@10']:.3f} (a transition table: 1.0)"
  )
  print(json.dumps(result))
  return 0


if __name__ == '__main__':
  sys.exit(main())
