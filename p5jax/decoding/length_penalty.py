"""Length penalties applied to a finished hypothesis' summed log-probability.

``length`` counts generated tokens including EOS (Hugging Face's ``len(hyp)`` with the decoder
start token, and T5X's ``cur_index + 1``: the same number).
"""

from __future__ import annotations

import jax.numpy as jnp

PENALTIES = ('hf', 'gnmt')


def length_penalty(length: jnp.ndarray, alpha: float, kind: str) -> jnp.ndarray:
  """Divisor for the summed log-prob: ``len**alpha`` (hf) or ``((5 + len) / 6)**alpha`` (gnmt)."""
  length = jnp.asarray(length, jnp.float32)
  if kind == 'hf':
    return length**alpha
  if kind == 'gnmt':
    return ((5.0 + length) / 6.0) ** alpha
  raise ValueError(f'length_penalty must be one of {PENALTIES}, got {kind!r}')
