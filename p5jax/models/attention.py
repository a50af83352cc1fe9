"""T5 multi-head attention: self-attention (with a KV cache for decoding) and cross-attention
whose keys/values can be computed once per user and shared by all its beams.

T5 does not scale the scores by `head_dim**-0.5`; that factor is folded into the query
initialisation instead. Layouts are `[batch, length, heads, head_dim]` throughout, so the
projections are single einsums without transposes.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from p5jax.models.config import T5Config
from p5jax.models.dropout import Dropout
from p5jax.models.layers import kernel_init

NEG_INF = -1e10


class Projection(nn.Module):
  """A linear map between `embed` and `(heads, kv)` in either direction, computed as one 2-D
  matmul over the flattened positions (cheaper weight gradients on XLA:CPU than an einsum)."""

  config: T5Config
  to_heads: bool
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    cfg = self.config
    dtype = jnp.dtype(cfg.dtype)
    if self.to_heads:
      kernel = self.param(
          'kernel',
          nn.with_logical_partitioning(
              kernel_init(self.init_scale, 'normal'), ('embed', 'heads', 'kv')
          ),
          (cfg.emb_dim, cfg.num_heads, cfg.head_dim),
          jnp.float32,
      )
      flat = x.reshape(-1, cfg.emb_dim) @ kernel.astype(dtype).reshape(cfg.emb_dim, -1)
      return flat.reshape(*x.shape[:-1], cfg.num_heads, cfg.head_dim)
    kernel = self.param(
        'kernel',
        nn.with_logical_partitioning(
            nn.initializers.variance_scaling(
                self.init_scale, 'fan_in', 'normal', in_axis=(0, 1), out_axis=2
            ),
            ('heads', 'kv', 'embed'),
        ),
        (cfg.num_heads, cfg.head_dim, cfg.emb_dim),
        jnp.float32,
    )
    flat = x.reshape(-1, cfg.attention_dim) @ kernel.astype(dtype).reshape(cfg.attention_dim, -1)
    return flat.reshape(*x.shape[:-2], cfg.emb_dim)


def _query_projection(config: T5Config) -> Projection:
  return Projection(config, to_heads=True, init_scale=1.0 / config.head_dim, name='query')


def grouped_attention(
    query: jnp.ndarray,
    key: jnp.ndarray,
    value: jnp.ndarray,
    bias: jnp.ndarray | None,
    dropout: Dropout,
    deterministic: bool,
) -> jnp.ndarray:
  """Attention of `query [B, G, Q, H, D]` over `key/value [B, K, H, D]` shared by the G groups.

  `bias` broadcasts to `[B, G, H, Q, K]`. G is 1 for ordinary attention and the number of
  beams when one user's encoder keys/values serve all of its beams.
  """
  if query.shape[1] == 1:
    # No groups (training, scoring): plain 4-D einsums, which XLA lays out with fewer
    # transposes than the 5-D form; the dropout mask is the same (same row-major indices).
    scores = jnp.einsum('bqhd,bkhd->bhqk', query[:, 0], key).astype(jnp.float32)
    if bias is not None:
      scores = scores + bias[:, 0]
    weights = jax.nn.softmax(scores, axis=-1).astype(query.dtype)
    weights = dropout(weights, deterministic=deterministic)
    return jnp.einsum('bhqk,bkhd->bqhd', weights, value)[:, None]
  scores = jnp.einsum('bgqhd,bkhd->bghqk', query, key).astype(jnp.float32)
  if bias is not None:
    scores = scores + bias
  weights = jax.nn.softmax(scores, axis=-1).astype(query.dtype)
  weights = dropout(weights, deterministic=deterministic)
  return jnp.einsum('bghqk,bkhd->bgqhd', weights, value)


class SelfAttention(nn.Module):
  """Self-attention; with `decode=True` it appends this step's key/value to a cache of
  `[batch, max_len, heads, head_dim]` at `decode_position` and attends over the cache."""

  config: T5Config

  @nn.compact
  def __call__(
      self,
      x: jnp.ndarray,
      bias: jnp.ndarray | None,
      deterministic: bool,
      decode: bool = False,
      decode_position: jnp.ndarray | None = None,
      max_decode_len: int | None = None,
  ) -> jnp.ndarray:
    cfg = self.config
    query = _query_projection(cfg)(x)
    key = Projection(cfg, to_heads=True, name='key')(x)
    value = Projection(cfg, to_heads=True, name='value')(x)
    query = nn.with_logical_constraint(query, ('batch', 'length', 'heads', 'kv'))
    if decode:
      return Projection(cfg, to_heads=False, name='out')(
          self._cached(query, key, value, bias, decode_position, max_decode_len)
      )
    key = nn.with_logical_constraint(key, ('batch', 'length', 'heads', 'kv'))
    value = nn.with_logical_constraint(value, ('batch', 'length', 'heads', 'kv'))
    dropout = Dropout(cfg.dropout_rate)
    out = grouped_attention(
        query[:, None], key, value, None if bias is None else bias[:, None], dropout, deterministic
    )[:, 0]
    return Projection(cfg, to_heads=False, name='out')(out)

  def _cached(self, query, key, value, bias, position, max_decode_len):
    """One decode step (query, key, value `[n, 1, H, D]`) against the cache, kept in the
    layouts the two attention products read without a transpose: keys `[n, H, D, L]`, values
    `[n, H, L, D]`. `bias` broadcasts to `[n, H, 1, L]`."""
    cfg = self.config
    rows = query.shape[0]
    shape_k = (rows, cfg.num_heads, cfg.head_dim, max_decode_len)
    shape_v = (rows, cfg.num_heads, max_decode_len, cfg.head_dim)
    cached_key = self.variable('cache', 'cached_key', jnp.zeros, shape_k, key.dtype)
    cached_value = self.variable('cache', 'cached_value', jnp.zeros, shape_v, value.dtype)
    new_k = jnp.transpose(key, (0, 2, 3, 1))  # [n, H, D, 1]
    new_v = jnp.transpose(value, (0, 2, 1, 3))  # [n, H, 1, D]
    cached_key.value = jax.lax.dynamic_update_slice(cached_key.value, new_k, (0, 0, 0, position))
    cached_value.value = jax.lax.dynamic_update_slice(
        cached_value.value, new_v, (0, 0, position, 0)
    )
    q = query[:, 0]  # [n, H, D]
    scores = jnp.einsum('nhd,nhdk->nhk', q, cached_key.value).astype(jnp.float32)
    if bias is not None:
      scores = scores + bias[:, :, 0]
    weights = jax.nn.softmax(scores, axis=-1).astype(q.dtype)
    return jnp.einsum('nhk,nhkd->nhd', weights, cached_value.value)[:, None]


class CrossAttention(nn.Module):
  """Encoder-decoder attention, split so the keys/values can be projected once per user."""

  config: T5Config

  def setup(self):
    cfg = self.config
    self.query = _query_projection(cfg)
    self.key = Projection(cfg, to_heads=True)
    self.value = Projection(cfg, to_heads=True)
    self.out = Projection(cfg, to_heads=False)
    self.dropout = Dropout(cfg.dropout_rate)

  def project_kv(
      self, encoded: jnp.ndarray, decode: bool = False
  ) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Keys and values `[B, L_enc, heads, head_dim]` of the encoder output; with `decode`,
    keys `[B, heads, head_dim, L_enc]` and values `[B, heads, L_enc, head_dim]`, the layouts
    the decode step reads every step without a transpose."""
    key = nn.with_logical_constraint(self.key(encoded), ('batch', 'length', 'heads', 'kv'))
    value = nn.with_logical_constraint(self.value(encoded), ('batch', 'length', 'heads', 'kv'))
    if decode:
      return jnp.transpose(key, (0, 2, 3, 1)), jnp.transpose(value, (0, 2, 1, 3))
    return key, value

  def __call__(
      self,
      x: jnp.ndarray,
      kv: tuple[jnp.ndarray, jnp.ndarray],
      bias: jnp.ndarray | None,
      deterministic: bool,
      num_groups: int = 1,
      decode: bool = False,
  ) -> jnp.ndarray:
    """Attend `x [B*G, Q, E]` over `kv` of B users; rows `b*G..b*G+G-1` share user b.

    `bias` broadcasts to `[B, H, Q, L_enc]` (per user, not per row). With `decode` (one query
    per row), `kv` is in `project_kv(..., decode=True)`'s layouts.
    """
    key, value = kv
    query = self.query(x)
    rows, q_len = query.shape[:2]
    if decode:
      heads = query.shape[2]
      q = query.reshape(rows // num_groups, num_groups, heads, -1).transpose(0, 2, 1, 3)
      scores = jnp.einsum('bhgd,bhdl->bhgl', q, key).astype(jnp.float32)
      if bias is not None:
        scores = scores + bias  # [B, H or 1, 1, L]: one query per row
      weights = jax.nn.softmax(scores, axis=-1).astype(q.dtype)
      out = jnp.einsum('bhgl,bhld->bhgd', weights, value).transpose(0, 2, 1, 3)
      return self.out(out.reshape(query.shape))
    grouped = query.reshape(rows // num_groups, num_groups, q_len, *query.shape[2:])
    out = grouped_attention(
        grouped, key, value, None if bias is None else bias[:, None], self.dropout, deterministic
    )
    return self.out(out.reshape(query.shape))
