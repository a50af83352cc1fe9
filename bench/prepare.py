"""Benchmark: prepare P5's Beauty sequence file and check P5 Table 1's statistics.

  .venv/bin/python bench/prepare.py [--raw_dir=../shared/data/beauty] [--protocol=corrected]

Reads `<raw_dir>/sequential_data.txt` (+ datamaps.json) with `--dataset=sequences`, writes a
prepared directory to a temporary folder, checks 22,363 users / 12,101 items / 198,502
interactions, prints the time of each step and ends with one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from absl import app, flags

from p5jax.data import PreparedDataset, prepare

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RAW_DIR = flags.DEFINE_string(
    'raw_dir', os.path.join(REPO, '..', 'shared', 'data', 'beauty'), 'Beauty release dir.'
)
_PROTOCOL = flags.DEFINE_enum('protocol', 'corrected', ['original', 'corrected'], 'Protocol.')
EXPECTED = {'num_users': 22_363, 'num_items': 12_101, 'num_interactions': 198_502}


def main(argv: list[str]) -> None:
  del argv
  with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    manifest = prepare(
        'sequences',
        _RAW_DIR.value,
        out,
        protocol=_PROTOCOL.value,
        log=lambda m: print(f'[{time.perf_counter() - start:6.2f}s] {m}'),
    )
    prepare_s = time.perf_counter() - start
    start = time.perf_counter()
    dataset = PreparedDataset.load(out)
    load_s = time.perf_counter() - start
  got = {k: manifest[k] for k in EXPECTED}
  ok = got == EXPECTED
  print(
      f"Beauty ({_PROTOCOL.value}): users {got['num_users']:,} items {got['num_items']:,} "
      f"interactions {got['num_interactions']:,} -> {'matches' if ok else 'DIFFERS FROM'} "
      f"P5 Table 1"
  )
  print(
      f'prepare {prepare_s:.2f}s, PreparedDataset.load {load_s:.2f}s '
      f'({len(dataset.negatives):,} users x 2 x 99 negatives)'
  )
  print(
      json.dumps(
          {
              'bench': 'prepare_beauty_sequences',
              'protocol': _PROTOCOL.value,
              **got,
              'matches_table1': ok,
              'prepare_s': round(prepare_s, 3),
              'load_s': round(load_s, 3),
          }
      )
  )
  if not ok:
    sys.exit(1)


if __name__ == '__main__':
  app.run(main)
