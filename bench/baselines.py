"""No-model baselines on a prepared dataset: popularity and item-to-item transitions.

The bar a trained P5 model must clear on the same leave-one-out split: full-ranking HR@k /
NDCG@k for the sequential task (all items), and the direct task's 1 positive + 99 fixed
negatives. Only training interactions shape the statistics.

    python bench/baselines.py --prepared_dir=prepared/beauty [--split=test]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from p5jax.baselines import BASELINES, baseline_rankings, split_history
from p5jax.data import PreparedDataset
from p5jax.metrics import ranking_metrics


def evaluate(dataset: PreparedDataset, split: str) -> dict[str, dict[str, float]]:
  """`{"<method>/<task>": {metric: value}}` for task in sequential (all items) and direct."""
  sequences = {u: list(s) for u, s in dataset.sequences.items()}
  items = list(dataset.items)
  targets = {u: split_history(s, split)[1] for u, s in sequences.items()}
  neg_key = 'test' if split == 'test' else 'val'
  candidates = {u: list(dataset.negatives[u][neg_key]) + [targets[u]] for u in sequences}
  out = {}
  for task, kwargs in (('sequential', {'k': 20}), ('direct', {'candidates': candidates})):
    ranked = baseline_rankings(sequences, items, split=split, **kwargs)
    for method in BASELINES:
      users = sorted(sequences)
      out[f'{method}/{task}'] = ranking_metrics(
          [str(targets[u]) for u in users],
          [[str(i) for i in ranked[method][u]] for u in users],
          ks=(1, 5, 10),
      )
  return out


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--prepared_dir', required=True)
  parser.add_argument('--split', default='test', choices=('validation', 'test'))
  args = parser.parse_args(argv)
  started = time.time()
  dataset = PreparedDataset.load(args.prepared_dir)
  results = evaluate(dataset, args.split)
  print(
      f'{len(dataset.sequences):,} users, {len(dataset.items):,} items, split={args.split}, '
      f'{time.time() - started:.1f}s'
  )
  print(
      f"{'baseline/task':<24}"
      + ''.join(f'{m:>10}' for m in ('HR@1', 'HR@5', 'NDCG@5', 'HR@10', 'NDCG@10'))
  )
  for name, row in results.items():
    print(
        f'{name:<24}'
        + ''.join(f'{row[m]:>10.4f}' for m in ('HR@1', 'HR@5', 'NDCG@5', 'HR@10', 'NDCG@10'))
    )
  print(json.dumps({k: {m: round(v, 5) for m, v in r.items()} for k, r in results.items()}))
  return 0


if __name__ == '__main__':
  sys.exit(main())
