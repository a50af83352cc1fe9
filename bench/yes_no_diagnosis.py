"""What a model's yes/no ranking (5-1 / 5-4) has learned, from its evaluation outputs.

Reads the scored rows an evaluation writes (`MODEL_DIR/eval/<task>-<step>.jsonl`: one row per
(user, candidate) with its P(yes) as `score`) and the prepared dataset, and measures:
the spread of P(yes); its rank correlation with item popularity inside each user's candidates;
the AUC of "the candidate's leaf category is one the user bought in training" against the other
candidates; and HR@5 / HR@10 of the model next to two rankings of the same candidates:
training popularity, and the user's own category counts (then popularity); ties rank against
the positive.

    python bench/yes_no_diagnosis.py --prepared_dir=$P5JAX_CACHE/demo-v2 \
      runs/demo/eval/p5_demo_direct_5_1-001000.jsonl runs/demo/eval/p5_demo_direct_5_4-001000.jsonl
"""

from __future__ import annotations

import argparse
import collections
import json
import sys

import numpy as np
from scipy.stats import spearmanr

from p5jax.data import PreparedDataset


def _hit(scores: np.ndarray, positive: int, k: int) -> bool:
  """Is the positive in the top k? Candidates tied with it rank before it (pessimistic)."""
  return int((scores >= scores[positive]).sum()) - 1 < k


def diagnose(dataset: PreparedDataset, rows: list[dict]) -> dict[str, float]:
  """Figures of one task's scored rows; see the module docstring."""
  category = {i: (r.get('categories') or [''])[-1] for i, r in dataset.items.items()}
  popularity = collections.Counter(i for u in dataset.sequences for i in dataset.train_sequence(u))
  by_user: dict[int, list[tuple[int, float, bool]]] = collections.defaultdict(list)
  for row in rows:
    by_user[int(row['input']['user'])].append(
        (int(row['input']['item']), float(row['score']), bool(row['target'][2]))
    )
  scores_all = np.array([r['score'] for r in rows], float)
  aucs, correlations = [], []
  hits = collections.Counter()
  for user, cands in by_user.items():
    bought = collections.Counter(category[i] for i in dataset.train_sequence(user))
    items = [c[0] for c in cands]
    score = np.array([c[1] for c in cands])
    pop = np.array([popularity[i] for i in items], float)
    in_taste = np.array([bought[category[i]] > 0 for i in items])
    if in_taste.any() and (~in_taste).any():
      aucs.append(
          float(
              (score[in_taste][:, None] > score[~in_taste][None, :]).mean()
              + 0.5 * (score[in_taste][:, None] == score[~in_taste][None, :]).mean()
          )
      )
    if score.std() > 0 and pop.std() > 0:
      correlations.append(float(spearmanr(score, pop)[0]))
    positive = next(k for k, c in enumerate(cands) if c[2])
    taste = np.array([bought[category[i]] for i in items]) + pop / (pop.max() + 1.0)
    for name, ranking in (('model', score), ('popularity', pop), ('user_categories', taste)):
      for k in (5, 10):
        hits[f'{name}/HR@{k}'] += _hit(ranking, positive, k)
  users = len(by_user)
  out = {
      'users': users,
      'p_yes_mean': float(scores_all.mean()),
      'p_yes_std': float(scores_all.std()),
      'auc_in_taste': float(np.mean(aucs)) if aucs else float('nan'),
      'spearman_popularity': float(np.mean(correlations)) if correlations else float('nan'),
  }
  out.update({k: v / users for k, v in sorted(hits.items())})
  return out


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--prepared_dir', required=True)
  parser.add_argument('scored', nargs='+', help='eval output .jsonl of a yes/no task')
  args = parser.parse_args(argv)
  dataset = PreparedDataset.load(args.prepared_dir)
  results = {}
  for path in args.scored:
    with open(path, encoding='utf-8') as f:
      rows = [json.loads(line) for line in f if line.strip()]
    if not rows or 'score' not in rows[0]:
      raise SystemExit(f'{path}: no scored rows (expected the output of a yes/no task)')
    results[path] = figures = diagnose(dataset, rows)
    print(
        f"{path}: {figures['users']} users, P(yes) {figures['p_yes_mean']:.3f} "
        f"+- {figures['p_yes_std']:.3f}, AUC in-taste {figures['auc_in_taste']:.3f}, "
        f"rank corr. with popularity {figures['spearman_popularity']:.3f}"
    )
    print(
        '  HR@5 / HR@10: '
        + ', '.join(
            f"{name} {figures[name + '/HR@5']:.2f} / {figures[name + '/HR@10']:.2f}"
            for name in ('model', 'popularity', 'user_categories')
        )
    )
  print(json.dumps({p: {k: round(v, 5) for k, v in r.items()} for p, r in results.items()}))
  return 0


if __name__ == '__main__':
  sys.exit(main())
