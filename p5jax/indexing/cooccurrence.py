"""The item co-occurrence graph of training sequences, as a sparse matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp


def cooccurrence_graph(
    train_sequences: Mapping[int, Sequence[int]], all_items: Sequence[int]
) -> sp.csr_matrix:
  """Symmetric `[I, I]` CSR matrix: entry (a, b) = number of users whose training sequence holds
  both items (rows/cols follow sorted `all_items`); zero diagonal. Built as `B^T B` from the
  binary user x item incidence matrix, so its cost is the number of co-occurring pairs, never
  I x I."""
  catalog = np.asarray(sorted(all_items), dtype=np.int64)
  lengths = np.fromiter(
      (len(s) for s in train_sequences.values()), np.int64, count=len(train_sequences)
  )
  flat = np.fromiter(
      (i for s in train_sequences.values() for i in s), np.int64, count=int(lengths.sum())
  )
  cols = np.searchsorted(catalog, flat)
  bad = (cols >= len(catalog)) | (catalog[np.minimum(cols, len(catalog) - 1)] != flat)
  if bad.any():
    raise ValueError(
        f'train sequences name items not in the catalog: ' f'{np.unique(flat[bad])[:10].tolist()}'
    )
  rows = np.repeat(np.arange(len(lengths)), lengths)
  incidence = sp.csr_matrix(
      (np.ones(len(flat), np.float32), (rows, cols)), shape=(len(lengths), len(catalog))
  )
  incidence.sum_duplicates()
  incidence.data[:] = 1.0
  graph = (incidence.T @ incidence).tocsr()
  graph.setdiag(0)
  graph.eliminate_zeros()
  return graph
