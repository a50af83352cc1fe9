"""Token tries compiled into flat arrays, so constrained decoding is a gather + mask in XLA.

A trie (or a forest of tries, one per example) is stored in CSR form:

* ``child_start[node] .. child_start[node + 1]`` indexes the node's outgoing edges;
* ``child_token[edge]`` is the edge's token; edge ``e`` always leads to node ``e + 1`` (nodes
  are numbered in BFS order), so no target array is stored.

Edges of one node are contiguous and sorted by token. Nodes whose fan-out exceeds
``dense_threshold`` (e.g. the root of a catalog where every item is one token) also get a dense
row ``dense_child[row, token] -> child node or -1`` so masking them needs no scatter of a huge
edge list. Memory is O(edges) plus ``V`` ints per dense row.

``roots`` holds one root per example (candidate tries) or a single shared root (all items,
closed answer sets); beams ``b * K + k`` start at ``roots[b]`` (or ``roots[0]`` when shared).
The build is vectorised numpy: sort the padded sequences once, mark where each prefix first
appears, and number the new prefixes depth by depth (BFS order, so every node's children are
contiguous and parents are non-decreasing along the edge arrays).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

_PAD = -1


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ItemTrie:
  """A compiled trie forest; a pytree of int32 arrays with static shape metadata."""

  child_start: jax.Array  # int32 [N + 1]
  child_token: jax.Array  # int32 [E]
  roots: jax.Array  # int32 [R]; R == 1 (shared) or R == batch size
  dense_row: jax.Array  # int32 [N] (-1: no dense row), or [1] when has_dense is False
  dense_child: jax.Array  # int32 [D, V] child node per token, -1 if invalid (D >= 1)
  max_fanout: int = dataclasses.field(metadata=dict(static=True))  # F over sparse nodes
  vocab_size: int = dataclasses.field(metadata=dict(static=True))
  has_dense: bool = dataclasses.field(metadata=dict(static=True))

  @property
  def num_nodes(self) -> int:
    return int(self.child_start.shape[0]) - 1

  @property
  def num_edges(self) -> int:
    return int(self.child_token.shape[0])

  def nbytes(self) -> int:
    """Bytes held by the trie's arrays."""
    return sum(int(np.asarray(x).nbytes) for x in jax.tree_util.tree_leaves(self))


def _pad_sequences(sequences: Sequence[Sequence[int]], eos_id: int) -> np.ndarray:
  """List of token lists (each ending with ``eos_id``) -> int32 [M, L] padded with -1."""
  lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
  if lengths.size and lengths.min() == 0:
    raise ValueError(f'sequence #{int(np.argmin(lengths))} is empty')
  width = int(lengths.max()) if lengths.size else 1
  flat = np.fromiter((t for s in sequences for t in s), dtype=np.int64, count=int(lengths.sum()))
  out = np.full((len(sequences), width), _PAD, dtype=np.int64)
  rows = np.repeat(np.arange(len(sequences)), lengths)
  cols = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
  out[rows, cols] = flat
  if lengths.size:
    last = out[np.arange(len(sequences)), lengths - 1]
    bad = np.flatnonzero(last != eos_id)
    if bad.size:
      raise ValueError(
          f'sequence #{int(bad[0])} does not end with eos_id={eos_id}: '
          f'{list(sequences[int(bad[0])])}'
      )
    if (flat < 0).any():
      raise ValueError('token ids must be >= 0')
  return out


