"""Time and peak memory of building every item index scheme.

Two catalogs:
  * Beauty (P5's `sequential_data.txt`, 12,101 items, 22,363 users; benchmark use only).
    Metadata for contid/tid comes from `item2attributes.json` (attribute ids as the category
    path, `attr` words as the title) since the sequence files carry no titles.
  * synthetic: `--synthetic_items` items in planted co-purchase topics of 200 items, users
    buying 8 items mostly from one topic, 10% of the catalog never bought (cold items).
Also runs the leak check on Beauty for every scheme. Prints a table, then one JSON line.

  .venv/bin/python bench/index_build.py --synthetic_items=1000000 --synthetic_schemes=rid,sid,cid
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc

import numpy as np

from p5jax.indexing import IndexInputs, ItemMeta, build_from_inputs, parse_params
from p5jax.indexing.leakcheck import leak_check

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEAUTY = os.path.join(REPO, '..', 'shared', 'data', 'beauty')  # --raw_dir


def beauty_inputs(raw_dir: str = BEAUTY) -> tuple[IndexInputs, dict[int, list[int]]]:
  sequences = {}
  with open(os.path.join(raw_dir, 'sequential_data.txt')) as f:
    for line in f:
      parts = [int(x) for x in line.split()]
      sequences[parts[0]] = parts[1:]
  with open(os.path.join(raw_dir, 'item2attributes.json')) as f:
    attributes = {int(k): v for k, v in json.load(f).items()}
  items = sorted({i for s in sequences.values() for i in s})
  meta = {
      i: ItemMeta(
          title=' '.join(f'attr{a}' for a in attributes.get(i, [])),
          categories=tuple(str(a) for a in attributes.get(i, [])),
      )
      for i in items
  }
  inputs = IndexInputs(
      tuple(items), {u: s[:-2] for u, s in sequences.items()}, meta, protocol='original'
  )
  return inputs, sequences


def synthetic_inputs(num_items: int, seed: int = 0) -> IndexInputs:
  rng = np.random.default_rng(seed)
  bought = int(num_items * 0.9)
  topic_size = 200
  num_users = max(bought // 2, 1)
  length = 8
  topics = rng.integers(0, max(bought // topic_size, 1), num_users)
  in_topic = topics[:, None] * topic_size + rng.integers(0, topic_size, (num_users, length))
  random_pick = rng.integers(0, bought, (num_users, length))
  picks = (
      np.where(rng.random((num_users, length)) < 0.8, np.minimum(in_topic, bought - 1), random_pick)
      + 1
  )
  train = {u: row for u, row in enumerate(picks.tolist(), start=1)}
  meta = {
      i: ItemMeta(
          title=f'product {i % 5000} model {i // 5000}',
          categories=(f'dept{i % 20}', f'aisle{i % 300}'),
      )
      for i in range(1, num_items + 1)
  }
  return IndexInputs(tuple(range(1, num_items + 1)), train, meta, protocol='original')


def measure(
    scheme: str, inputs: IndexInputs, params: dict, trace: bool
) -> tuple[object, float, float, float]:
  """(index, wall seconds, CPU seconds of this process, peak traced MiB or -1 untraced).
  CPU seconds are the robust figure on a shared machine; tracing slows Python-heavy code."""
  if trace:
    tracemalloc.start()
  start, cpu = time.perf_counter(), time.process_time()
  index = build_from_inputs(scheme, inputs, seed=0, **params)
  seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
  peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else -1.0
  if trace:
    tracemalloc.stop()
  return index, seconds, cpu, peak


def _rss_mib() -> float:
  return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument(
      '--schemes', default='original,rid,sid,cid,contid,tid,iid,cid+iid,' 'contid+iid'
  )
  parser.add_argument('--raw_dir', default=BEAUTY, help='the Beauty sequence files')
  parser.add_argument('--cid_params', default='500_20', help='k_n of cid, e.g. 500_20')
  parser.add_argument('--synthetic_items', type=int, default=1_000_000)
  parser.add_argument('--synthetic_schemes', default='rid,sid,cid')
  parser.add_argument(
      '--trace_synthetic',
      action='store_true',
      help='tracemalloc the synthetic builds too (slower; RSS is always given)',
  )
  args = parser.parse_args()
  cid = parse_params(args.cid_params)
  params = {'cid': cid, 'cid+iid': {'cid': cid}}
  figures: dict[str, dict] = {}

  inputs, sequences = beauty_inputs(args.raw_dir)
  print(f'Beauty: {len(inputs.all_items)} items, {len(sequences)} users')
  print(
      f"{'scheme':<12}{'wall s':>8}{'cpu s':>8}{'peak MiB':>10}{'tokens':>8}{'rule@5':>9}"
      f"{'pop@5':>8}  leak"
  )
  for scheme in args.schemes.split(','):
    index, seconds, cpu, peak = measure(scheme, inputs, params.get(scheme, {}), True)
    check = leak_check(index, sequences)
    figures[f'beauty/{scheme}'] = {
        'seconds': round(seconds, 3),
        'cpu_seconds': round(cpu, 3),
        'peak_mib': round(peak, 1),
        'new_tokens': len(index.new_tokens()),
        'rule_hr@5': check['rule_hr@5'],
        'popularity_hr@5': check['popularity_hr@5'],
        'leak': check['leak'],
    }
    print(
        f"{scheme:<12}{seconds:8.2f}{cpu:8.2f}{peak:10.1f}{len(index.new_tokens()):8d}"
        f"{check['rule_hr@5']:9.4f}{check['popularity_hr@5']:8.4f}  {check['leak']}"
    )

  if args.synthetic_items:
    start = time.perf_counter()
    synth = synthetic_inputs(args.synthetic_items)
    print(
        f'\nsynthetic: {args.synthetic_items} items, {len(synth.train_sequences)} users '
        f'(generated in {time.perf_counter() - start:.1f}s)'
    )
    for scheme in args.synthetic_schemes.split(','):
      index, seconds, cpu, peak = measure(
          scheme, synth, params.get(scheme, {}), args.trace_synthetic
      )
      depth = max(index.prefix(i).count('<') for i in index.items()[:: max(1, len(index) // 1000)])
      figures[f'synthetic{args.synthetic_items}/{scheme}'] = {
          'seconds': round(seconds, 2),
          'cpu_seconds': round(cpu, 2),
          'peak_mib': round(peak, 1),
          'max_rss_mib_so_far': _rss_mib(),
          'new_tokens': len(index.new_tokens()),
          'depth_sampled': depth,
      }
      print(
          f'{scheme:<12}{seconds:8.1f}s wall {cpu:8.1f}s cpu  peak {peak:7.1f} MiB  rss '
          f'{_rss_mib():7.1f} MiB  tokens '
          f'{len(index.new_tokens())}  depth {depth}'
      )
  figures['max_rss_mib'] = _rss_mib()
  figures['cpu_count'] = os.cpu_count()
  print(json.dumps(figures))


if __name__ == '__main__':
  main()
