"""`prepare`: raw source -> numbered, split, prepared directory (CONTRACTS §3)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from p5jax import paths
from p5jax.data import amazon, demo, p5_release, prepared, protocols, sequences, splits, yelp
from p5jax.data.errors import DataFormatError
from p5jax.data.records import RawDataset

DATASETS = ('beauty', 'sports', 'toys', 'yelp', 'demo', 'sequences')
DEFAULT_SEED = 2022


def read_raw(
    dataset: str, raw_dir: str | None, *, seed: int, demo_scale: float = 1.0
) -> RawDataset:
  """Dispatches to the reader for `dataset`; P5's released files win when present."""
  if dataset not in DATASETS:
    raise ValueError(f'dataset must be one of {DATASETS}, got {dataset!r}')
  if dataset == 'demo' and raw_dir is None:
    with tempfile.TemporaryDirectory() as tmp:
      demo.generate_raw(tmp, scale=demo_scale, seed=seed)
      return amazon.read_amazon(tmp, 'demo', seed=seed)
  if raw_dir is None or not os.path.isdir(raw_dir):
    raise DataFormatError(str(raw_dir), 'raw_dir is not a directory')
  if dataset == 'sequences':
    return sequences.read_sequences(raw_dir)
  if p5_release.is_release(raw_dir):
    return p5_release.read_release(raw_dir, dataset)
  if dataset == 'yelp':
    return yelp.read_yelp(raw_dir)
  return amazon.read_amazon(raw_dir, dataset, seed=seed)


def build_records(raw: RawDataset, protocol: str, seed: int, num_negatives: int) -> dict[str, Any]:
  """Numbered users/items/sequences/reviews/negatives, ready to write."""
  user_ids, item_ids = protocols.assign_ids(raw, protocol, seed)
  names = protocols.user_names(raw, protocol)
  users = [{'user': user_ids[u], 'raw_id': u, 'name': names.get(u) or u} for u in raw.sequences]
  items = [
      {
          'item': item_ids[i],
          'raw_id': i,
          'title': m.title,
          'brand': m.brand,
          'categories': list(m.categories),
          'price': m.price,
      }
      for i, m in raw.items.items()
  ]
  seqs = {
      user_ids[u]: ([item_ids[i] for i, _ in s], [t for _, t in s])
      for u, s in raw.sequences.items()
  }
  reviews = _review_records(raw, user_ids, item_ids, seqs, protocol, seed)
  negatives = splits.sample_negatives(
      {u: s for u, (s, _) in seqs.items()}, len(items), seed=seed, count=num_negatives
  )
  if protocol == 'original' and raw.test_negatives is not None:
    for u, negs in raw.test_negatives.items():
      negatives[user_ids[u]]['test'] = [item_ids[i] for i in negs]
  return {
      'users': sorted(users, key=lambda r: r['user']),
      'items': sorted(items, key=lambda r: r['item']),
      'sequences': [{'user': u, 'items': seqs[u][0], 'times': seqs[u][1]} for u in sorted(seqs)],
      'reviews': reviews,
      'negatives': [{'user': u, **negatives[u]} for u in sorted(negatives)],
  }


def _review_records(
    raw: RawDataset,
    user_ids: dict[str, int],
    item_ids: dict[str, int],
    seqs: dict[int, tuple[list[int], list[int]]],
    protocol: str,
    seed: int,
) -> list[dict[str, Any]]:
  """Numbered review records with their split (released split kept only under 'original')."""
  pairs = [(user_ids[r.user], item_ids[r.item]) for r in raw.reviews]
  if protocol == 'original' and raw.reviews and all(r.split for r in raw.reviews):
    split = [r.split for r in raw.reviews]
  else:
    pinned = None
    if protocol == 'corrected':
      pinned = {}
      for u, (s, _) in seqs.items():
        pinned[(u, s[-2])] = splits.VAL
        pinned[(u, s[-1])] = splits.TEST  # test wins if val and test are the same item
    split = splits.split_reviews(pairs, seed=seed, pinned=pinned)
  records = [
      {
          'user': u,
          'item': i,
          'rating': r.rating,
          'summary': r.summary,
          'text': r.text,
          'explanation': r.explanation,
          'feature': r.feature,
          'user_name': r.user_name,  # this review's reviewerName (P5's families 1, 3, 4)
          'time': r.time,
          'split': s,
      }
      for (u, i), r, s in zip(pairs, raw.reviews, split)
  ]
  return sorted(records, key=lambda r: (r['user'], r['time'], r['item']))


