"""Property tests: under any catalog and any logits, decodes are valid, distinct items."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from p5jax.decoding import TrieLayout, beam_search, compile_candidate_tries, compile_trie
from tests.decoding.fakes import ToyDecoder

EOS, VOCAB, K, B, MAX_LEN = 1, 7, 5, 2, 5
DECODER = ToyDecoder(vocab_size=VOCAB, seed=11, scale=4.0)

seq_strategy = st.lists(st.integers(2, VOCAB - 1), min_size=0, max_size=MAX_LEN - 1).map(
    lambda s: tuple(s) + (EOS,)
)


@functools.partial(jax.jit, static_argnames=('score_mode',))
def decode(cache, trie, score_mode):
  return beam_search(
      DECODER.step_fn,
      cache,
      batch_size=B,
      num_decodes=K,
      max_decode_len=MAX_LEN,
      eos_id=EOS,
      constraint=trie,
      score_mode=score_mode,
  )


def random_cache(seed):
  h = np.random.default_rng(seed).normal(size=(B * K, 8)) * 3
  return {'h': jnp.asarray(h, jnp.float32), 'index': jnp.zeros((), jnp.int32)}


def check(seqs, scores, valid_sets):
  for b in range(B):
    got = []
    for row, score in zip(np.asarray(seqs[b]), np.asarray(scores[b])):
      if np.isfinite(score):
        got.append(tuple(row[: list(row).index(EOS) + 1]))
      else:
        assert not row.any()
    assert len(got) == len(set(got)) == min(K, len(valid_sets[b]))
    assert set(got) <= valid_sets[b]
    finite = np.asarray(scores[b])[np.isfinite(scores[b])]
    assert (np.diff(finite) <= 1e-6).all()  # best first


@settings(max_examples=25, deadline=None)
@given(
    st.sets(seq_strategy, min_size=1, max_size=12),
    st.integers(0, 2**31),
    st.sampled_from(['allowed', 'full']),
)
def test_shared_catalog_decodes_are_valid_and_distinct(items, seed, score_mode):
  trie = compile_trie(
      sorted(items),
      vocab_size=VOCAB,
      eos_id=EOS,
      layout=TrieLayout(min_fanout=VOCAB, pad_to_multiple=64),
  )
  seqs, scores = decode(random_cache(seed), trie, score_mode)
  check(seqs, scores, [items] * B)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.sets(seq_strategy, min_size=0, max_size=8), min_size=B, max_size=B),
    st.integers(0, 2**31),
)
def test_candidate_decodes_are_listed_candidates(cands, seed):
  forest = compile_candidate_tries(
      [sorted(c) for c in cands],
      vocab_size=VOCAB,
      eos_id=EOS,
      layout=TrieLayout(min_fanout=VOCAB, pad_to_multiple=64),
  )
  seqs, scores = decode(random_cache(seed), forest, 'allowed')
  check(seqs, scores, cands)
