"""The last step of bench/quality_cpu.sh: one JSON line for a trained and evaluated run.

Reads the run's `eval/results.json` (the model's row and the popularity row the evaluation
scored on the same examples) and `train/summary.json` (steps, examples, training seconds), and
scores the item-to-item transition baseline (`p5jax.baselines`) on the same first `--users`
test users of the prepared dataset. The popularity baseline is scored here too and must agree
with the evaluation's popularity row: that checks that both saw the same users.

  python bench/quality_summary.py --prepared_dir=OUT/prepared --model_dir=OUT/run \
    --task=p5_seq_sequential_2_13 --scheme=iid --users=5000
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

KS = (5, 10)


def hit_and_ndcg(ranked: dict[int, np.ndarray], targets: dict[int, int]) -> dict[str, float]:
  """HR@k and NDCG@k (one relevant item) of per-user rankings."""
  out = {}
  for k in KS:
    hits, gains = [], []
    for user, target in targets.items():
      top = list(ranked[user][:k])
      rank = top.index(target) if target in top else None
      hits.append(rank is not None)
      gains.append(0.0 if rank is None else 1.0 / np.log2(rank + 2))
    out[f'hr@{k}'] = float(np.mean(hits))
    out[f'ndcg@{k}'] = float(np.mean(gains))
  return out


def first_test_users(sequences: dict[int, list[int]], n: int) -> list[int]:
  """The first `n` users (by id) that have a test example, the evaluation's order."""
  return [u for u in sorted(sequences) if len(sequences[u]) >= 2][:n]


def summarize(prepared_dir: str, model_dir: str, task: str, scheme: str, users: int) -> dict:
  from p5jax.baselines import baseline_rankings, split_history
  from p5jax.data import PreparedDataset

  with open(os.path.join(model_dir, 'eval', 'results.json'), encoding='utf-8') as f:
    results = json.load(f)
  with open(os.path.join(model_dir, 'train', 'summary.json'), encoding='utf-8') as f:
    train = json.load(f)
  if task not in results:
    raise SystemExit(f'{model_dir}/eval/results.json has no row {task!r}: {sorted(results)}')
  model, popularity_row = results[task], results.get(f'popularity/{task}', {})

  dataset = PreparedDataset.load(prepared_dir)
  chosen = first_test_users(dataset.sequences, users)
  sequences = {u: dataset.sequences[u] for u in chosen}
  targets = {u: split_history(s, 'test')[1] for u, s in sequences.items()}
  # Statistics from every user's training part, rankings for the chosen users only.
  ranked = baseline_rankings(dataset.sequences, sorted(dataset.items), split='test', k=max(KS))
  baselines = {
      method: hit_and_ndcg({u: ranked[method][u] for u in chosen}, targets) for method in ranked
  }
  evaluated_pop = popularity_row.get('HR@10')
  if evaluated_pop is not None and abs(evaluated_pop - baselines['popularity']['hr@10']) > 1e-9:
    print(
        f'warning: the evaluation scored popularity HR@10 {evaluated_pop:.4f}, this script '
        f"{baselines['popularity']['hr@10']:.4f}: the user sets differ",
        file=sys.stderr,
    )
  return {
      'scheme': scheme,
      'train_minutes': round(train['train_seconds'] / 60, 2),
      'steps': train['steps'],
      'examples': train['examples'],
      'users': len(chosen),
      'hr@1': model.get('HR@1'),
      'hr@5': model['HR@5'],
      'ndcg@5': model['NDCG@5'],
      'hr@10': model['HR@10'],
      'ndcg@10': model['NDCG@10'],
      'popularity_hr@10': baselines['popularity']['hr@10'],
      'transition_hr@10': baselines['transition']['hr@10'],
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--prepared_dir', required=True)
  parser.add_argument('--model_dir', required=True)
  parser.add_argument(
      '--task', required=True, help='the evaluated task, e.g. p5_seq_sequential_2_13'
  )
  parser.add_argument('--scheme', required=True)
  parser.add_argument('--users', type=int, required=True)
  args = parser.parse_args()
  summary = summarize(args.prepared_dir, args.model_dir, args.task, args.scheme, args.users)
  ratio = summary['hr@10'] / max(summary['popularity_hr@10'], 1e-12)
  print(
      f"2-13 on {summary['users']} test users after {summary['train_minutes']} min of training "
      f"({summary['steps']} steps, {summary['examples']:,} examples): HR@10 {summary['hr@10']:.4f}"
      f" = {ratio:.1f}x popularity ({summary['popularity_hr@10']:.4f}); transition "
      f"{summary['transition_hr@10']:.4f}"
  )
  print(json.dumps(summary))


if __name__ == '__main__':
  main()