def _build_csr(seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Padded sequences int [M, L] (-1 pad) -> (child_start [N+1], child_token [E], parent [E]).

  Node 0 is the root; edge ``e`` leads to node ``e + 1``.
  """
  m, width = seqs.shape
  if m == 0:
    return np.zeros(2, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
  order = np.lexsort(seqs.T[::-1])  # lexicographic by column 0, 1, ...
  seqs = seqs[order]
  changed = np.ones_like(seqs, dtype=bool)  # [M, L] prefix [:d+1] differs from the row above
  changed[1:] = np.logical_or.accumulate(seqs[1:] != seqs[:-1], axis=1)
  is_new = changed & (seqs != _PAD)
  flat_new = is_new.T.ravel()  # depth-major = BFS order
  ids = np.cumsum(flat_new).reshape(width, m)  # 1-based ids of new nodes
  node_at = np.maximum.accumulate(np.where(is_new.T, ids, 0), axis=1)  # [L, M]
  node_at = np.where(seqs.T != _PAD, node_at, -1)
  parent_at = np.concatenate([np.zeros((1, m), np.int64), node_at[:-1]], axis=0)
  edge_token = seqs.T[is_new.T]  # BFS order, matches node ids 1..N-1
  edge_parent = parent_at[is_new.T]
  num_nodes = int(ids[-1, -1]) + 1 if flat_new.any() else 1
  child_start = np.searchsorted(edge_parent, np.arange(num_nodes + 1), side='left')
  return child_start, edge_token, edge_parent


def _pad_csr(
    child_start: np.ndarray, child_token: np.ndarray, multiple: int
) -> tuple[np.ndarray, np.ndarray]:
  """Append childless nodes and unused edges so both counts are multiples of ``multiple``."""
  pad_nodes = -(child_start.shape[0] - 1) % multiple
  pad_edges = -child_token.size % multiple
  child_start = np.concatenate([child_start, np.full(pad_nodes, child_start[-1])])
  child_token = np.concatenate([child_token, np.zeros(pad_edges, child_token.dtype)])
  return child_start, child_token


@dataclasses.dataclass(frozen=True)
class TrieLayout:
  """How a trie is laid out in arrays: what trades memory for speed, and what keeps batches
  on one compiled beam search.

  Attributes:
    dense_threshold: nodes with more children than this get a dense ``[V]`` row.
    min_fanout: lower bound on the static sparse width F (fewer recompilations).
    pad_to_multiple: pad node and edge counts to a multiple (fewer recompilations).
  """

  dense_threshold: int = 1024
  min_fanout: int = 1
  pad_to_multiple: int = 1


def _to_trie(
    child_start: np.ndarray,
    child_token: np.ndarray,
    roots: np.ndarray,
    vocab_size: int,
    layout: TrieLayout,
) -> ItemTrie:
  """Attach dense rows for high fan-out nodes, pad, and convert to device arrays."""
  if child_token.size and child_token.max() >= vocab_size:
    raise ValueError(f'token id {int(child_token.max())} >= vocab_size={vocab_size}')
  child_start, child_token = _pad_csr(child_start, child_token, layout.pad_to_multiple)
  num_nodes = child_start.shape[0] - 1
  fanout = np.diff(child_start)
  if not (roots.size == 1 and roots[0] == 0):
    fanout[0] = 0  # node 0 of a forest is a super-root that beams never visit
  dense_nodes = np.flatnonzero(fanout > layout.dense_threshold)
  dense_row = np.full(num_nodes if dense_nodes.size else 1, -1, np.int32)
  dense_row[dense_nodes] = np.arange(dense_nodes.size, dtype=np.int32)
  dense_child = np.full(
      (max(dense_nodes.size, 1), vocab_size if dense_nodes.size else 1), -1, np.int32
  )
  for row, node in enumerate(dense_nodes):  # one vectorised scatter per dense node (few)
    lo, hi = child_start[node], child_start[node + 1]
    dense_child[row, child_token[lo:hi]] = np.arange(lo, hi) + 1
  fanout[dense_nodes] = 0
  return ItemTrie(
      child_start=jnp.asarray(child_start, jnp.int32),
      child_token=jnp.asarray(child_token, jnp.int32),
      roots=jnp.asarray(roots, jnp.int32),
      dense_row=jnp.asarray(dense_row),
      dense_child=jnp.asarray(dense_child),
      max_fanout=max(int(fanout.max()), layout.min_fanout, 1),
      vocab_size=int(vocab_size),
      has_dense=bool(dense_nodes.size),
  )


def compile_trie(
    sequences: Sequence[Sequence[int]],
    *,
    vocab_size: int,
    eos_id: int = 1,
    layout: TrieLayout = TrieLayout(),
) -> ItemTrie:
  """One shared trie over all valid token sequences (all items, or a closed answer set).

  Args:
      sequences: token id lists, each ending with ``eos_id``; duplicates are merged.
      vocab_size: size of the model's output vocabulary (for dense rows and checks).
      eos_id: end-of-sequence id that terminates every sequence.
      layout: dense rows and static widths, see ``TrieLayout``.
  """
  if not len(sequences):
    raise ValueError('compile_trie needs at least one sequence')
  start, token, _ = _build_csr(_pad_sequences(sequences, eos_id))
  return _to_trie(start, token, np.zeros(1, np.int64), vocab_size, layout)


def compile_candidate_tries(
    candidates: Sequence[Sequence[Sequence[int]]],
    *,
    vocab_size: int,
    eos_id: int = 1,
    layout: TrieLayout = TrieLayout(pad_to_multiple=256),
) -> ItemTrie:
  """A forest with one small trie per example, built from each example's candidate list.

  ``candidates[b]`` lists example b's valid token sequences (e.g. its ~100 candidate items);
  an empty list gives a root with no children (all K beams of that example come back -inf).
  Node and edge counts are padded to a multiple of ``layout.pad_to_multiple`` so batches of
  similar size share one compiled beam search. Other arguments as in ``compile_trie``.
  """
  batch = len(candidates)
  if batch == 0:
    raise ValueError('compile_candidate_tries needs at least one example')
  flat = [s for cands in candidates for s in cands]
  example = np.repeat(np.arange(batch), [len(c) for c in candidates])
  body = _pad_sequences(flat, eos_id) if flat else np.full((0, 1), _PAD, np.int64)
  # Prefix each sequence with its example id; a bare [b] row gives every example a root.
  seqs = np.full((body.shape[0] + batch, body.shape[1] + 1), _PAD, np.int64)
  seqs[: body.shape[0], 0] = example
  seqs[: body.shape[0], 1:] = body
  seqs[body.shape[0] :, 0] = np.arange(batch)
  start, token, parent = _build_csr(seqs)
  token = np.where(parent == 0, 0, token)  # super-root edges carry example ids, not tokens
  roots = np.arange(1, batch + 1)  # the depth-1 nodes, in example order
  return _to_trie(start, token, roots, vocab_size, layout)


# --- Constraint protocol (pure functions over the trie; see docs/CONTRACTS.md §2) ------------


def init(trie: ItemTrie, n: int) -> jax.Array:
  """Start nodes int32 [n] for n = B*K beam rows (beam-major) given R = 1 or R = B roots."""
  roots = trie.roots
  per_root = n // roots.shape[0]
  return jnp.repeat(roots, per_root, total_repeat_length=n)


def allowed(trie: ItemTrie, node: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Sparse view of each node's children: tokens int32 [n, F], ok bool [n, F].

  Dense nodes report ok=False everywhere here; use ``allowed_mask`` for them.
  """
  live = node >= 0  # [n]; -1 marks a dead beam
  node = jnp.maximum(node, 0)
  start = trie.child_start[node]  # [n]
  count = trie.child_start[node + 1] - start  # [n]
  slot = jnp.arange(trie.max_fanout, dtype=jnp.int32)  # [F]
  edge = jnp.minimum(start[:, None] + slot, trie.num_edges - 1)  # [n, F]
  if trie.has_dense:
    live = live & (trie.dense_row[node] < 0)
  ok = (slot < count[:, None]) & live[:, None]
  tokens = jnp.where(ok, trie.child_token[edge], 0)
  return tokens, ok


def allowed_mask(trie: ItemTrie, node: jax.Array) -> jax.Array:
  """Dense view: bool [n, V], True where the token continues a valid sequence."""
  tokens, ok = allowed(trie, node)  # [n, F]
  rows = jnp.arange(node.shape[0])[:, None]
  mask = jnp.zeros((node.shape[0], trie.vocab_size), bool).at[rows, tokens].max(ok)
  if trie.has_dense:
    row = jnp.where(node >= 0, trie.dense_row[jnp.maximum(node, 0)], -1)  # [n]
    dense = trie.dense_child[jnp.maximum(row, 0)] >= 0  # [n, V]
    mask = jnp.where((row >= 0)[:, None], dense, mask)
  return mask


def advance(trie: ItemTrie, node: jax.Array, token: jax.Array) -> jax.Array:
  """Child node int32 [n] reached from ``node`` [n] by ``token`` [n]; -1 if not an edge."""
  tokens, ok = allowed(trie, node)  # [n, F]
  start = trie.child_start[jnp.maximum(node, 0)]  # [n]
  hit = ok & (tokens == token[:, None])  # [n, F]
  edge = jnp.minimum(start + jnp.argmax(hit, axis=1), trie.num_edges - 1)  # [n]
  child = jnp.where(hit.any(axis=1), edge + 1, -1)  # edge e leads to node e + 1
  if trie.has_dense:
    row = trie.dense_row[jnp.maximum(node, 0)]  # [n]
    dense = trie.dense_child[jnp.maximum(row, 0), token]
    child = jnp.where(row >= 0, dense, child)
  return jnp.where(node >= 0, child, -1)
