"""Compiled tries agree with a reference Python dict trie; forests keep examples apart."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p5jax.decoding import TrieLayout, compile_candidate_tries, compile_trie
from p5jax.decoding import trie as trie_lib

EOS = 1
VOCAB = 9
PAD = 128  # fixed padded sizes, so hypothesis examples share one compilation

seq_strategy = st.lists(st.integers(2, VOCAB - 1), min_size=0, max_size=4).map(lambda s: s + [EOS])
catalog_strategy = st.lists(seq_strategy, min_size=1, max_size=20)


def reference_trie(items):
  root = {}
  for s in items:
    node = root
    for t in s:
      node = node.setdefault(t, {})
  return root


@jax.jit
def _tables(trie):
  nodes = jnp.arange(trie.num_nodes)
  mask = trie_lib.allowed_mask(trie, nodes)  # [N, V]
  tokens, ok = trie_lib.allowed(trie, nodes)  # [N, F]
  child = trie_lib.advance(
      trie, jnp.repeat(nodes, VOCAB), jnp.tile(jnp.arange(VOCAB), trie.num_nodes)
  )
  return mask, tokens, ok, child.reshape(-1, VOCAB)


def tables(trie):
  """Masks, sparse children and transitions of every node, in one compiled call."""
  mask, tokens, ok, child = (np.asarray(x) for x in _tables(trie))
  return mask, [set(t[o]) for t, o in zip(tokens, ok)], child


def walk(trie, tabs, ref, node_id, visited):
  """Depth-first over the reference trie, following the compiled one in parallel."""
  mask, sparse, child = tabs
  assert set(np.flatnonzero(mask[node_id])) == set(ref)
  if not trie.has_dense or int(trie.dense_row[node_id]) < 0:
    assert sparse[node_id] == set(ref)
  assert all(child[node_id, t] == -1 for t in range(VOCAB) if t not in ref)
  for tok, sub in ref.items():
    assert child[node_id, tok] >= 0
    visited.append(int(child[node_id, tok]))
    walk(trie, tabs, sub, int(child[node_id, tok]), visited)


@settings(max_examples=25, deadline=None)
@given(catalog_strategy)
def test_shared_trie_matches_reference(items):
  trie = compile_trie(
      items, vocab_size=VOCAB, eos_id=EOS, layout=TrieLayout(min_fanout=VOCAB, pad_to_multiple=PAD)
  )
  visited = []
  walk(trie, tables(trie), reference_trie(items), 0, visited)
  assert (
      len(visited)
      == len(set(visited))
      == len({tuple(s[: i + 1]) for s in items for i in range(len(s))})
  )


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(seq_strategy, min_size=0, max_size=6), min_size=3, max_size=3))
def test_candidate_forest_matches_reference_per_example(cands):
  forest = compile_candidate_tries(
      cands, vocab_size=VOCAB, eos_id=EOS, layout=TrieLayout(min_fanout=VOCAB, pad_to_multiple=PAD)
  )
  roots = np.asarray(trie_lib.init(forest, 2 * len(cands))).reshape(len(cands), 2)
  assert (roots[:, 0] == roots[:, 1]).all()
  tabs = tables(forest)
  for b, c in enumerate(cands):
    walk(forest, tabs, reference_trie(c), int(roots[b, 0]), [])


def test_dense_rows_match_reference():
  rng = np.random.default_rng(0)
  items = [[t, EOS] for t in range(2, VOCAB)] + [
      list(rng.integers(2, VOCAB, size=3)) + [EOS] for _ in range(15)
  ]
  trie = compile_trie(items, vocab_size=VOCAB, eos_id=EOS, layout=TrieLayout(dense_threshold=3))
  assert trie.has_dense and int(trie.dense_row[0]) == 0
  walk(trie, tables(trie), reference_trie(items), 0, [])


def test_dead_beams_allow_nothing():
  trie = compile_trie(
      [[2, EOS]], vocab_size=VOCAB, eos_id=EOS, layout=TrieLayout(dense_threshold=0)
  )
  node = jnp.array([-1, 0])
  assert not np.asarray(trie_lib.allowed_mask(trie, node))[0].any()
  assert int(trie_lib.advance(trie, node, jnp.array([2, 2]))[0]) == -1


@pytest.mark.parametrize(
    'items,match',
    [
        ([[2, 3]], 'does not end with eos_id'),
        ([[]], 'is empty'),
        ([[99, EOS]], 'vocab_size'),
        ([], 'at least one'),
    ],
)
def test_bad_sequences_raise(items, match):
  with pytest.raises(ValueError, match=match):
    compile_trie(items, vocab_size=VOCAB, eos_id=EOS)


def test_digit_catalog_memory_is_linear_in_edges():
  items = [[int(c) + 3 for c in str(i)] + [EOS] for i in range(1, 20001)]
  trie = compile_trie(items, vocab_size=32128, eos_id=EOS)
  assert trie.max_fanout == 11 and not trie.has_dense
  assert trie.num_edges == len({tuple(s[: i + 1]) for s in items for i in range(len(s))})
  assert trie.nbytes() < 9 * trie.num_edges + 64  # child_start + child_token: ~8 B/edge
