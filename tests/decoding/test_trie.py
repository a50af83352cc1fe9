"""Compiled tries agree with a reference Python dict trie; forests keep examples apart."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from p5jax.decoding import compile_candidate_tries, compile_trie
from p5jax.decoding import trie as trie_lib

EOS = 1
VOCAB = 9

seq_strategy = st.lists(st.integers(2, VOCAB - 1), min_size=0, max_size=4).map(
    lambda s: s + [EOS])
catalog_strategy = st.lists(seq_strategy, min_size=1, max_size=25)


def reference_trie(items):
    root = {}
    for s in items:
        node = root
        for t in s:
            node = node.setdefault(t, {})
    return root


def walk(trie, ref, node_id, check):
    """Depth-first over the reference trie, following the compiled one in parallel."""
    node = jnp.array([node_id])
    tokens, ok = trie_lib.allowed(trie, node)
    mask = np.asarray(trie_lib.allowed_mask(trie, node))[0]
    assert set(np.flatnonzero(mask)) == set(ref)
    if not (trie.has_dense and int(trie.dense_row[node_id]) >= 0):
        assert set(np.asarray(tokens)[np.asarray(ok)]) == set(ref)
    for tok, sub in ref.items():
        child = int(trie_lib.advance(trie, node, jnp.array([tok]))[0])
        assert child >= 0
        check.append(child)
        walk(trie, sub, child, check)
    bad = [t for t in range(VOCAB) if t not in ref]
    if bad:
        dead = trie_lib.advance(trie, jnp.full(len(bad), node_id), jnp.array(bad))
        assert (np.asarray(dead) == -1).all()


@settings(max_examples=25, deadline=None)
@given(catalog_strategy, st.sampled_from([1024, 2]))
def test_shared_trie_matches_reference(items, dense_threshold):
    trie = compile_trie(items, vocab_size=VOCAB, eos_id=EOS, dense_threshold=dense_threshold)
    visited = []
    walk(trie, reference_trie(items), 0, visited)
    assert len(visited) == len(set(visited)) == trie.num_edges


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(seq_strategy, min_size=0, max_size=6), min_size=1, max_size=4))
def test_candidate_forest_matches_reference_per_example(cands):
    forest = compile_candidate_tries(cands, vocab_size=VOCAB, eos_id=EOS, pad_to_multiple=16)
    roots = np.asarray(trie_lib.init(forest, 2 * len(cands))).reshape(len(cands), 2)
    assert (roots[:, 0] == roots[:, 1]).all()
    for b, c in enumerate(cands):
        walk(forest, reference_trie(c), int(roots[b, 0]), [])


def test_dead_beams_allow_nothing():
    trie = compile_trie([[2, EOS]], vocab_size=VOCAB, eos_id=EOS, dense_threshold=0)
    node = jnp.array([-1, 0])
    assert not np.asarray(trie_lib.allowed_mask(trie, node))[0].any()
    assert int(trie_lib.advance(trie, node, jnp.array([2, 2]))[0]) == -1


@pytest.mark.parametrize('items,match', [
    ([[2, 3]], 'does not end with eos_id'),
    ([[]], 'is empty'),
    ([[99, EOS]], 'vocab_size'),
    ([], 'at least one'),
])
def test_bad_sequences_raise(items, match):
    with pytest.raises(ValueError, match=match):
        compile_trie(items, vocab_size=VOCAB, eos_id=EOS)


def test_digit_catalog_memory_is_linear_in_edges():
    items = [[int(c) + 3 for c in str(i)] + [EOS] for i in range(1, 20001)]
    trie = compile_trie(items, vocab_size=32128, eos_id=EOS)
    assert trie.max_fanout == 11 and not trie.has_dense
    assert trie.nbytes() < 20 * trie.num_edges + 64
