"""Building blocks shared by the encoder and decoder: RMS norm, embedding, feed-forward."""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from p5jax.models.config import T5Config
from p5jax.models.dropout import Dropout

Initializer = Callable[..., jnp.ndarray]

_ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    'relu': jax.nn.relu,
    'gelu': lambda x: jax.nn.gelu(x, approximate=True),
    'gelu_exact': lambda x: jax.nn.gelu(x, approximate=False),
    'silu': jax.nn.silu,
    'linear': lambda x: x,
}


def kernel_init(scale: float = 1.0, distribution: str = 'truncated_normal') -> Initializer:
  """Fan-in variance scaling, the T5X default for every projection."""
  return nn.initializers.variance_scaling(scale, 'fan_in', distribution)


class RMSNorm(nn.Module):
  """T5 layer norm: scale by the root mean square, no centring, no bias; statistics in fp32."""

  config: T5Config

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    scale = self.param(
        'scale',
        nn.with_logical_partitioning(nn.initializers.ones, ('embed',)),
        (x.shape[-1],),
        jnp.float32,
    )
    x32 = x.astype(jnp.float32)
    variance = jnp.mean(jnp.square(x32), axis=-1, keepdims=True)
    y = x32 * jax.lax.rsqrt(variance + self.config.layer_norm_epsilon) * scale
    return y.astype(jnp.dtype(self.config.dtype))


class Embed(nn.Module):
  """A `[num_embeddings, emb_dim]` lookup table, also usable as a tied output projection."""

  num_embeddings: int
  features: int
  dtype: str = 'float32'
  axes: tuple[str, str] = ('vocab', 'embed')
  embedding_init: Initializer = nn.initializers.normal(stddev=1.0)

  def setup(self):
    self.embedding = self.param(
        'embedding',
        nn.with_logical_partitioning(self.embedding_init, self.axes),
        (self.num_embeddings, self.features),
        jnp.float32,
    )

  def __call__(self, ids: jnp.ndarray) -> jnp.ndarray:
    return jnp.take(self.embedding, ids, axis=0).astype(jnp.dtype(self.dtype))

  def attend(self, x: jnp.ndarray) -> jnp.ndarray:
    """Logits over the whole table: `x @ embedding.T`, as one 2-D matmul over the flattened
    positions (see `MlpBlock`: the embedding gradient then needs no transposed copy of the
    `[tokens, vocab]` logits gradient)."""
    flat = x.reshape(-1, x.shape[-1])
    return jnp.einsum('ne,ve->nv', flat, self.table()).reshape(*x.shape[:-1], -1)

  def table(self) -> jnp.ndarray:
    """The `[vocab, embed]` table in the compute dtype (the tied output projection)."""
    return self.embedding.astype(jnp.dtype(self.dtype))

  def attend_subset(self, x: jnp.ndarray, ids: jnp.ndarray) -> jnp.ndarray:
    """Logits of `x [N, E]` against the rows `ids [N, F]` only (no full-table matmul)."""
    rows = jnp.take(self.embedding, ids, axis=0).astype(jnp.dtype(self.dtype))  # [N, F, E]
    return jnp.einsum('ne,nfe->nf', x, rows)


class MlpBlock(nn.Module):
  """Position-wise feed-forward: activations of one or more input projections, multiplied
  together (gated when there are two), then projected back to `emb_dim`.

  The positions are flattened to one `[tokens, emb_dim]` matrix first: plain 2-D matmuls let
  XLA:CPU take the weight gradients without transposed copies of the `[tokens, mlp_dim]`
  activations (a 3-D einsum's backward made one, with the dropout mask recomputed inside).
  """

  config: T5Config

  @nn.compact
  def __call__(self, x: jnp.ndarray, deterministic: bool) -> jnp.ndarray:
    cfg = self.config
    dtype = jnp.dtype(cfg.dtype)
    names = (
        ['wi']
        if len(cfg.mlp_activations) == 1
        else [f'wi_{i}' for i in range(len(cfg.mlp_activations))]
    )
    lead = x.shape[:-1]
    x = x.reshape(-1, cfg.emb_dim)
    hidden = None
    for name, act in zip(names, cfg.mlp_activations):
      w = self.param(
          name,
          nn.with_logical_partitioning(kernel_init(), ('embed', 'mlp')),
          (cfg.emb_dim, cfg.mlp_dim),
          jnp.float32,
      )
      h = _ACTIVATIONS[act](x @ w.astype(dtype))
      hidden = h if hidden is None else hidden * h
    hidden = nn.with_logical_constraint(hidden, ('batch', 'mlp'))
    hidden = Dropout(cfg.dropout_rate)(hidden, deterministic=deterministic)
    wo = self.param(
        'wo',
        nn.with_logical_partitioning(kernel_init(), ('mlp', 'embed')),
        (cfg.mlp_dim, cfg.emb_dim),
        jnp.float32,
    )
    return (hidden @ wo.astype(dtype)).reshape(*lead, cfg.emb_dim)
