import json

import pytest

from p5jax.data.errors import DataFormatError
from p5jax.data.yelp import read_yelp


def _write(tmp_path, raw, reviews):
  raw.write_lines(
      str(tmp_path / 'yelp_academic_dataset_review.json'), [json.dumps(r) for r in reviews]
  )
  businesses = sorted({r['business_id'] for r in reviews if 'business_id' in r})
  raw.write_lines(
      str(tmp_path / 'yelp_academic_dataset_business.json'),
      [
          json.dumps({'business_id': b, 'name': f'Cafe {b}', 'categories': 'Food, Coffee & Tea'})
          for b in businesses
      ],
  )
  users = sorted({r['user_id'] for r in reviews if 'user_id' in r})
  raw.write_lines(
      str(tmp_path / 'yelp_academic_dataset_user.json.gz'),
      [json.dumps({'user_id': u, 'name': u.upper()}) for u in users],
  )
  return str(tmp_path)


def _review(user, business, day, year=2019):
  return {
      'review_id': f'{user}{business}',
      'user_id': user,
      'business_id': business,
      'stars': 4,
      'text': 'good',
      'date': f'{year}-03-{day:02d} 10:00:00',
  }


def test_date_filter_kcore_and_metadata(tmp_path, raw):
  reviews = [_review(f'u{k}', f'b{(k + t) % 5}', 1 + t) for k in range(5) for t in range(5)]
  reviews.append(_review('u0', 'b9', 28, year=2018))  # outside 2019: skipped
  reviews.append(_review('u9', 'b0', 28))  # survives the date filter, not the 5-core
  out = read_yelp(_write(tmp_path, raw, reviews))
  assert sorted(out.users) == [f'u{k}' for k in range(5)] and out.users['u3'] == 'U3'
  assert out.items['b2'].title == 'Cafe b2'
  assert out.items['b2'].categories == ['Food', 'Coffee & Tea']
  assert out.report['reviews outside the 2019 date range (skipped)'] == 1
  assert out.report['reviews dropped by the 5-core filter'] == 1
  assert out.sequences['u1'][0] == ('b1', 20190301100000)


def test_bad_date_names_line(tmp_path, raw):
  reviews = [_review('u0', 'b0', 1), dict(_review('u0', 'b1', 2), date='03/02/2019')]
  with pytest.raises(DataFormatError, match=r"review.json, line 2, field 'date'"):
    read_yelp(_write(tmp_path, raw, reviews))


def test_exact_duplicates_are_dropped_and_counted(tmp_path, raw):
  reviews = [_review(f'u{k}', f'b{(k + t) % 5}', 1 + t) for k in range(5) for t in range(5)]
  reviews.append(dict(reviews[4], review_id='again'))
  out = read_yelp(_write(tmp_path, raw, reviews))
  assert out.report['duplicate reviews (same user, item and time) dropped'] == 1
  assert len(out.sequences['u0']) == 5
