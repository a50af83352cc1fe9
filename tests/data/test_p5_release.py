import json
import pickle

import pytest

from p5jax.data import DataFormatError, PreparedDataset, prepare


def _release(tmp_path, raw):
  """3 users x 8 items in P5's released layout."""
  seqs = {1: [1, 2, 3, 4], 2: [5, 1, 6, 2, 7], 3: [8, 3, 5, 6]}
  raw.write_lines(
      str(tmp_path / 'sequential_data.txt'), [' '.join(map(str, [u] + s)) for u, s in seqs.items()]
  )
  maps = {
      'id2user': {str(u): f'R{u}' for u in seqs},
      'id2item': {str(i): f'A{i}' for i in range(1, 9)},
  }
  maps['user2id'] = {v: k for k, v in maps['id2user'].items()}
  maps['item2id'] = {v: k for k, v in maps['id2item'].items()}
  (tmp_path / 'datamaps.json').write_text(json.dumps(maps))
  reviews = [
      {
          'reviewerID': f'R{u}',
          'asin': f'A{i}',
          'overall': 4.0,
          'summary': 's',
          'reviewText': 't',
          'unixReviewTime': t,
          'explanation': 'e',
          'feature': 'f',
          **({'reviewerName': f'Name{u}.{t}'} if t else {}),
      }
      for u, s in seqs.items()
      for t, i in enumerate(s)
  ]
  splits = {'train': reviews[:9], 'val': reviews[9:11], 'test': reviews[11:]}
  (tmp_path / 'review_splits.pkl').write_bytes(pickle.dumps(splits))
  (tmp_path / 'user_id2name.pkl').write_bytes(pickle.dumps({'1': 'Ann', '2': 'Bob', '3': 'Cy'}))
  raw.write_lines(str(tmp_path / 'negative_samples.txt'), ['1 5 6 7', '2 3 4 8', '3 1 2 4'])
  raw.write_lines(
      str(tmp_path / 'meta.json.gz'),
      [repr({'asin': f'A{i}', 'title': f'T{i}', 'categories': [['Beauty']]}) for i in range(1, 9)],
  )
  return str(tmp_path), seqs, splits


def test_original_keeps_released_ids_splits_and_negatives(tmp_path, raw):
  raw_dir, seqs, splits = _release(tmp_path, raw)
  prepare('beauty', raw_dir, str(tmp_path / 'out'), protocol='original', num_negatives=3)
  ds = PreparedDataset.load(str(tmp_path / 'out'))
  assert ds.sequences == seqs
  assert ds.users[2]['name'] == 'Bob' and ds.items[3]['title'] == 'T3'
  assert ds.negatives[2]['test'] == [3, 4, 8]
  assert {n: len(ds.reviews_in(n)) for n in ('train', 'val', 'test')} == {
      n: len(v) for n, v in splits.items()
  }
  assert ds.reviews_in('train')[0]['explanation'] == 'e'
  first, second = ds.reviews_in('train')[:2]  # user 1's reviews at times 0 and 1
  assert first['user_name'] is None and second['user_name'] == 'Name1.1'


def test_corrected_recomputes_from_released_files(tmp_path, raw):
  raw_dir, seqs, _ = _release(tmp_path, raw)
  prepare('beauty', raw_dir, str(tmp_path / 'out'), num_negatives=3)
  ds = PreparedDataset.load(str(tmp_path / 'out'))
  for r in ds.reviews:
    if r['item'] == ds.test_item(r['user']):
      assert r['split'] == 'test'


def test_bad_review_record_is_named(tmp_path, raw):
  raw_dir, _, splits = _release(tmp_path, raw)
  del splits['val'][1]['overall']
  (tmp_path / 'review_splits.pkl').write_bytes(pickle.dumps(splits))
  with pytest.raises(DataFormatError, match=r"review_splits.pkl, field 'overall': val\[1\]"):
    prepare('beauty', raw_dir, str(tmp_path / 'out'), num_negatives=3)


def test_duplicate_released_reviews_are_dropped_and_counted(tmp_path, raw):
  raw_dir, _, splits = _release(tmp_path, raw)
  splits['train'].append(dict(splits['test'][0]))  # a test review also listed in train
  (tmp_path / 'review_splits.pkl').write_bytes(pickle.dumps(splits))
  manifest = prepare('beauty', raw_dir, str(tmp_path / 'out'), protocol='original', num_negatives=3)
  assert manifest['notes']['duplicate reviews (same user, item and time) dropped'] == 1
  assert manifest['num_reviews'] == sum(len(v) for v in splits.values()) - 1
