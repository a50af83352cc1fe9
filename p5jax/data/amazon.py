"""Reader for McAuley's Amazon 2014 files (the files P5's preprocessing notebooks read).

`reviews_<Category>_5.json(.gz)`: one strict-JSON review per line; required fields `reviewerID`,
`asin`, `overall`, `unixReviewTime`; `reviewerName`, `summary`, `reviewText` are optional (their
absence is counted, never fatal). `meta_<Category>.json(.gz)`: Python-literal dicts (read with
`ast.literal_eval`, never `eval`). Optional `reviews_<Category>.pickle`: explanation records in
review order (`user`, `item`, `sentence` = [(feature, adjective, sentence, sentiment)]); one
sentence per review is drawn with a seeded RNG, as P5 does.
Exact duplicates (the same user, item and time) are dropped, keeping the first, and counted in
the manifest's notes: a repeated review would otherwise make a user's validation item equal to
the test item and put the test item in training.
Interactions are sorted by time (stable, so file order breaks ties) and 5-core filtered.
"""

from __future__ import annotations

import collections
import random

from p5jax.data.errors import DataFormatError
from p5jax.data.kcore import kcore_reviews
from p5jax.data.records import RawDataset, RawItem, RawReview, user_sequences
from p5jax.data.safe_pickle import load_plain_pickle
from p5jax.data.textio import (
    checked_records,
    find_file,
    optional_str,
    parse_literal_line,
    require_file,
)

CATEGORIES = {
    'beauty': 'Beauty',
    'sports': 'Sports_and_Outdoors',
    'toys': 'Toys_and_Games',
    'demo': 'Demo',
}


DUPLICATES_NOTE = 'duplicate reviews (same user, item and time) dropped'


def drop_duplicates(reviews: list[RawReview], report: collections.Counter) -> list[RawReview]:
  """`reviews` without exact repeats of (user, item, time), first kept; the count goes to
  `report[DUPLICATES_NOTE]` (0 included, so the manifest says it was checked)."""
  seen: set[tuple[str, str, int]] = set()
  kept = []
  for review in reviews:
    key = (review.user, review.item, review.time)
    if key not in seen:
      seen.add(key)
      kept.append(review)
  report[DUPLICATES_NOTE] += len(reviews) - len(kept)
  return kept


_REVIEW_FIELDS = (
    ('reviewerID', str),
    ('asin', str),
    ('overall', (int, float)),
    ('unixReviewTime', int),
)


def read_reviews(path: str, report: collections.Counter) -> list[RawReview]:
  reviews = []
  for number, r, (user, item, rating, time) in checked_records(path, _REVIEW_FIELDS):
    rating = float(rating)
    if not 1.0 <= rating <= 5.0:
      raise DataFormatError(path, f'rating {rating} outside 1..5', line=number, field='overall')
    for field in ('reviewerName', 'summary', 'reviewText'):
      if r.get(field) is None:
        report[f'reviews without {field}'] += 1
    review = RawReview(
        user,
        item,
        rating,
        time,
        summary=optional_str(r, 'summary'),
        text=optional_str(r, 'reviewText'),
        user_name=optional_str(r, 'reviewerName'),
    )
    reviews.append(review)
  return reviews


def read_meta(path: str, wanted: set[str], report: collections.Counter) -> dict[str, RawItem]:
  meta = {}
  for number, r, (asin,) in checked_records(path, (('asin', str),), parse_literal_line):
    if asin not in wanted:
      report['metadata records for items not in the reviews (ignored)'] += 1
      continue
    categories = r.get('categories') or []
    if categories and isinstance(categories[0], list):
      categories = categories[0]
    price = r.get('price')
    if price is not None and not isinstance(price, (int, float)):
      raise DataFormatError(path, 'price must be a number', line=number, field='price')
    meta[asin] = RawItem(
        title=optional_str(r, 'title'),
        brand=optional_str(r, 'brand'),
        categories=[str(c) for c in categories],
        price=None if price is None else float(price),
    )
  return meta


def attach_explanations(
    path: str, reviews: list[RawReview], seed: int, report: collections.Counter
) -> None:
  """Sets `explanation`/`feature` from the explanation pickle (same order as the reviews)."""
  records = load_plain_pickle(path)
  if not isinstance(records, list) or len(records) != len(reviews):
    raise DataFormatError(
        path,
        f'expected a list of {len(reviews)} records (one per review), '
        f'got {type(records).__name__} of length {len(records)}'
        if isinstance(records, list)
        else 'expected a list of records',
    )
  rng = random.Random(seed)
  for index, (record, review) in enumerate(zip(records, reviews)):
    if (
        not isinstance(record, dict)
        or record.get('user') != review.user
        or (record.get('item') != review.item)
    ):
      raise DataFormatError(
          path,
          f'record {index} does not match review {index} ' f'({review.user}, {review.item})',
          field='user/item',
      )
    sentences = record.get('sentence') or []
    if not sentences:
      report['reviews without an explanation sentence'] += 1
      continue
    feature, _, sentence, _ = sentences[rng.randrange(len(sentences))]
    review.feature, review.explanation = str(feature), str(sentence)


def read_amazon(raw_dir: str, dataset: str, *, seed: int = 0, core: int = 5) -> RawDataset:
  """Reads `reviews_<Cat>_5.json(.gz)` (+ meta, + explanation pickle) from `raw_dir`."""
  category = CATEGORIES[dataset]
  path = require_file(raw_dir, f'reviews_{category}_5.json', f'reviews_{category}.json')
  report: collections.Counter = collections.Counter()
  reviews = read_reviews(path, report)
  exp_path = find_file(raw_dir, f'reviews_{category}.pickle')
  if exp_path is not None:
    attach_explanations(exp_path, reviews, seed, report)
  else:
    report['no explanation pickle'] += 1
  reviews = drop_duplicates(reviews, report)  # after the pickle, which is aligned with the file
  reviews = kcore_reviews(reviews, core, report)
  if not reviews:
    raise DataFormatError(path, f'no reviews survive the {core}-core filter')
  return _assemble(dataset, path, raw_dir, category, reviews, report)


def _assemble(
    dataset: str,
    path: str,
    raw_dir: str,
    category: str,
    reviews: list[RawReview],
    report: collections.Counter,
) -> RawDataset:
  users: dict[str, str] = {}
  for r in reviews:
    if r.user_name is not None or r.user not in users:  # the last name wins (P5)
      users[r.user] = r.user_name or users.get(r.user) or r.user
  sequences = user_sequences(reviews)
  wanted = {r.item for r in reviews}
  meta_path = find_file(raw_dir, f'meta_{category}.json')
  meta = read_meta(meta_path, wanted, report) if meta_path else {}
  if meta_path is None:
    report['no metadata file'] += 1
  report['items without metadata'] += len(wanted - meta.keys())
  items = {}
  for _u, seq in sequences.items():
    for item, _ in seq:
      if item not in items:
        items[item] = meta.get(item, RawItem())
  return RawDataset(dataset, path, users, items, sequences, reviews, report=report)
