"""Hugging Face's logits processors that P5's decoding settings use, as jittable functions.

Each acts on scores ``[n, F]`` whose columns are the token ids ``tokens [n, F]`` (a trie's
allowed subset) or, with ``tokens=None``, the whole vocabulary in id order; -inf stays -inf.
Lengths count the decoder start token, as Hugging Face's do: at step ``i`` (``i`` tokens
generated so far) the decoder input is ``i + 1`` long.

- ``min_length``: EOS is forbidden while ``i + 1 < min_length`` (``MinLengthLogitsProcessor``).
- ``repetition_penalty`` p: every token already in the decoder input (the start token
  included) gets ``s * p`` if its score ``s < 0`` else ``s / p``
  (``RepetitionPenaltyLogitsProcessor``). Beam searches apply it to log-probs, greedy search
  to raw logits, as Hugging Face does; p < 1 therefore encourages repeats in beam search.
- ``diversity_penalty`` (group beam search, ``HammingDiversityLogitsProcessor``): see
  ``hamming_penalty``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from p5jax.decoding.step import NEG_INF, Process


def _present(prefix: jax.Array, step: jax.Array, bos_id: int, tokens: jax.Array | None, v: int):
  """bool [n, F] (or [n, V]): the column's token is in ``[bos] + prefix[:, :step]``."""
  n, length = prefix.shape
  seen = jnp.where(jnp.arange(length)[None, :] < step, prefix, bos_id)  # [n, L]
  if tokens is None:
    rows = jnp.arange(n)[:, None]
    return jnp.zeros((n, v), bool).at[rows, seen].set(True).at[:, bos_id].set(True)
  hit = jnp.any(tokens[:, :, None] == seen[:, None, :], axis=-1)
  return hit | (tokens == bos_id)


def make_process(
    *,
    step: jax.Array,
    prefix: jax.Array,
    eos_id: int,
    bos_id: int = 0,
    min_length: int = 0,
    repetition_penalty: float = 1.0,
) -> Process | None:
  """The processors in effect for rows whose generated tokens are ``prefix [n, L]`` (the first
  ``step`` columns are valid); None when none applies."""
  if min_length <= 1 and repetition_penalty == 1.0:
    return None

  def process(scores: jax.Array, tokens: jax.Array | None) -> jax.Array:
    if repetition_penalty != 1.0:
      present = _present(prefix, step, bos_id, tokens, scores.shape[1])
      penalised = jnp.where(scores < 0, scores * repetition_penalty, scores / repetition_penalty)
      scores = jnp.where(present, penalised, scores)
    if min_length > 1:
      ids = jnp.arange(scores.shape[1])[None, :] if tokens is None else tokens
      scores = jnp.where((ids == eos_id) & (step + 1 < min_length), NEG_INF, scores)
    return scores

  return process


def hamming_penalty(tokens: jax.Array, chosen: jax.Array, penalty: float) -> jax.Array:
  """``penalty x`` how often each candidate token [B, S, C] was chosen [B, P] by earlier
  groups of its example at this step (Hugging Face's Hamming diversity)."""
  counts = jnp.sum(tokens[..., None] == chosen[:, None, None, :], axis=-1)
  return penalty * counts.astype(jnp.float32)


@dataclasses.dataclass(frozen=True)
class Processors:
  """A decoder's processor settings; `at(step, prefix)` is `make_process` for one step."""

  eos_id: int
  bos_id: int = 0
  min_length: int = 0
  repetition_penalty: float = 1.0

  def at(self, step: jax.Array, prefix: jax.Array) -> Process | None:
    return make_process(step=step, prefix=prefix, **dataclasses.asdict(self))