def prepare(
    dataset: str,
    raw_dir: str | None,
    out_dir: str,
    protocol: str = 'corrected',
    id_schemes: Sequence[str] = (),
    seed: int = DEFAULT_SEED,
    *,
    num_negatives: int = splits.DEFAULT_NUM_NEGATIVES,
    demo_scale: float = 1.0,
    overwrite: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
  """Reads `raw_dir`, writes the prepared directory `out_dir`, returns its manifest.

  `id_schemes`: item-index schemes built with `p5jax.indexing.build_index` into
  `out_dir/indexes/<scheme>.json`. `dataset='demo'` with `raw_dir=None` generates the demo's
  raw files (size `demo_scale`, see `demo.generate_raw`) with `seed`.
  Atomic: the dataset is built in a temporary sibling and renamed onto `out_dir` when complete,
  so a failure leaves nothing that loads. A non-empty `out_dir` is refused unless `overwrite`."""
  if protocol not in protocols.PROTOCOLS:
    raise ValueError(f'protocol must be one of {protocols.PROTOCOLS}, got {protocol!r}')
  for scheme in id_schemes:
    prepared.check_scheme_name(scheme)
  with prepared.building(out_dir, overwrite) as tmp:
    log(f"reading {dataset} from {raw_dir or '<generated demo>'}")
    raw = read_raw(dataset, raw_dir, seed=seed, demo_scale=demo_scale)
    log(f'numbering ({protocol}), splitting, sampling {num_negatives} negatives per user')
    records = build_records(raw, protocol, seed, num_negatives)
    for name in ('users', 'items', 'sequences', 'negatives'):
      prepared.write_jsonl(tmp / f'{name}.jsonl', records[name])
    if records['reviews']:
      prepared.write_jsonl(tmp / 'reviews.jsonl', records['reviews'])
    manifest = prepared.seal(tmp, _manifest(raw, records, dataset, protocol, seed, num_negatives))
    if id_schemes:
      manifest['id_schemes'] = build_indexes(tmp, id_schemes, seed, log)
      manifest = prepared.seal(tmp, manifest)
  return manifest


def build_indexes(
    out_dir: paths.PathLike, schemes: Sequence[str], seed: int, log: Callable[[str], None]
) -> list[str]:
  import p5jax.indexing  # the indexing part; imported only when schemes are asked for

  dataset = prepared.PreparedDataset.load(out_dir)
  for scheme in schemes:
    log(f'building item index {scheme!r}')
    index = p5jax.indexing.build_index(scheme, dataset, seed=seed)
    paths.write_bytes_atomic(
        paths.path(out_dir) / prepared.index_file(scheme), prepared.index_bytes(index)
    )
  return list(schemes)


def _manifest(
    raw: RawDataset,
    records: dict[str, Any],
    dataset: str,
    protocol: str,
    seed: int,
    num_negatives: int,
) -> dict[str, Any]:
  reviews = records['reviews']
  num_interactions = sum(len(s['items']) for s in records['sequences'])
  split_counts = {s: sum(r['split'] == s for r in reviews) for s in ('train', 'val', 'test')}
  return {
      'format_version': prepared.FORMAT_VERSION,
      'dataset': dataset,
      'protocol': protocol,
      'num_users': len(records['users']),
      'num_items': len(records['items']),
      'num_interactions': num_interactions,
      'num_reviews': len(reviews),
      'review_splits': split_counts,
      'has_reviews': bool(reviews),
      'has_explanations': any(r['explanation'] for r in reviews),
      'has_metadata': any(r['title'] for r in records['items']),
      'num_negatives': num_negatives,
      'seed': seed,
      'id_schemes': [],
      'source': os.path.basename(raw.source),
      'notes': dict(sorted(raw.report.items())),
  }
