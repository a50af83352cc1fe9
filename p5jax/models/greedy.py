"""Greedy decoding over a `StepFn` (the default `decode_fn` of `EncoderDecoderModel`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

StepFn = Callable[..., tuple[jnp.ndarray, Any]]


def greedy_decode(
    step_fn: StepFn,
    cache: Any,
    *,
    batch_size: int,
    num_decodes: int = 1,
    max_decode_len: int,
    eos_id: int = 1,
    constraint: Any = None,
    alpha: float | None = None,
    length_penalty: str | None = None,
) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Arg-max decoding in one `lax.while_loop`; stops when every row has produced EOS.

  Same signature and outputs as `p5jax.decoding.beam_search` with K=1: sequences
  `[B, 1, max_decode_len]` (padding after EOS) and summed log-probabilities `[B, 1]`.
  `alpha` / `length_penalty` are accepted for interchangeability; a single hypothesis per
  row makes them irrelevant.
  """
  del alpha, length_penalty
  if num_decodes != 1:
    raise ValueError(
        f'greedy decoding returns one decode per input, got num_decodes='
        f'{num_decodes}; pass decode_fn=p5jax.decoding.beam_search'
    )
  if constraint is not None:
    raise ValueError(
        'greedy decoding does not support constraints; pass ' 'decode_fn=p5jax.decoding.beam_search'
    )

  def cond(state):
    i, _, _, _, _, done = state
    return (i < max_decode_len) & ~jnp.all(done)

  def body(state):
    i, token, cache, seqs, scores, done = state
    logits, cache = step_fn(token, cache)
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    nxt = jnp.argmax(log_probs, axis=-1).astype(jnp.int32)
    step_score = jnp.take_along_axis(log_probs, nxt[:, None], axis=-1)[:, 0]
    nxt = jnp.where(done, 0, nxt)
    scores = scores + jnp.where(done, 0.0, step_score)
    seqs = jax.lax.dynamic_update_slice(seqs, nxt[:, None], (0, i))
    return i + 1, nxt, cache, seqs, scores, done | (nxt == eos_id)

  state = (
      jnp.zeros((), jnp.int32),
      jnp.zeros((batch_size,), jnp.int32),
      cache,
      jnp.zeros((batch_size, max_decode_len), jnp.int32),
      jnp.zeros((batch_size,), jnp.float32),
      jnp.zeros((batch_size,), bool),
  )
  _, _, _, seqs, scores, _ = jax.lax.while_loop(cond, body, state)
  return seqs[:, None], scores[:, None]
