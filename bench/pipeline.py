"""Throughput of the P5 pretrain mixture input pipeline (examples/s, tokenized + feature-converted).

Measures ``seqio.get_dataset('p5_<dataset>_pretrain', ...)`` with ``EncDecFeatureConverter`` at
P5's lengths (inputs 512, targets 64), batch 16, packed and unpacked, plus the pure-Python example
builders alone (to show where time goes). Datasets: the demo, and Beauty's sequence file
(``/work/shared/data/beauty``, sequential + direct families only) prepared into a cache dir.

  .venv/bin/python bench/pipeline.py --seconds=20 [--datasets=demo,beauty]

Packed throughput counts input examples (segments), not rows. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BEAUTY_RAW = '/work/shared/data/beauty'
LENGTHS = {'inputs': 512, 'targets': 64}


def prepared_beauty(cache_dir: str) -> str:
  from p5jax.data import FORMAT_VERSION, prepare

  out = os.path.join(cache_dir, f'beauty_sequences-f{FORMAT_VERSION}')
  if not os.path.isfile(os.path.join(out, 'manifest.json')):
    prepare('sequences', BEAUTY_RAW, out, protocol='corrected', id_schemes=('sid',))
  return out


def pipeline_rate(name: str, pack: bool, batch_size: int, seconds: float) -> dict:
  """Examples/s of the feature-converted pretrain mixture after a 2-batch warm-up."""
  import seqio

  start = time.perf_counter()
  ds = seqio.get_dataset(
      name,
      task_feature_lengths=LENGTHS,
      dataset_split='train',
      shuffle=True,
      seed=0,
      feature_converter=seqio.EncDecFeatureConverter(pack=pack),
      batch_size=batch_size,
  )
  it = ds.as_numpy_iterator()
  for _ in range(2):
    next(it)
  first = time.perf_counter() - start
  examples = batches = 0
  start = time.perf_counter()
  while time.perf_counter() - start < seconds:
    batch = next(it)
    batches += 1
    examples += int(batch['encoder_segment_ids'].max(axis=1).sum()) if pack else batch_size
  elapsed = time.perf_counter() - start
  return {
      'examples_per_s': examples / elapsed,
      'batches_per_s': batches / elapsed,
      'first_batches_s': first,
  }


def builder_rate(name: str, seconds: float) -> float:
  """Examples/s of the Python example builders of all train tasks, round robin, no TF."""
  from p5jax import prompts, tasks
  from p5jax.tasks import families

  streams = []
  for family in families.SEQUENCE_FAMILIES + families.REVIEW_FAMILIES:
    try:
      info = tasks.task_info(f'p5_{name}_{family}_train')
    except KeyError:
      continue
    ctx = info.context()
    seen = prompts.family_templates(ctx.variant, family, seen=True)
    streams.append(families.examples(ctx, family, 'train', seen, epoch=0))
  count, start = 0, time.perf_counter()
  for _example in itertools.chain.from_iterable(zip(*streams)):
    count += 1
    if count % 200 == 0 and time.perf_counter() - start > seconds:
      break
  return count / (time.perf_counter() - start)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--datasets', default='demo,beauty')
  parser.add_argument('--seconds', type=float, default=20.0)
  parser.add_argument('--batch_size', type=int, default=16)
  parser.add_argument(
      '--cache_dir', default=os.path.join(os.path.expanduser('~'), '.cache', 'p5jax')
  )
  args = parser.parse_args()
  from p5jax import tasks

  results = {}
  for name in args.datasets.split(','):
    start = time.perf_counter()
    if name == 'beauty':
      if not os.path.isdir(BEAUTY_RAW):
        print(f'skip beauty: {BEAUTY_RAW} not found')
        continue
      tasks.register_dataset('beauty', prepared_beauty(args.cache_dir), 'sid', 'corrected')
    tasks.task_info(f'p5_{name}_sequential_train').context()  # build data, index, vocabulary
    setup = time.perf_counter() - start
    row = {'setup_s': setup, 'python_builders_examples_per_s': builder_rate(name, args.seconds / 2)}
    for pack in (False, True):
      row['packed' if pack else 'unpacked'] = pipeline_rate(
          f'p5_{name}_pretrain', pack, args.batch_size, args.seconds
      )
    results[name] = row
    print(
        f'{name}: setup {setup:.1f}s, python builders '
        f'{row["python_builders_examples_per_s"]:.0f} ex/s, unpacked '
        f'{row["unpacked"]["examples_per_s"]:.0f} ex/s, packed '
        f'{row["packed"]["examples_per_s"]:.0f} ex/s (batch {args.batch_size}, 512/64, '
        f'{os.cpu_count()} cpus visible)'
    )
  print(
      json.dumps(
          {
              'benchmark': 'pipeline',
              'batch_size': args.batch_size,
              'lengths': LENGTHS,
              'seconds': args.seconds,
              'results': results,
          }
      )
  )


if __name__ == '__main__':
  main()
