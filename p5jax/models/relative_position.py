"""T5 relative position buckets and the per-stack attention bias built from them."""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp

from p5jax.models.config import T5Config


def relative_position_bucket(
    relative_position: jnp.ndarray, *, bidirectional: bool, num_buckets: int, max_distance: int
) -> jnp.ndarray:
  """Map `key_pos - query_pos` to a bucket id in `[0, num_buckets)`.

  Half of the buckets (per direction when `bidirectional`) hold exact small offsets, the rest
  grow logarithmically up to `max_distance`; beyond it everything shares the last bucket. The
  causal decoder only sees keys at or before the query, so it uses all buckets for the past.
  """
  bucket = jnp.zeros_like(relative_position)
  n = -relative_position
  if bidirectional:
    num_buckets //= 2
    bucket = bucket + (n < 0).astype(jnp.int32) * num_buckets
    n = jnp.abs(n)
  else:
    n = jnp.maximum(n, 0)
  max_exact = num_buckets // 2
  is_small = n < max_exact
  # log-spaced buckets for larger offsets; the max() keeps log() finite where is_small holds.
  scaled = (
      jnp.log(jnp.maximum(n, 1).astype(jnp.float32) / max_exact)
      / math.log(max_distance / max_exact)
      * (num_buckets - max_exact)
  )
  large = max_exact + scaled.astype(jnp.int32)
  large = jnp.minimum(large, num_buckets - 1)
  return bucket + jnp.where(is_small, n, large)


class RelativePositionBias(nn.Module):
  """Learned `[buckets, heads]` table turned into an additive attention bias.

  Built once per stack and shared by all its layers (as T5 and Hugging Face do).
  """

  config: T5Config
  bidirectional: bool

  def setup(self):
    cfg = self.config
    self.rel_embedding = self.param(
        'rel_embedding',
        nn.with_logical_partitioning(
            nn.initializers.variance_scaling(1.0, 'fan_avg', 'uniform'), ('relpos_buckets', 'heads')
        ),
        (cfg.relative_attention_num_buckets, cfg.num_heads),
        jnp.float32,
    )

  def __call__(self, query_positions: jnp.ndarray, key_positions: jnp.ndarray) -> jnp.ndarray:
    """Bias `[1, heads, q, k]` for 1-D position vectors `query_positions`, `key_positions`."""
    cfg = self.config
    buckets = relative_position_bucket(
        key_positions[None, :] - query_positions[:, None],
        bidirectional=self.bidirectional,
        num_buckets=cfg.relative_attention_num_buckets,
        max_distance=cfg.relative_attention_max_distance,
    )
    bias = jnp.take(self.rel_embedding, buckets, axis=0)  # [q, k, heads]
    return jnp.transpose(bias, (2, 0, 1))[None].astype(jnp.dtype(cfg.dtype))
