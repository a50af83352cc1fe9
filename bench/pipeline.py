"""Input pipeline throughput: a prepared dataset's pretrain mixture, packed, at 512/64.

Side by side in one run: the seqio path (``seqio.get_dataset`` of ``p5_<name>_pretrain`` with
``EncDecFeatureConverter(pack=True)``: Python builders in a tf.data generator, text tokenized by
TF) and the trainer's P5 stream (``p5jax.training.p5_stream``: examples built by position,
per-word cached token ids, numpy packing), in the trainer's own process and with 1..N worker
processes (per-core scaling). Both count real examples (packed segments), not rows.

  python bench/pipeline.py [--prepared_dir=DIR] [--seconds=20] [--workers=0,1,2]

Default data: ../shared/data/beauty (next to the repository) prepared into the p5jax cache.
Ends with one JSON line; ``examples_per_s`` is the P5 stream's best rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from prepared_cache import DEFAULT_RAW_DIR, prepared_dir  # noqa: E402

LENGTHS = {'inputs': 512, 'targets': 64}
NAME = 'bench'


def measure(batches, seconds: float) -> dict:
  """Examples/s over ``seconds`` after the first batch (start-up reported apart)."""
  start = time.perf_counter()
  next(batches)
  first = time.perf_counter() - start
  examples = rows = 0
  start, cpu = time.perf_counter(), time.process_time()
  while time.perf_counter() - start < seconds:
    batch = next(batches)
    examples += int(batch['encoder_segment_ids'].max(axis=1).sum())
    rows += len(batch['encoder_segment_ids'])
  elapsed = time.perf_counter() - start
  return {
      'examples_per_s': examples / elapsed,
      'examples_per_row': examples / max(rows, 1),
      'main_process_cpu_share': (time.process_time() - cpu) / elapsed,
      'first_batch_s': first,
  }


def seqio_batches(batch_size: int, seed: int):
  import seqio

  ds = seqio.get_dataset(
      f'p5_{NAME}_pretrain',
      task_feature_lengths=LENGTHS,
      dataset_split='train',
      shuffle=True,
      seed=seed,
      feature_converter=seqio.EncDecFeatureConverter(pack=True),
      batch_size=batch_size,
  )
  return ds.prefetch(4).as_numpy_iterator()


def stream_batches(batch_size: int, seed: int, workers: int):
  from p5jax.training.data import DatasetConfig, get_dataset, resumable_batches
  from p5jax.training.partitioning import DataLayout

  class EncDec:  # the model's feature converter is all get_dataset needs
    pass

  cfg = DatasetConfig(
      f'p5_{NAME}_pretrain', LENGTHS, 'train', batch_size, True, seed=seed, pack=True
  )
  stream = get_dataset(
      dataclasses.replace(cfg, num_workers=workers), DataLayout(batch_size, 0, 1), EncDec()
  )
  return resumable_batches(stream, 0)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--prepared_dir', default=None, help='a p5jax-prepare output directory')
  parser.add_argument(
      '--raw_dir',
      default=DEFAULT_RAW_DIR,
      help='sequence file to prepare into the cache when --prepared_dir is not given',
  )
  parser.add_argument('--id_scheme', default='sid')
  parser.add_argument('--seconds', type=float, default=20.0, help='per measurement')
  parser.add_argument('--batch_size', type=int, default=16)
  parser.add_argument('--workers', default='0,1,2', help='P5 stream worker counts to measure')
  parser.add_argument('--skip_seqio', action='store_true', help='do not measure the seqio path')
  args = parser.parse_args()
  logging.disable(logging.WARNING)
  from p5jax import tasks

  load_start = os.getloadavg()
  data = args.prepared_dir or prepared_dir(args.raw_dir)
  start = time.perf_counter()
  tasks.register_dataset(NAME, data, args.id_scheme)
  tasks.task_info(f'p5_{NAME}_sequential_train').context()  # data, index, vocabulary
  setup = time.perf_counter() - start
  print(
      f'{data}: setup {setup:.1f}s; pretrain mixture packed at 512/64, batch {args.batch_size}, '
      f'{os.cpu_count()} cpus, load {load_start[0]:.2f}'
  )
  results = {}
  if not args.skip_seqio:
    results['seqio'] = measure(seqio_batches(args.batch_size, 0), args.seconds)
    print(f"  seqio.get_dataset: {results['seqio']['examples_per_s']:,.0f} examples/s")
  for workers in [int(w) for w in args.workers.split(',')]:
    row = measure(stream_batches(args.batch_size, 0, workers), args.seconds)
    results[f'p5_stream_workers_{workers}'] = row
    print(
        f"  P5 stream, {workers} worker processes: {row['examples_per_s']:,.0f} examples/s "
        f"({row['examples_per_row']:.1f} per row, trainer process busy "
        f"{100 * row['main_process_cpu_share']:.0f}%, first batch {row['first_batch_s']:.1f}s)"
    )
  best = max(v['examples_per_s'] for k, v in results.items() if k.startswith('p5_stream'))
  load_end = os.getloadavg()
  out = {
      'benchmark': 'pipeline',
      'prepared_dir': data,
      'batch_size': args.batch_size,
      'lengths': LENGTHS,
      'seconds': args.seconds,
      'cpus': os.cpu_count(),
      'load_start': load_start,
      'load_end': load_end,
      'results': results,
      'seqio_examples_per_s': results.get('seqio', {}).get('examples_per_s'),
      'examples_per_s': best,
  }
  if 'seqio' in results:
    out['speedup_vs_seqio'] = best / results['seqio']['examples_per_s']
  print(f'load average at the end {load_end[0]:.2f}')
  print(json.dumps(out))


if __name__ == '__main__':
  main()
