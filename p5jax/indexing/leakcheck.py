"""Leak check: can a rule that never looks at data beyond ID strings predict the test item?

The rule ("next IDs"): sort all items by their ID string in natural order (a run of digits, with
or without spaces between them, compares as one number: `1 0 0 4` = 1004 > `9 9`); for a user
whose history (every item before the test item) reaches up to order position `m`, predict the
items at positions `m+1, ..., m+K`. Under P5's original numbering a user's test item is often
max(history)+1, so this rule scores HR@5 ~0.056 on Beauty; on a clean scheme it is near chance
(K / #items). It is compared with a popularity baseline (the K items most frequent in all users'
histories, the same list for everyone). `leak` is true when the rule beats popularity.

Reading the flag: the rule only looks at ID strings, so beating popularity means the naming
carries information about the held-out item. For `original` that is the test-position leak.
Content schemes (`contid`, `tid`) may trip it legitimately on weak-popularity data, because
their ID order puts similar items side by side (Beauty: ~0.01 vs popularity 0.007, against
0.045 for `original`); there the flag asks for a look, it is not a verdict. Schemes built from
training interactions only (`rid`, `sid`, `cid`, `iid`) stay near chance.

Console script: `p5jax-leakcheck --prepared_dir=DIR --scheme=NAME`; its last output line is one
JSON object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from p5jax.indexing.item_index import ItemIndex

_DIGIT_GAP = re.compile(r'(?<=\d) (?=\d)')
_NUMBER = re.compile(r'(\d+)')


def natural_key(id_string: str) -> tuple:
  """Sort key treating each digit run (digits may be space-separated) as one integer."""
  parts = _NUMBER.split(_DIGIT_GAP.sub('', id_string))
  return tuple(int(p) if n % 2 else p for n, p in enumerate(parts))


def order_positions(index: ItemIndex) -> dict[int, int]:
  """Item -> its position when all IDs are sorted in natural order."""
  keyed = sorted(zip(map(natural_key, index.all_id_strings()), index.items()))
  return {item: pos for pos, (_, item) in enumerate(keyed)}


def leak_check(
    index: ItemIndex, sequences: Mapping[int, Sequence[int]], *, k: int = 5
) -> dict[str, Any]:
  """Scores the next-IDs rule and popularity with HR@k on the test split (last item per user;
  users with fewer than 2 items are skipped)."""
  pos_of = order_positions(index)
  items = np.asarray(index.items(), np.int64)
  positions = np.asarray([pos_of[i] for i in items.tolist()], np.int64)
  seqs = [np.asarray(s, np.int64) for s in sequences.values() if len(s) >= 2]
  if not seqs:
    raise ValueError('leak_check needs at least one user with 2 or more items')
  history = np.concatenate([s[:-1] for s in seqs])
  tests = np.asarray([s[-1] for s in seqs], np.int64)
  lengths = np.asarray([len(s) - 1 for s in seqs], np.int64)
  lookup = np.searchsorted(items, np.concatenate([history, tests]))
  if (lookup >= len(items)).any() or (
      items[np.minimum(lookup, len(items) - 1)] != np.concatenate([history, tests])
  ).any():
    raise ValueError(f'sequences name items missing from the {index.scheme} index')
  hist_pos, test_pos = positions[lookup[: len(history)]], positions[lookup[len(history) :]]
  starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
  top = np.maximum.reduceat(hist_pos, starts)
  gap = test_pos - top
  rule_hr = float(np.mean((gap >= 1) & (gap <= k)))
  counts = np.bincount(lookup[: len(history)], minlength=len(items))
  popular = np.argsort(-counts, kind='stable')[:k]
  pop_hr = float(np.mean(np.isin(lookup[len(history) :], popular)))
  return {
      'scheme': index.scheme,
      'users': len(seqs),
      'items': len(items),
      f'rule_hr@{k}': round(rule_hr, 6),
      f'popularity_hr@{k}': round(pop_hr, 6),
      f'chance_hr@{k}': round(k / len(items), 6),
      'leak': bool(rule_hr > pop_hr),
  }


def check_prepared(
    prepared_dir: str, scheme: str, *, k: int = 5, params: str = ''
) -> dict[str, Any]:
  """`leak_check` on a prepared directory: its `indexes/<scheme>.json`, or the scheme built in
  memory (with the manifest's seed and `params`) when that file is absent."""
  from p5jax.data import PreparedDataset
  from p5jax.indexing.registry import parse_params, prepared_index

  dataset = PreparedDataset.load(prepared_dir)
  index = prepared_index(prepared_dir, scheme, dataset, build_missing=True, **parse_params(params))
  result = leak_check(index, dataset.sequences, k=k)
  result['prepared_dir'] = str(prepared_dir)
  return result


USAGE = """p5jax-leakcheck: does an ID scheme leak the test item? (a rule on ID strings vs popularity)
usage: p5jax-leakcheck --prepared_dir=prepared/beauty --scheme=original [--k=5] [--params=k=500,n=20]
       prints one summary line, then the result as JSON
"""


def console_main() -> None:
  from absl import app, flags

  from p5jax.errors import own_help

  flags.DEFINE_string('prepared_dir', None, 'A prepared dataset directory.', required=True)
  flags.DEFINE_string(
      'scheme', None, 'ID scheme (indexes/<scheme>.json; built if absent).', required=True
  )
  flags.DEFINE_integer('k', 5, 'Cut-off of HR@k.')
  flags.DEFINE_string('params', '', "Index params if the index is built, e.g. 'k=500,n=20'.")

  def main(argv: Sequence[str]) -> None:
    del argv
    cfg = flags.FLAGS
    result = check_prepared(cfg.prepared_dir, cfg.scheme, k=cfg.k, params=cfg.params)
    k = cfg.k
    print(
        f"{cfg.scheme}: next-IDs rule HR@{k} {result[f'rule_hr@{k}']:.4f}, popularity "
        f"HR@{k} {result[f'popularity_hr@{k}']:.4f}, chance {result[f'chance_hr@{k}']:.4f}"
        f" -> {'LEAK' if result['leak'] else 'no leak'}"
    )
    print(json.dumps(result))

  own_help(USAGE, (__name__,))
  app.run(main)
