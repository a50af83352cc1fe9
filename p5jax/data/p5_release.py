"""Reader for P5's released preprocessed files (its `data/<dataset>/` folders).

Reads `sequential_data.txt` + `datamaps.json` (ids and raw ids), `review_splits.pkl` (reviews
with their released train/val/test split; explanation and feature fields ride on the review
records, so `exp_splits.pkl`, their subset with an explanation, adds nothing and is not read),
`negative_samples.txt` (the released test negatives), `user_id2name.pkl` and `meta.json.gz`
(Amazon item metadata, Python literals). Pickles go through the restricted unpickler.
Under the `original` protocol the released numbers, review split and test negatives are kept.
Reviews repeated in `review_splits.pkl` (same user, item and time) are dropped and counted.
"""

from __future__ import annotations

import os
from typing import Any

from p5jax.data.amazon import drop_duplicates, read_meta
from p5jax.data.errors import DataFormatError
from p5jax.data.records import RawDataset, RawReview
from p5jax.data.safe_pickle import load_plain_pickle
from p5jax.data.sequences import read_sequences
from p5jax.data.textio import find_file, numbered_lines

REQUIRED = ('sequential_data.txt', 'datamaps.json', 'review_splits.pkl')


def is_release(raw_dir: str) -> bool:
  return all(os.path.isfile(os.path.join(raw_dir, name)) for name in REQUIRED)


def _review(path: str, split: str, index: int, record: Any) -> RawReview:
  def field(name: str, kind: type | tuple[type, ...]) -> Any:
    value = record.get(name) if isinstance(record, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
      raise DataFormatError(path, f'{split}[{index}]: missing or not {kind}', field=name)
    return value

  time = record.get('unixReviewTime') if isinstance(record, dict) else None
  if isinstance(time, str) and time.isdigit():  # Yelp records store 'YYYYMMDDhhmmss'
    time = int(time)
  if not isinstance(time, int):
    raise DataFormatError(path, f'{split}[{index}]: missing or not an int', field='unixReviewTime')
  return RawReview(
      field('reviewerID', str),
      field('asin', str),
      float(field('overall', (int, float))),
      time,
      summary=record.get('summary'),
      text=record.get('reviewText'),
      explanation=record.get('explanation'),
      feature=record.get('feature'),
      split=split,
      user_name=record.get('reviewerName') if isinstance(record.get('reviewerName'), str) else None,
  )


def read_release(raw_dir: str, dataset: str) -> RawDataset:
  raw = read_sequences(raw_dir, name=dataset)
  item_by_number = {n: i for i, n in raw.item_numbers.items()}
  user_by_number = {n: u for u, n in raw.user_numbers.items()}
  splits_path = os.path.join(raw_dir, 'review_splits.pkl')
  splits = load_plain_pickle(splits_path)
  if not isinstance(splits, dict):
    raise DataFormatError(splits_path, 'expected a dict with train/val/test')
  for split in ('train', 'val', 'test'):
    records = splits.get(split)
    if not isinstance(records, list):
      raise DataFormatError(splits_path, 'missing or not a list', field=split)
    for index, record in enumerate(records):
      review = _review(splits_path, split, index, record)
      if review.user not in raw.users or review.item not in raw.items:
        raise DataFormatError(
            splits_path,
            f'{split}[{index}]: ({review.user}, {review.item}) '
            'is not in sequential_data.txt / datamaps.json',
            field='reviewerID/asin',
        )
      raw.reviews.append(review)
  raw.reviews = drop_duplicates(raw.reviews, raw.report)
  names_path = os.path.join(raw_dir, 'user_id2name.pkl')
  if os.path.isfile(names_path):
    names = load_plain_pickle(names_path)
    if not isinstance(names, dict):
      raise DataFormatError(names_path, 'expected a dict user id -> name')
    for number, name in names.items():
      user = user_by_number.get(int(number))
      if user is not None:
        raw.users[user] = str(name)
  negatives_path = os.path.join(raw_dir, 'negative_samples.txt')
  if os.path.isfile(negatives_path):
    raw.test_negatives = {}
    for number, line in numbered_lines(negatives_path):
      ids = line.split()
      user = user_by_number.get(int(ids[0])) if ids[0].isdigit() else None
      if user is None:
        raise DataFormatError(negatives_path, f'unknown user {ids[0]!r}', line=number)
      unknown = [i for i in ids[1:] if not i.isdigit() or int(i) not in item_by_number]
      if unknown:
        raise DataFormatError(negatives_path, f'unknown item {unknown[0]!r}', line=number)
      raw.test_negatives[user] = [item_by_number[int(i)] for i in ids[1:]]
    raw.report['users with test negatives from negative_samples.txt'] = len(raw.test_negatives)
  meta_path = find_file(raw_dir, 'meta.json')
  if meta_path is not None:
    raw.items.update(read_meta(meta_path, set(raw.items), raw.report))
  raw.source = splits_path
  return raw
