import json
import os

import numpy as np
import pytest

import p5jax.vocab as vocab_lib
from p5jax.data.prepared import FORMAT_VERSION
from p5jax.errors import UserError
from p5jax.indexing import load_index
from p5jax.indexing.build import add_scheme
from tests.indexing.fakes import two_communities

PROMPT = (
    'I find the purchase history list of user_12 : \n {} \n I wonder what is the next '
    'item to recommend to the user . Can you help me decide ?'
)


@pytest.fixture()
def prepared(tmp_path, monkeypatch):
  data = two_communities()
  data.reviews = [
      {
          'user': 1,
          'item': 2,
          'rating': 5.0,
          'summary': 'Lovely gloss',
          'text': 'Great shine, lasts all day.\nWould buy again!',
          'explanation': 'great shine',
          'feature': 'shine',
      }
  ]
  data.manifest['format_version'] = FORMAT_VERSION
  data.write_manifest(tmp_path)
  monkeypatch.setattr(vocab_lib, '_load_dataset', lambda path: data)
  add_scheme(str(tmp_path), 'cid+iid', data, cid={'k': 4, 'n': 2})
  return tmp_path, data


def test_build_round_trips_prompts_with_ids_and_newlines(prepared):
  path, _ = prepared
  vocab = vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300, extra_ids=10)
  assert (vocab.pad_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2)
  index = load_index(path / 'indexes' / 'cid+iid.json')
  history = ' , '.join(index.all_id_strings()[:3])
  text = PROMPT.format(history)
  ids = vocab.encode(text)
  assert vocab.unk_id not in ids
  assert vocab.decode(ids) == vocab_lib.normalize_text(text)
  assert '\n' not in vocab.decode(ids)  # newlines are normalised to spaces (documented)
  assert vocab.encode(text) == vocab.encode(text.replace('\n', ' '))
  for token in index.new_tokens():
    assert len([i for i in vocab.encode(token) if vocab.tokenizer.id_to_piece(i) != '▁']) == 1
  assert vocab.decode(vocab.encode('unseen ☃ char')) == 'unseen ☃ char'  # byte fallback


def test_cached_model_is_reused(prepared, monkeypatch):
  path, _ = prepared
  first = vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300)
  settings = json.loads((path / 'vocab' / 'cid+iid.json').read_text())
  assert settings['vocab_size'] == 300
  monkeypatch.setattr(
      vocab_lib, 'train_sentencepiece', lambda *a, **k: pytest.fail('retrained a cached vocabulary')
  )
  again = vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300)
  assert again.vocab_size == first.vocab_size


def test_user_supplied_model_gets_index_tokens_appended(prepared, tmp_path_factory):
  path, data = prepared
  base = tmp_path_factory.mktemp('base') / 'base.model'
  base.write_bytes(vocab_lib.train_sentencepiece([PROMPT] * 50, [], vocab_size=100))
  base_vocab = vocab_lib.load_vocabulary(str(base), extra_ids=0)
  vocab = vocab_lib.build_vocabulary(str(path), 'cid+iid', base_model=str(base), extra_ids=5)
  new = load_index(path / 'indexes' / 'cid+iid.json').new_tokens()
  assert vocab.vocab_size == base_vocab.vocab_size + len(new) + 5
  assert vocab.encode('purchase history') == base_vocab.encode('purchase history')
  ids = [vocab.tokenizer.piece_to_id(t) for t in new]
  assert ids == list(range(base_vocab.vocab_size, base_vocab.vocab_size + len(new)))


def test_word_start_table(prepared):
  path, _ = prepared
  vocab = vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300, extra_ids=4)
  table = vocab_lib.word_start_table(vocab)
  assert table.dtype == np.bool_ and table.shape == (vocab.vocab_size,)
  assert not table[[0, 1, 2]].any()
  sp = vocab.tokenizer
  for i in range(vocab.vocab_size):
    assert table[i] == (sp.id_to_piece(i).startswith('▁') and not sp.is_byte(i) and i > 2)
  assert table[sp.piece_to_id('▁')] and not table[sp.piece_to_id('<item_3>')]


def test_missing_model_file(tmp_path):
  with pytest.raises(FileNotFoundError, match='nope.model'):
    vocab_lib.load_vocabulary(str(tmp_path / 'nope.model'))


def test_base_model_from_a_directory_is_cached_apart(prepared, tmp_path_factory):
  """A Hugging Face T5 directory gives its spiece.model; the extended model lives next to, not
  over, the trained one; the model's rows are the vocabulary padded to 128."""
  path, _ = prepared
  hf = tmp_path_factory.mktemp('t5')
  (hf / 'spiece.model').write_bytes(
      vocab_lib.train_sentencepiece([PROMPT] * 50, [], vocab_size=100)
  )
  trained = vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300)
  based = vocab_lib.build_vocabulary(str(path), 'cid+iid', base_model=str(hf))
  assert based.sentencepiece_model_file != trained.sentencepiece_model_file
  assert os.path.basename(based.sentencepiece_model_file).startswith('cid+iid.base-')
  assert vocab_lib.padded_vocab_size(based) % 128 == 0
  assert 0 <= vocab_lib.padded_vocab_size(based) - based.vocab_size < 128
  with pytest.raises(FileNotFoundError, match='spiece.model'):
    vocab_lib.build_vocabulary(str(path), 'cid+iid', base_model=str(path))


def test_a_scheme_not_built_is_never_built_here(prepared):
  path, _ = prepared
  with pytest.raises(UserError, match=r'--prepared_dir=.* --scheme=sid'):
    vocab_lib.build_vocabulary(str(path), 'sid', vocab_size=300)
  assert not (path / 'indexes' / 'sid.json').exists() and not (path / 'vocab').exists()


def test_a_damaged_cached_model_is_an_error_not_a_silent_rebuild(prepared):
  path, _ = prepared
  vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300)
  model = path / 'vocab' / 'cid+iid.model'
  blob = bytearray(model.read_bytes())
  blob[len(blob) // 2] ^= 0xFF
  model.write_bytes(bytes(blob))
  with pytest.raises(UserError, match=r'cid\+iid\.model: content differs from the sha256'):
    vocab_lib.build_vocabulary(str(path), 'cid+iid', vocab_size=300)
