"""Dropout whose mask comes from a counter-based hash instead of `jax.random.bernoulli`.

On CPU, JAX lowers threefry with rolled loops, so every `bernoulli` mask costs several full
passes over the activation (on the tiny P5 model, mask generation was the largest cost of a
training step after the matmuls). Here a 64-bit seed is drawn from the module's `dropout` rng
(one threefry call on two words) and each element's bits are a strong 32-bit integer mix of
its global index and the seed: one fused elementwise pass, deterministic for a given rng, and
independent of how the array is sharded (the index is global).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def _mix32(x: jnp.ndarray) -> jnp.ndarray:
  """A bijective avalanche mix of uint32 values (Wellons' `lowbias32`)."""
  x = x ^ (x >> 16)
  x = x * np.uint32(0x7FEB352D)
  x = x ^ (x >> 15)
  x = x * np.uint32(0x846CA68B)
  return x ^ (x >> 16)


def hashed_bits(rng: jax.Array, shape: tuple[int, ...]) -> jnp.ndarray:
  """uint32 pseudo-random bits of `shape`, a function of `rng` and each element's index."""
  seed = jax.random.bits(rng, (2,), jnp.uint32)
  index = jnp.zeros(shape, jnp.uint32)
  stride = 1
  for axis in reversed(range(len(shape))):
    index = index + jax.lax.broadcasted_iota(jnp.uint32, shape, axis) * np.uint32(stride)
    stride = (stride * shape[axis]) % 2**32
  return _mix32(_mix32(index ^ seed[0]) + seed[1])


class Dropout(nn.Module):
  """`flax.linen.Dropout` with hashed masks: zero each element with probability `rate` and
  scale the rest by `1 / (1 - rate)`; identity when `deterministic` or `rate == 0`."""

  rate: float
  rng_collection: str = 'dropout'

  @nn.compact
  def __call__(self, x: jnp.ndarray, deterministic: bool) -> jnp.ndarray:
    if deterministic or self.rate == 0.0:
      return x
    if self.rate >= 1.0:
      return jnp.zeros_like(x)
    keep = 1.0 - self.rate
    threshold = np.uint32(min(int(round(keep * 2.0**32)), 2**32 - 1))
    mask = hashed_bits(self.make_rng(self.rng_collection), x.shape) < threshold
    return jnp.where(mask, x / jnp.asarray(keep, x.dtype), jnp.zeros((), x.dtype))
