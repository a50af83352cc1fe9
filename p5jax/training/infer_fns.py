"""Batched, sharded model functions over seqio's enumerated datasets (`[(index, output)]`).

The enumerated dataset is padded to a whole number of global batches (pad rows get index -1 and
are dropped), each batch is sharded over 'data', and outputs come back as host numpy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import numpy as np
import tensorflow as tf

from p5jax.training.partitioning import Partitioner
from p5jax.training.task_decoding import TaskDecoding


def _padded_batches(
    ds: tf.data.Dataset, batch_size: int
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
  """(indices, features) numpy batches; the last is padded with index -1 and zero rows."""
  for idx, feats in ds.batch(batch_size).as_numpy_iterator():
    n = len(idx)
    if n < batch_size:
      idx = np.concatenate([idx, -np.ones(batch_size - n, idx.dtype)])
      feats = {
          k: np.concatenate([v, np.zeros((batch_size - n,) + v.shape[1:], v.dtype)])
          for k, v in feats.items()
      }
    yield idx, feats


class ModelFns:
  """Jitted `predict_batch_with_aux` / scoring wrapped as seqio model functions.

  Args:
    model: the T5X-style model wrapper.
    partitioner: the mesh the params live on.
    param_shardings: shardings of the params pytree.
    batch_size: global rows per jitted call (multiple of the 'data' axis).
    decoding: the task's `TaskDecoding` (None: the model's own decoding, one decode).
    side_features: per-example arrays `[N, ...]` aligned with the enumerated dataset's
      indices (the `decoding.side_features` rows the converter drops, e.g. `candidates`);
      padding rows read zeros.
  """

  def __init__(
      self,
      model: Any,
      partitioner: Partitioner,
      param_shardings: Any,
      batch_size: int,
      decoding: TaskDecoding | None = None,
      side_features: Mapping[str, np.ndarray] | None = None,
  ):
    decoding = decoding or TaskDecoding()
    self.batch_size = batch_size
    self.partitioner = partitioner
    self.decoding = decoding
    self._side = dict(side_features or {})
    if decoding.decode_fn is not None:
      model = copy.copy(model)  # this task's decoder; the caller's model is left as it is
      model.decode_fn = decoding.decode_fn
    num_decodes = decoding.num_decodes
    decoder_params = dict(decoding.decoder_params)
    score_fn = decoding.score_fn

    def predict(params, batch, constraint):
      return model.predict_batch_with_aux(
          params,
          batch,
          num_decodes=num_decodes,
          return_all_decodes=num_decodes > 1,
          decoder_params=decoder_params,
          constraint=constraint,
      )

    def score(params, batch):
      if score_fn is None:
        return model.score_batch(params, batch)
      return score_fn(model, params, batch)

    self._predict = partitioner.partition(
        predict, in_shardings=(param_shardings, partitioner.data_sharding, None), out_shardings=None
    )
    self._score = partitioner.partition(
        score, in_shardings=(param_shardings, partitioner.data_sharding), out_shardings=None
    )

  def _side_rows(self, idx: np.ndarray) -> dict[str, np.ndarray]:
    rows = np.maximum(idx, 0)
    return {
        k: np.where((idx >= 0).reshape((-1,) + (1,) * (v.ndim - 1)), v[rows], 0)
        for k, v in self._side.items()
    }

  def _run(self, fn: Callable, ds: tf.data.Dataset):
    for idx, feats in _padded_batches(ds, self.batch_size):
      out = jax.device_get(fn(self.partitioner.shard_batch(feats), idx))
      keep = idx >= 0
      yield idx[keep], jax.tree.map(lambda x, keep=keep: np.asarray(x)[keep], out)

  def _batch_constraint(self, idx: np.ndarray) -> Any:
    if self.decoding.constraint_fn is None:
      return self.decoding.constraint
    return self.decoding.constraint_fn(self._side_rows(idx))

  def _decode_all(self, params: Any, ds: tf.data.Dataset):
    indices, tokens, aux = [], [], {}
    for idx, (toks, batch_aux) in self._run(
        lambda b, i: self._predict(params, b, self._batch_constraint(i)), ds
    ):
      indices.extend(idx.tolist())
      tokens.extend(list(toks))
      for k, v in batch_aux.items():
        aux.setdefault(k, []).extend(list(v))
    return indices, tokens, aux

  def predict(self, params: Any, ds: tf.data.Dataset):
    """Per example `[L]` tokens, or `[K, L]` (best first) when K > 1: seqio gives the
    metric a list of K strings."""
    indices, tokens, _ = self._decode_all(params, ds)
    return list(zip(indices, tokens))

  def predict_with_aux(self, params: Any, ds: tf.data.Dataset):
    """Best decode as the prediction; aux carries `scores` (`[K]` or scalar) and, when
    K > 1, `all_decodes` `[K, L]` (seqio's aux path cannot take 2-D token outputs)."""
    indices, tokens, aux = self._decode_all(params, ds)
    if self.decoding.num_decodes > 1:
      aux['all_decodes'] = tokens
      tokens = [t[0] for t in tokens]
    return list(zip(indices, tokens)), aux

  def score(self, params: Any, ds: tf.data.Dataset):
    out = []
    for idx, scores in self._run(lambda b, i: self._score(params, b), ds):
      out.extend(zip(idx.tolist(), scores.tolist()))
    return out
