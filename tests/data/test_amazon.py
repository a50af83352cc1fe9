import json
import os
import pickle

import pytest

from p5jax.data.amazon import read_amazon
from p5jax.data.errors import DataFormatError


def test_reads_reviews_meta_explanations(amazon_dir):
  raw = read_amazon(amazon_dir, 'beauty')
  assert len(raw.users) == 10 and len(raw.items) == 12 and len(raw.reviews) == 70
  assert raw.users['U2'] == 'name of U2'
  assert [i for i, _ in raw.sequences['U9']] == ['I9', 'I10', 'I11', 'I0', 'I1', 'I2', 'I3']
  assert raw.items['I3'].title == 'title I3' and raw.items['I3'].price == 9.5
  assert raw.items['I3'].categories == ['Beauty', 'Skin']
  assert all(r.feature == 'scent' and r.item in r.explanation for r in raw.reviews)


def test_ties_keep_file_order_and_kcore_drops_sparse(tmp_path, raw):
  reviews = raw.all_buy_all([f'U{k}' for k in range(5)], [f'I{k}' for k in range(5)])
  reviews.append(raw.amazon_review('LONELY', 'I0', 5))  # 1 interaction: filtered
  for r in reviews:
    if r['reviewerID'] == 'U0':
      r['unixReviewTime'] = 7  # all tied: file order decides
  out = read_amazon(raw.write_amazon(str(tmp_path), reviews), 'beauty')
  assert 'LONELY' not in out.users
  assert [i for i, _ in out.sequences['U0']] == ['I0', 'I1', 'I2', 'I3', 'I4']
  assert out.report['reviews dropped by the 5-core filter'] == 1


def test_missing_optional_fields_are_counted(tmp_path, raw):
  reviews = raw.all_buy_all([f'U{k}' for k in range(5)], [f'I{k}' for k in range(5)])
  del reviews[3]['reviewerName'], reviews[4]['summary']
  out = read_amazon(raw.write_amazon(str(tmp_path), reviews, explanations=False), 'beauty')
  assert out.report['reviews without reviewerName'] == 1
  assert out.report['reviews without summary'] == 1
  assert out.report['no explanation pickle'] == 1
  assert len(out.reviews) == 25


def _corrupt(raw_dir, line_no, text):
  path = os.path.join(raw_dir, 'reviews_Beauty_5.json.gz')
  import gzip

  with gzip.open(path, 'rt') as f:
    lines = f.read().splitlines()
  lines[line_no - 1] = text
  with gzip.open(path, 'wt') as f:
    f.write('\n'.join(lines) + '\n')


def test_malformed_json_line(amazon_dir):
  _corrupt(amazon_dir, 4, '{"reviewerID": "U0", ')
  with pytest.raises(DataFormatError, match=r'reviews_Beauty_5.json.gz, line 4: malformed JSON'):
    read_amazon(amazon_dir, 'beauty')


@pytest.mark.parametrize('field', ['reviewerID', 'asin', 'overall', 'unixReviewTime'])
def test_missing_required_field(amazon_dir, field):
  record = {'reviewerID': 'U0', 'asin': 'I0', 'overall': 3.0, 'unixReviewTime': 5}
  del record[field]
  _corrupt(amazon_dir, 2, json.dumps(record))
  with pytest.raises(DataFormatError, match=rf"line 2, field '{field}': missing required"):
    read_amazon(amazon_dir, 'beauty')


def test_wrong_type_and_range(amazon_dir):
  _corrupt(
      amazon_dir,
      3,
      json.dumps({'reviewerID': 'U0', 'asin': 'I0', 'overall': 9.0, 'unixReviewTime': 5}),
  )
  with pytest.raises(DataFormatError, match=r"line 3, field 'overall': rating 9.0 outside"):
    read_amazon(amazon_dir, 'beauty')


def test_meta_is_never_evaluated(amazon_dir, raw):
  path = os.path.join(amazon_dir, 'meta_Beauty.json.gz')
  raw.write_lines(path, ["{'asin': 'I0', 'title': 't'}", "__import__('os').system('true')"])
  with pytest.raises(DataFormatError, match=r'meta_Beauty.json.gz, line 2: malformed record'):
    read_amazon(amazon_dir, 'beauty')


def test_empty_reviews_file(tmp_path, raw):
  raw.write_lines(str(tmp_path / 'reviews_Beauty_5.json'), [])
  with pytest.raises(DataFormatError, match=r'reviews_Beauty_5.json: file is empty'):
    read_amazon(str(tmp_path), 'beauty')


def test_explanation_pickle_must_match_reviews(amazon_dir):
  path = os.path.join(amazon_dir, 'reviews_Beauty.pickle')
  with open(path, 'rb') as f:
    records = pickle.load(f)
  records[5]['item'] = 'OTHER'
  with open(path, 'wb') as f:
    pickle.dump(records, f)
  with pytest.raises(DataFormatError, match=r'reviews_Beauty.pickle.*record 5 does not match'):
    read_amazon(amazon_dir, 'beauty')


def test_exact_duplicates_are_dropped_and_counted(tmp_path, raw):
  reviews = raw.all_buy_all([f'U{k}' for k in range(5)], [f'I{k}' for k in range(5)])
  last = max((r for r in reviews if r['reviewerID'] == 'U0'), key=lambda r: r['unixReviewTime'])
  again = dict(last)  # the test item, repeated: it would also become the validation item
  reviews += [again, dict(reviews[0], unixReviewTime=reviews[0]['unixReviewTime'] + 1)]
  out = read_amazon(raw.write_amazon(str(tmp_path), reviews), 'beauty')
  assert out.report['duplicate reviews (same user, item and time) dropped'] == 1
  items = [i for i, _ in out.sequences['U0']]
  assert items[-1] != items[-2] and items.count(last['asin']) == 1
  assert items.count(reviews[0]['asin']) == 2  # a later re-purchase is not a duplicate
