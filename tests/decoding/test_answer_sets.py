"""Closed answer sets: greedy decoding under them can only return a listed answer."""

import numpy as np
import pytest

from p5jax.decoding import greedy_search
from p5jax.decoding.answer_sets import compile_answer_set
from tests.decoding.fakes import ToyDecoder

EOS = 1
CHARS = '0123456789.'
DECIMAL_RATINGS = tuple(f'{i / 10:.1f}' for i in range(10, 51))  # '1.0' .. '5.0'


def encode(text):
  """A character-level toy vocabulary: '0'..'9' and '.' are tokens 2..12."""
  return [2 + CHARS.index(c) for c in text]


def decode(tokens):
  return ''.join(CHARS[t - 2] for t in tokens if t != EOS and t >= 2)


def test_decimal_ratings_decode_to_listed_answers():
  trie = compile_answer_set(DECIMAL_RATINGS, encode, vocab_size=13, eos_id=EOS)
  dec = ToyDecoder(vocab_size=13, seed=9, scale=3.0)
  cache = dec.init_cache(4)
  cache['h'] = cache['h'] + np.random.default_rng(0).normal(size=cache['h'].shape)
  seqs, scores = greedy_search(
      dec.step_fn, cache, batch_size=4, max_decode_len=4, eos_id=EOS, constraint=trie
  )
  assert np.isfinite(np.asarray(scores)).all()
  assert all(decode(row) in DECIMAL_RATINGS for row in np.asarray(seqs)[:, 0])


def test_empty_answer_raises():
  with pytest.raises(ValueError, match='no tokens'):
    compile_answer_set(['', '1'], encode, vocab_size=13)
