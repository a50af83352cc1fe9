"""`cid`: collaborative IDs from hierarchical spectral clustering of the co-occurrence graph.

The graph comes from training sequences only (`cooccurrence.py`). A node with more than `k`
items is split into `n` clusters; recursion stops at clusters of at most `k` items. The root is
split whenever it has more than `n` items, so a catalog smaller than `k` (the demo) still gets
one level of collaborative structure. An ID is one token per level naming the cluster taken
there (`<c0>`, `<c1>`, ..., shared by all levels), then a leaf number within the final
cluster: `<c12><c3> 7` (digits style, so `<c12><c3> 1 7` for 17).

Splitting a node: nodes with no edges inside it ("isolated": cold items, or items whose
co-occurrences all fall outside the node) form one extra cluster; the others get a spectral
embedding (top-`n` eigenvectors of the normalised adjacency D^-1/2 A D^-1/2, rows normalised)
clustered with scikit-learn `KMeans`. The eigenvectors come from a dense `eigh` on small nodes,
otherwise from block subspace iteration on the PSD matrix (I + D^-1/2 A D^-1/2) / 2 (same
eigenvectors) with Cholesky-QR and a final Rayleigh-Ritz step (`_top_eigenvectors`): only
sparse x [items, n+10] products and small dense algebra, which keeps a 1M-item catalog to
minutes where ARPACK's restarts took far longer. When k-means yields a single cluster, or a
node has no edges at all, it is split at random into `n` balanced parts, so the recursion
always terminates. Everything is sparse; cost grows with the graph's edges, not items^2.
Clusters at each node are numbered by decreasing size, so a node has at most n+1 children and
the scheme adds at most n+1 tokens.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from p5jax.indexing.cooccurrence import cooccurrence_graph
from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.numbering import format_number
from p5jax.seeds import purpose_rng

_DENSE_EIGEN_MAX = 256  # up to this many nodes a dense eigendecomposition is cheaper
_POWER_ITERATIONS = 7


def cluster_token(j: int) -> str:
  return f'<c{j}>'


def _balanced_random_split(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
  labels = np.empty(m, np.int64)
  labels[rng.permutation(m)] = (np.arange(m) * n) // m
  return labels


def _orthonormalize(y: np.ndarray) -> np.ndarray:
  """Orthonormal basis of the columns of `y` by Cholesky-QR, applied twice for stability."""
  for _ in range(2):
    gram = y.T @ y
    gram[np.diag_indices_from(gram)] += 1e-10 * np.trace(gram) / len(gram)
    y = solve_triangular(np.linalg.cholesky(gram), y.T, lower=True).T
  return y


def _top_eigenvectors(
    matrix: sp.csr_matrix,
    dim: int,
    rng: np.random.Generator,
    iterations: int = _POWER_ITERATIONS,
    oversample: int = 10,
) -> np.ndarray:
  """Approximate top-`dim` eigenvectors of a symmetric PSD sparse matrix (subspace iteration)."""
  y = _orthonormalize(matrix @ rng.standard_normal((matrix.shape[0], dim + oversample)))
  for _ in range(iterations):
    y = _orthonormalize(matrix @ y)
  _, ritz = np.linalg.eigh(y.T @ (matrix @ y))
  return y @ ritz[:, -dim:]


def _spectral_embedding(adj: sp.csr_matrix, dim: int, rng: np.random.Generator) -> np.ndarray:
  """Rows of the top-`dim` eigenvectors of D^-1/2 A D^-1/2 (all degrees > 0), unit-normalised."""
  m = adj.shape[0]
  dinv = 1.0 / np.sqrt(np.asarray(adj.sum(axis=1)).ravel())
  norm_adj = (sp.diags(dinv) @ adj @ sp.diags(dinv)).astype(np.float64)
  dim = min(dim, m - 1)
  if m <= _DENSE_EIGEN_MAX:
    _, vecs = np.linalg.eigh(norm_adj.toarray())
    vecs = vecs[:, -dim:]
  else:
    shifted = ((norm_adj + sp.identity(m, format='csr')) * 0.5).tocsr()
    vecs = _top_eigenvectors(shifted, dim, rng)
  emb = vecs * dinv[:, None]
  emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
  return emb


def split_node(adj: sp.csr_matrix, n: int, rng: np.random.Generator) -> np.ndarray:
  """Cluster labels in [0, n] for the nodes of one subgraph (label n = isolated nodes)."""
  m = adj.shape[0]
  degree = np.asarray(adj.sum(axis=1)).ravel()
  linked = np.flatnonzero(degree > 0)
  if len(linked) <= n:
    return _balanced_random_split(m, n, rng)
  labels = np.full(m, n, np.int64)
  sub = adj[linked][:, linked].tocsr()
  emb = _spectral_embedding(sub, n, rng)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # KMeans warns when fewer distinct points than clusters
    km = KMeans(
        n_clusters=n, n_init=1, max_iter=50, random_state=int(rng.integers(2**31 - 1))
    ).fit(emb)
  labels[linked] = km.labels_
  if len(np.unique(labels)) == 1:
    return _balanced_random_split(m, n, rng)
  return labels


def _by_size(labels: np.ndarray) -> list[np.ndarray]:
  """Member positions of each non-empty label, largest first (ties by label)."""
  order = np.argsort(labels, kind='stable')
  uniq, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
  groups = [order[s : s + c] for s, c in zip(starts, counts)]
  rank = sorted(range(len(uniq)), key=lambda g: (-counts[g], uniq[g]))
  return [groups[g] for g in rank]


def hierarchical_clusters(
    graph: sp.csr_matrix, k: int, n: int, seed: int
) -> tuple[list[tuple[int, ...]], np.ndarray]:
  """For each node of `graph`: its cluster path and its leaf number inside the final cluster."""
  if k < 1 or n < 2:
    raise ValueError(f'cid needs k >= 1 and n >= 2, got k={k}, n={n}')
  rng = purpose_rng(seed, 'index/cid')
  paths: list[tuple[int, ...]] = [()] * graph.shape[0]
  leaf = np.zeros(graph.shape[0], np.int64)
  queue = collections.deque([(np.arange(graph.shape[0]), ())])
  while queue:
    members, path = queue.popleft()
    if len(members) <= (n if not path else k):  # the root is split even when <= k
      leaf[members[rng.permutation(len(members))]] = np.arange(len(members))
      for i in members:
        paths[i] = path
      continue
    labels = split_node(graph[members][:, members].tocsr(), n, rng)
    for child, positions in enumerate(_by_size(labels)):
      queue.append((members[positions], path + (child,)))
  return paths, leaf


def build_cid(
    inputs: IndexInputs, *, seed: int = 0, k: int = 500, n: int = 20, number_style: str = 'digits'
) -> ItemIndex:
  items = sorted(inputs.all_items)
  graph = cooccurrence_graph(inputs.train_sequences, items)
  # BLAS and k-means here only see tall-skinny [items, n+10] arrays; multithreaded OpenBLAS /
  # OpenMP spin on them (several times slower on a shared 2-core machine) and they are
  # memory-bound anyway, so this runs single-threaded.
  with threadpool_limits(limits=1):
    paths, leaf = hierarchical_clusters(graph, k, n, seed)
  prefixes = {i: ''.join(cluster_token(j) for j in p) for i, p in zip(items, paths)}
  leaves = {i: format_number(int(x), number_style) for i, x in zip(items, leaf)}
  depth_tokens = sorted({j for p in paths for j in p})
  return ItemIndex(
      'cid',
      prefixes,
      leaves,
      [cluster_token(j) for j in depth_tokens],
      params={'k': k, 'n': n, 'number_style': number_style},
      seed=seed,
  )
