"""The per-task decoding record that inference evaluation reads, and its two hooks.

The trainer knows nothing about any task collection: `evaluate(..., task_decoding_params=fn)`
asks `fn(task)` for a `TaskDecoding` (None: the model's own decoding at the measured lengths),
and `evaluate(..., extra_rows=fn)` may add result rows next to a task's (e.g. a baseline scored
on the same examples). P5's implementations of both live in `p5jax.tasks.eval_decoding`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
import seqio

Batch = Mapping[str, jnp.ndarray]


@dataclasses.dataclass(frozen=True)
class TaskDecoding:
  """How one evaluation task is decoded or scored.

  Attributes:
    num_decodes: decodes per example, best first, handed to the metrics (a list of strings when
      more than one); the beam width and other settings go in `decoder_params`.
    decode_fn: replaces the model's `decode_fn` for this task (None: keep the model's).
    decoder_params: keyword arguments of `decode_fn` (e.g. `p5jax.decoding.beam_search`'s
      `mode`, `num_beams`, `min_length`, ...).
    constraint: one constraint object for every batch (e.g. a trie of every valid answer).
    constraint_fn: `fn(side) -> constraint` built per batch from host-side example features
      (`side`: the batch rows of `side_features`, padding rows zero).
    side_features: example features `constraint_fn` reads (dropped by the feature converter).
    score_fn: `fn(model, params, batch) -> [B]` replacing `model.score_batch` on the score path.
    rows_per_query: examples that make up one query (a user's candidates scored one per row);
      the evaluator's `num_examples` counts queries.
    max_decode_len: tokens decoded, EOS included (None: the longest target of the eval set).
    input_length: inputs cut to this many pieces, EOS included (None: the longest input).
    max_queries: evaluate at most this many queries of the task, in file order (None: all).
  """

  num_decodes: int = 1
  decode_fn: Callable[..., tuple[jnp.ndarray, jnp.ndarray]] | None = None
  decoder_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  constraint: Any = None
  constraint_fn: Callable[[Mapping[str, np.ndarray]], Any] | None = None
  side_features: tuple[str, ...] = ()
  score_fn: Callable[[Any, Any, Batch], jnp.ndarray] | None = None
  rows_per_query: int = 1
  max_decode_len: int | None = None
  input_length: int | None = None
  max_queries: int | None = None

  def __post_init__(self):
    if self.num_decodes < 1 or self.rows_per_query < 1:
      raise ValueError(f'num_decodes and rows_per_query must be >= 1: {self}')
    if self.constraint is not None and self.constraint_fn is not None:
      raise ValueError('give a constraint or a constraint_fn, not both')

  def sequence_length(self, base: Mapping[str, int] | None) -> dict[str, int] | None:
    """seqio's eval `sequence_length`: `base` with this task's input cut and decode length
    (a key left out is measured on the eval set by `seqio.Evaluator`)."""
    lengths = dict(base or {})
    if self.input_length is not None:
      lengths['inputs'] = self.input_length
    if self.max_decode_len is not None:
      lengths['targets'] = self.max_decode_len
    return lengths or None


TaskDecodingParams = Callable[[seqio.Task], TaskDecoding | None]
# `examples(keys) -> {key: [N, ...] array}`: features of the examples the model was evaluated on.
ExamplesFn = Callable[[Sequence[str]], dict[str, np.ndarray]]
# `fn(task, decoding, examples) -> {row name: {metric: value}}`: rows added to the results.
ExtraRows = Callable[[seqio.Task, TaskDecoding, ExamplesFn], Mapping[str, Mapping[str, float]]]


def example_arrays(
    examples: Sequence[Mapping[str, Any]] | Any, keys: Sequence[str]
) -> dict[str, np.ndarray]:
  """Stack per-example features; ragged 1-D features (candidates) are right-padded with 0."""
  rows = list(examples)
  out = {}
  for key in keys:
    values = [np.asarray(r[key]) for r in rows]
    if values and values[0].ndim == 1:
      width = max([v.shape[0] for v in values] + [1])
      out[key] = np.stack([np.pad(v, (0, width - v.shape[0])) for v in values])
    else:
      out[key] = np.asarray(values)
  return out
