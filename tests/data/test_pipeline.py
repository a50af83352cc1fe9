import filecmp
import json
import os

import pytest

from p5jax.data import FORMAT_VERSION, DataFormatError, PreparedDataset, prepare


def _prepare(raw_dir, out, dataset='beauty', **kw):
  kw.setdefault('num_negatives', 5)
  manifest = prepare(dataset, raw_dir, str(out), **kw)
  return manifest, PreparedDataset.load(str(out))


def test_amazon_prepared_contents(amazon_dir, tmp_path):
  manifest, ds = _prepare(amazon_dir, tmp_path / 'out', protocol='original', seed=1)
  assert manifest['format_version'] == FORMAT_VERSION and manifest['protocol'] == 'original'
  counts = (manifest['num_users'], manifest['num_items'], manifest['num_interactions'])
  assert counts == (10, 12, 70)
  assert manifest['has_reviews'] and manifest['has_explanations'] and manifest['has_metadata']
  assert sorted(ds.users) == list(range(1, 11)) and sorted(ds.items) == list(range(1, 13))
  assert ds.items[1]['title'].startswith('title ') and ds.items[1]['categories']
  assert len(ds.reviews) == 70 and sum(manifest['review_splits'].values()) == 70
  train = ds.reviews_in('train')
  assert {r['user'] for r in train} == set(ds.users)
  assert {r['item'] for r in train} == set(ds.items)
  for user, seq in ds.sequences.items():
    assert ds.times[user] == sorted(ds.times[user])
    assert ds.train_sequence(user) + [ds.val_item(user), ds.test_item(user)] == seq
    for name in ('val', 'test'):
      assert len(ds.negatives[user][name]) == 5
      assert not set(ds.negatives[user][name]) & set(seq)


def test_corrected_keeps_sequential_eval_out_of_review_train(amazon_dir, tmp_path):
  manifest, ds = _prepare(amazon_dir, tmp_path / 'out')
  assert manifest['protocol'] == 'corrected'
  for r in ds.reviews:
    if r['item'] == ds.test_item(r['user']):
      assert r['split'] == 'test'
    elif r['item'] == ds.val_item(r['user']):
      assert r['split'] == 'val'
  train = ds.reviews_in('train')
  assert {r['user'] for r in train} == set(ds.users)
  train_items = {i for u in ds.sequences for i in ds.train_sequence(u)}
  assert train_items <= {r['item'] for r in train}


def test_original_sequence_ids_follow_first_appearance(amazon_dir, tmp_path):
  _, ds = _prepare(amazon_dir, tmp_path / 'out', protocol='original')
  first_seen = []
  for user in sorted(ds.sequences):
    for item in ds.sequences[user]:
      if item not in first_seen:
        first_seen.append(item)
  assert first_seen == sorted(first_seen)


def test_byte_identical_across_runs(amazon_dir, tmp_path):
  _prepare(amazon_dir, tmp_path / 'a', seed=9)
  _prepare(amazon_dir, tmp_path / 'b', seed=9)
  names = sorted(os.listdir(tmp_path / 'a'))
  assert 'reviews.jsonl' in names and names == sorted(os.listdir(tmp_path / 'b'))
  match, mismatch, errors = filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b', names, shallow=False)
  assert mismatch == [] and errors == []
  _prepare(amazon_dir, tmp_path / 'c', seed=10)
  assert not filecmp.cmp(
      tmp_path / 'a' / 'negatives.jsonl', tmp_path / 'c' / 'negatives.jsonl', shallow=False
  )


def test_sequences_original_keeps_numbers_corrected_permutes(sequences_dir, tmp_path):
  lines = open(os.path.join(sequences_dir, 'sequential_data.txt')).read().split('\n')
  expected = {int(line.split()[0]): [int(x) for x in line.split()[1:]] for line in lines if line}
  manifest, ds = _prepare(sequences_dir, tmp_path / 'o', 'sequences', protocol='original')
  assert ds.sequences == expected and not manifest['has_reviews'] and ds.reviews == []
  assert manifest['num_interactions'] == sum(map(len, expected.values()))
  _, corrected = _prepare(sequences_dir, tmp_path / 'c', 'sequences')
  assert corrected.sequences != expected
  assert sorted(map(len, corrected.sequences.values())) == sorted(map(len, expected.values()))
  raw_of = {i: int(r['raw_id']) for i, r in corrected.items.items()}
  assert {u: [raw_of[i] for i in s] for u, s in corrected.sequences.items()} == expected


def test_demo_without_raw_dir(tmp_path):
  manifest, ds = _prepare(None, tmp_path / 'demo', 'demo', num_negatives=99)
  assert manifest['num_users'] >= 100 and manifest['num_items'] > 100
  assert manifest['has_explanations'] and all(len(n['test']) == 99 for n in ds.negatives.values())


def test_missing_raw_dir_and_bad_protocol(tmp_path):
  with pytest.raises(DataFormatError, match='raw_dir is not a directory'):
    prepare('beauty', str(tmp_path / 'nope'), str(tmp_path / 'out'))
  with pytest.raises(ValueError, match='protocol must be one of'):
    prepare('demo', None, str(tmp_path / 'out'), protocol='p5')


def test_load_rejects_other_format_version(amazon_dir, tmp_path):
  _prepare(amazon_dir, tmp_path / 'out')
  path = tmp_path / 'out' / 'manifest.json'
  manifest = json.loads(path.read_text())
  manifest['format_version'] = 99
  path.write_text(json.dumps(manifest))
  with pytest.raises(DataFormatError, match='format_version 99 is not supported'):
    PreparedDataset.load(str(tmp_path / 'out'))
