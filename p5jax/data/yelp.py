"""Reader for the Yelp academic dataset (the files P5's preprocessing notebook reads).

Files `yelp_academic_dataset_{review,business,user}.json(.gz)`, strict JSON lines. Reviews are
kept when `date` lies in [2019-01-01 00:00:00, 2019-12-31 00:00:00] (S3-Rec / P5), then the
interactions are 5-core filtered, iterated to a fixed point. Exact duplicates (same user,
business and date) are dropped first and counted in the manifest's notes. Times are `YYYYMMDDhhmmss`
integers, as in P5's Yelp records. Items are businesses (title = business name, categories =
the business's comma-separated categories); user names come from the user file.
Yelp explanation data (P5 matches it by (user, item, rating) triples) is not read: prepared
Yelp datasets have no explanations, and the manifest says so (`has_explanations: false`).
"""

from __future__ import annotations

import collections
import datetime

from p5jax.data.amazon import drop_duplicates
from p5jax.data.errors import DataFormatError
from p5jax.data.kcore import kcore_reviews
from p5jax.data.records import RawDataset, RawItem, RawReview, user_sequences
from p5jax.data.textio import checked_records, optional_str, require_file

DATE_RANGE = ('2019-01-01 00:00:00', '2019-12-31 00:00:00')
_DATE_FORMAT = '%Y-%m-%d %H:%M:%S'
_REVIEW_FIELDS = (('user_id', str), ('business_id', str), ('stars', (int, float)), ('date', str))


def _path(raw_dir: str, kind: str) -> str:
  return require_file(raw_dir, f'yelp_academic_dataset_{kind}.json')


def read_reviews(path: str, report: collections.Counter) -> list[RawReview]:
  reviews = []
  for number, r, (user, business, stars, date) in checked_records(path, _REVIEW_FIELDS):
    try:
      datetime.datetime.strptime(date, _DATE_FORMAT)
    except ValueError:
      raise DataFormatError(
          path, f"date {date!r} is not 'YYYY-MM-DD hh:mm:ss'", line=number, field='date'
      ) from None
    if not DATE_RANGE[0] <= date <= DATE_RANGE[1]:
      report['reviews outside the 2019 date range (skipped)'] += 1
      continue
    if r.get('text') is None:
      report['reviews without text'] += 1
    time = int(date.replace('-', '').replace(' ', '').replace(':', ''))
    reviews.append(RawReview(user, business, float(stars), time, text=optional_str(r, 'text')))
  return reviews


def read_yelp(raw_dir: str, *, core: int = 5) -> RawDataset:
  report: collections.Counter = collections.Counter()
  review_path = _path(raw_dir, 'review')
  reviews = drop_duplicates(read_reviews(review_path, report), report)
  reviews = kcore_reviews(reviews, core, report)
  if not reviews:
    raise DataFormatError(review_path, f'no reviews survive the date and {core}-core filters')
  users = {r.user: r.user for r in reviews}
  items = {r.item: RawItem() for r in reviews}
  for _, b, (business,) in checked_records(_path(raw_dir, 'business'), (('business_id', str),)):
    if business in items:
      categories = b.get('categories') or ''
      items[business] = RawItem(
          title=optional_str(b, 'name'),
          categories=[c.strip() for c in categories.split(',') if c.strip()],
      )
  for _, u, (user,) in checked_records(_path(raw_dir, 'user'), (('user_id', str),)):
    if user in users and u.get('name'):
      users[user] = str(u['name'])
  report['users without a user record'] += sum(1 for k, v in users.items() if k == v)
  sequences = user_sequences(reviews)
  items = {i: items[i] for s in sequences.values() for i, _ in s}
  return RawDataset('yelp', review_path, users, items, sequences, reviews, report=report)
