"""Beam search vs exhaustive enumeration, constraints, and the cache/EOS plumbing."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.decoding import (
    TrieLayout,
    beam_search,
    compile_candidate_tries,
    compile_trie,
    greedy_search,
)
from p5jax.decoding.step import gather_beams, masked_log_softmax
from tests.decoding.fakes import ToyDecoder, enumerate_unconstrained, score_sequences

EOS = 1


def run_beam(dec, batch, k, max_len, **kw):
  fn = jax.jit(
      functools.partial(
          beam_search,
          dec.step_fn,
          batch_size=batch,
          num_decodes=k,
          max_decode_len=max_len,
          eos_id=EOS,
          **kw,
      )
  )
  seqs, scores = fn(dec.init_cache(batch * k))
  return np.asarray(seqs), np.asarray(scores)


def strip(row):
  row = list(row)
  return tuple(row[: row.index(EOS) + 1]) if EOS in row else tuple(row)


@pytest.mark.parametrize('kind,alpha', [('hf', 1.0), ('hf', 0.0), ('gnmt', 0.6), ('hf', -0.5)])
def test_unconstrained_matches_exhaustive_topk(kind, alpha):
  dec = ToyDecoder(vocab_size=4, seed=1)
  max_len, k = 3, 9  # 9 beams cover every live prefix (3**2), so the search is exhaustive
  seqs, scores = enumerate_unconstrained(dec, max_len, EOS, alpha, kind)
  order = np.argsort(-scores)[:k]
  got_seqs, got_scores = run_beam(dec, 1, k, max_len, alpha=alpha, length_penalty=kind)
  assert [strip(r) for r in got_seqs[0]] == [tuple(seqs[i]) for i in order]
  np.testing.assert_allclose(got_scores[0], scores[order], rtol=1e-5)


def test_batch_rows_are_independent():
  dec = ToyDecoder(vocab_size=5, seed=3)
  one_seqs, one_scores = run_beam(dec, 1, 4, 4)
  seqs, scores = run_beam(dec, 3, 4, 4)
  for b in range(3):
    np.testing.assert_array_equal(seqs[b], one_seqs[0])
    np.testing.assert_allclose(scores[b], one_scores[0], rtol=1e-6)


def _catalog(rng, vocab, n_items, max_body):
  items = set()
  while len(items) < n_items:
    n = int(rng.integers(1, max_body + 1))
    items.add(tuple(int(t) for t in rng.integers(2, vocab, size=n)) + (EOS,))
  return sorted(items)


def _allowed_fn(items):
  def allowed(prefix):
    return {s[len(prefix)] for s in items if s[: len(prefix)] == prefix}

  return allowed


@pytest.mark.parametrize('score_mode', ['allowed', 'full'])
@pytest.mark.parametrize('kind,alpha', [('hf', 1.0), ('gnmt', 0.6)])
def test_constrained_matches_exhaustive_topk(score_mode, kind, alpha):
  rng = np.random.default_rng(0)
  dec = ToyDecoder(vocab_size=6, seed=2)
  items = [list(s) for s in _catalog(rng, 6, 12, 3)]
  trie = compile_trie(items, vocab_size=6, eos_id=EOS)
  k = 12  # >= items, so the search is exhaustive and must return all of them in order
  seqs, scores = score_sequences(
      dec,
      items,
      alpha,
      kind,
      _allowed_fn([tuple(s) for s in items]) if score_mode == 'allowed' else None,
  )
  order = np.argsort(-scores)
  got_seqs, got_scores = run_beam(
      dec, 1, k, 4, alpha=alpha, length_penalty=kind, constraint=trie, score_mode=score_mode
  )
  assert [strip(r) for r in got_seqs[0]] == [tuple(seqs[i]) for i in order]
  np.testing.assert_allclose(got_scores[0], scores[order], rtol=1e-5)


def test_fewer_items_than_beams_are_marked_invalid():
  dec = ToyDecoder(vocab_size=6, seed=4)
  trie = compile_trie([[2, EOS], [3, 4, EOS]], vocab_size=6, eos_id=EOS)
  seqs, scores = run_beam(dec, 2, 5, 4, constraint=trie)
  assert np.isfinite(scores[:, :2]).all() and np.isneginf(scores[:, 2:]).all()
  assert (seqs[:, 2:] == 0).all()
  assert {strip(r) for r in seqs[0, :2]} == {(2, EOS), (3, 4, EOS)}


def test_candidate_tries_restrict_each_example():
  dec = ToyDecoder(vocab_size=8, seed=5)
  cands = [[[2, 3, EOS], [4, EOS]], [[5, 6, 7, EOS], [5, 2, EOS], [6, EOS]], []]
  forest = compile_candidate_tries(cands, vocab_size=8, eos_id=EOS)
  seqs, scores = run_beam(dec, 3, 4, 5, constraint=forest)
  for b, c in enumerate(cands):
    valid = np.isfinite(scores[b])
    assert valid.sum() == len(c)
    assert {strip(r) for r in seqs[b][valid]} == {tuple(s) for s in c}


def test_dense_root_path_matches_sparse_path():
  dec = ToyDecoder(vocab_size=12, seed=6)
  items = [[t, EOS] for t in range(2, 12)] + [[3, 5, EOS], [4, 4, EOS]]
  sparse = compile_trie(items, vocab_size=12, eos_id=EOS)
  dense = compile_trie(items, vocab_size=12, eos_id=EOS, layout=TrieLayout(dense_threshold=4))
  assert dense.has_dense and not sparse.has_dense
  for mode in ('allowed', 'full'):
    a = run_beam(dec, 2, 6, 4, constraint=sparse, score_mode=mode)
    b = run_beam(dec, 2, 6, 4, constraint=dense, score_mode=mode)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5)


def test_greedy_matches_stepwise_argmax():
  dec = ToyDecoder(vocab_size=5, seed=7)
  seqs, scores = jax.jit(
      functools.partial(greedy_search, dec.step_fn, batch_size=2, max_decode_len=6, eos_id=EOS)
  )(dec.init_cache(2))
  prefix, total = [], 0.0
  for _ in range(6):
    lp = dec.full_log_probs(np.array([prefix + [0]]))[0, len(prefix)]
    tok = int(np.argmax(lp))
    prefix.append(tok)
    total += lp[tok]
    if tok == EOS:
      break
  assert seqs.shape == (2, 1, 6) and scores.shape == (2, 1)
  assert list(np.asarray(seqs[1, 0, : len(prefix)])) == prefix
  np.testing.assert_allclose(np.asarray(scores[:, 0]), [total, total], rtol=1e-5)


def test_greedy_under_constraint_returns_an_item():
  dec = ToyDecoder(vocab_size=6, seed=8)
  items = [[2, 3, EOS], [4, EOS], [5, 5, 5, EOS]]
  trie = compile_trie(items, vocab_size=6, eos_id=EOS)
  seqs, scores = greedy_search(
      dec.step_fn, dec.init_cache(3), batch_size=3, max_decode_len=4, eos_id=EOS, constraint=trie
  )
  assert all(list(strip(r)) in items for r in np.asarray(seqs)[:, 0])
  assert np.isfinite(np.asarray(scores)).all()


def test_helpers():
  ok = jnp.array([[True, False, True], [False, False, False]])
  lp = masked_log_softmax(jnp.array([[1.0, 5.0, 1.0], [1.0, 2.0, 3.0]]), ok)
  np.testing.assert_allclose(np.asarray(lp[0]), [np.log(0.5), -np.inf, np.log(0.5)], rtol=1e-6)
  assert np.isneginf(np.asarray(lp[1])).all()
  cache = {'k': jnp.arange(6).reshape(3, 2), 'index': jnp.array(4)}
  out = gather_beams(cache, jnp.array([2, 2, 0]))
  np.testing.assert_array_equal(out['k'], [[4, 5], [4, 5], [0, 1]])
  assert int(out['index']) == 4


def test_bad_arguments_raise():
  dec = ToyDecoder(vocab_size=4)
  with pytest.raises(ValueError, match='score_mode'):
    beam_search(
        dec.step_fn,
        dec.init_cache(2),
        batch_size=1,
        num_decodes=2,
        max_decode_len=3,
        eos_id=EOS,
        score_mode='bogus',
    )
  with pytest.raises(ValueError, match='num_decodes'):
    greedy_search(
        dec.step_fn, dec.init_cache(2), batch_size=1, num_decodes=2, max_decode_len=3, eos_id=EOS
    )
  with pytest.raises(ValueError, match='length_penalty'):
    beam_search(
        dec.step_fn,
        dec.init_cache(2),
        batch_size=1,
        num_decodes=2,
        max_decode_len=3,
        eos_id=EOS,
        length_penalty='bogus',
    )
