import numpy as np

from p5jax.indexing import build_index
from p5jax.indexing.collaborative import hierarchical_clusters
from p5jax.indexing.cooccurrence import cooccurrence_graph
from tests.indexing.fakes import two_communities


def test_cooccurrence_graph_counts_users():
  graph = cooccurrence_graph({1: [1, 2, 2], 2: [2, 1, 3], 3: [4]}, [1, 2, 3, 4])
  dense = graph.toarray()
  assert dense[0, 1] == dense[1, 0] == 2
  assert dense[1, 2] == 1 and dense[0, 2] == 1
  assert np.all(np.diag(dense) == 0) and dense[3].sum() == 0


def test_cid_puts_co_occurring_items_under_a_shared_prefix():
  data = two_communities(per_side=10, cold=3)
  index = build_index('cid', data, seed=0, k=10, n=2)
  first = {index.item_to_tokens(i).split()[0] for i in range(1, 11)}
  second = {index.item_to_tokens(i).split()[0] for i in range(11, 21)}
  assert len(first) == 1 and len(second) == 1 and first != second
  cold = {index.item_to_tokens(i).split()[0] for i in (21, 22, 23)}
  assert not cold & (first | second)  # isolated items get their own branch


def test_large_clusters_are_split_again_until_at_most_k():
  data = two_communities(per_side=10, cold=0)
  index = build_index('cid', data, seed=0, k=3, n=2)
  prefixes = [index.prefix(i) for i in index.items()]
  sizes = np.unique(prefixes, return_counts=True)[1]
  assert sizes.max() <= 3
  assert max(p.count('<c') for p in prefixes) >= 3
  assert set(index.new_tokens()) <= {'<c0>', '<c1>', '<c2>'}


def test_graph_without_edges_still_splits():
  graph = cooccurrence_graph({}, list(range(1, 51)))
  paths, leaf = hierarchical_clusters(graph, k=5, n=3, seed=0)
  keys = list(zip(paths, leaf.tolist()))
  assert len(set(keys)) == 50
