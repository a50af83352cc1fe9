"""Indexing, vocabulary and leak check through the real `p5jax.data` prepared directory."""

import json

import pytest

import p5jax.data
import p5jax.vocab
from p5jax.indexing import load_index
from p5jax.indexing.build import add_scheme
from p5jax.indexing.leakcheck import check_prepared


@pytest.fixture(scope='module')
def prepared_dir(tmp_path_factory):
  out = tmp_path_factory.mktemp('demo')
  p5jax.data.prepare(
      'demo',
      None,
      str(out),
      protocol='corrected',
      id_schemes=('sid', 'cid+iid'),
      demo_scale=0.2,
      seed=3,
      num_negatives=10,
  )
  return str(out)


def test_prepare_builds_indexes(prepared_dir):
  dataset = p5jax.data.PreparedDataset.load(prepared_dir)
  index = load_index(f'{prepared_dir}/indexes/cid+iid.json')
  assert index.items() == sorted(dataset.items) and index.seed == 3
  assert all(s.startswith('<c') for s in index.all_id_strings())


def test_add_scheme_and_leak_check(prepared_dir):
  dataset = p5jax.data.PreparedDataset.load(prepared_dir)
  add_scheme(prepared_dir, 'rid', dataset)
  with open(f'{prepared_dir}/manifest.json') as f:
    assert json.load(f)['id_schemes'] == ['sid', 'cid+iid', 'rid']
  result = check_prepared(prepared_dir, 'rid')
  assert set(result) >= {'scheme', 'rule_hr@5', 'popularity_hr@5', 'leak'}
  with pytest.raises(ValueError, match="protocol='original'"):
    add_scheme(prepared_dir, 'original', dataset)


def test_vocabulary_on_prepared_text(prepared_dir):
  vocab = p5jax.vocab.build_vocabulary(prepared_dir, 'cid+iid', vocab_size=400, extra_ids=10)
  dataset = p5jax.data.PreparedDataset.load(prepared_dir)
  index = load_index(f'{prepared_dir}/indexes/cid+iid.json')
  title = next(r['title'] for r in dataset.items.values() if r['title'])
  text = f'user_7 bought {index.all_id_strings()[0]} : \n {title}'
  assert vocab.decode(vocab.encode(text)) == p5jax.vocab.normalize_text(text)
  assert vocab.vocab_size <= (
      400 + len(p5jax.vocab.WORD_DIGITS) + 256 + 3 + len(index.new_tokens()) + 10
  )
