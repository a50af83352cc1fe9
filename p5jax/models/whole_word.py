"""P5's whole-word ids, computed from the encoder tokens inside the model.

A word starts at every piece that begins with `▁`; continuation pieces share their word's id.
Ids count from 1 within each packed segment; EOS (id 1) and padding (id 0) get 0. Computing
them from tokens keeps them right under packing and at inference time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

PAD_ID = 0
EOS_ID = 1


def whole_word_ids(
    tokens: jnp.ndarray,
    word_start_table: jnp.ndarray,
    segment_ids: jnp.ndarray | None = None,
    *,
    max_words: int = 512,
) -> jnp.ndarray:
  """Word ids `[B, L]` of `tokens [B, L]`.

  Args:
    tokens: int token ids; 0 is padding, 1 is EOS.
    word_start_table: bool `[vocab]`, True where the piece starts a word.
    segment_ids: optional packing segment ids `[B, L]`; the count restarts in each segment.
    max_words: ids are clamped to `max_words - 1` (the size of the embedding table).
  """
  starts = jnp.take(word_start_table, tokens, axis=0).astype(jnp.int32)
  counts = jnp.cumsum(starts, axis=-1)
  if segment_ids is not None:
    new_segment = jnp.concatenate(
        [jnp.ones_like(segment_ids[:, :1], dtype=bool), segment_ids[:, 1:] != segment_ids[:, :-1]],
        axis=-1,
    )
    # counts are non-decreasing, so the count before each segment start, carried forward
    # with a running max, is the offset to subtract.
    offset = jax.lax.cummax(jnp.where(new_segment, counts - starts, 0), axis=1)
    counts = counts - offset
  special = (tokens == PAD_ID) | (tokens == EOS_ID)
  return jnp.where(special, 0, jnp.minimum(counts, max_words - 1))
