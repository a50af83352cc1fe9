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
import os

from p5jax.data.amazon import drop_duplicates
from p5jax.data.errors import DataFormatError
from p5jax.data.kcore import kcore_mask
from p5jax.data.records import RawDataset, RawItem, RawReview
from p5jax.data.textio import find_file, numbered_lines, optional_str, parse_json_line, required

DATE_RANGE = ('2019-01-01 00:00:00', '2019-12-31 00:00:00')
_DATE_FORMAT = '%Y-%m-%d %H:%M:%S'


def _path(raw_dir: str, kind: str) -> str:
  name = f'yelp_academic_dataset_{kind}.json'
  path = find_file(raw_dir, name)
  if path is None:
    raise DataFormatError(os.path.join(raw_dir, name + '(.gz)'), 'file not found')
  return path


def read_reviews(path: str, report: collections.Counter) -> list[RawReview]:
  reviews = []
  for number, line in numbered_lines(path):
    r = parse_json_line(path, number, line)
    user = required(path, number, r, 'user_id', str)
    business = required(path, number, r, 'business_id', str)
    stars = float(required(path, number, r, 'stars', (int, float)))
    date = required(path, number, r, 'date', str)
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
    reviews.append(RawReview(user, business, stars, time, text=optional_str(r, 'text')))
  return reviews


def read_yelp(raw_dir: str, *, core: int = 5) -> RawDataset:
  report: collections.Counter = collections.Counter()
  review_path = _path(raw_dir, 'review')
  reviews = drop_duplicates(read_reviews(review_path, report), report)
  keep = kcore_mask([r.user for r in reviews], [r.item for r in reviews], core)
  report[f'reviews dropped by the {core}-core filter'] += keep.count(False)
  reviews = [r for r, k in zip(reviews, keep) if k]
  if not reviews:
    raise DataFormatError(review_path, f'no reviews survive the date and {core}-core filters')
  users = {r.user: r.user for r in reviews}
  items = {r.item: RawItem() for r in reviews}
  business_path = _path(raw_dir, 'business')
  for number, line in numbered_lines(business_path):
    b = parse_json_line(business_path, number, line)
    business = required(business_path, number, b, 'business_id', str)
    if business in items:
      categories = b.get('categories') or ''
      items[business] = RawItem(
          title=optional_str(b, 'name'),
          categories=[c.strip() for c in categories.split(',') if c.strip()],
      )
  user_path = _path(raw_dir, 'user')
  for number, line in numbered_lines(user_path):
    u = parse_json_line(user_path, number, line)
    user = required(user_path, number, u, 'user_id', str)
    if user in users and u.get('name'):
      users[user] = str(u['name'])
  report['users without a user record'] += sum(1 for k, v in users.items() if k == v)
  by_user: dict[str, list[RawReview]] = {}
  for r in reviews:
    by_user.setdefault(r.user, []).append(r)
  sequences = {
      u: [(r.item, r.time) for r in sorted(rs, key=lambda r: r.time)] for u, rs in by_user.items()
  }
  items = {i: items[i] for s in sequences.values() for i, _ in s}
  return RawDataset('yelp', review_path, users, items, sequences, reviews, report=report)
