"""Hashed dropout: the right keep rate, scaling, determinism per rng, fresh masks per rng."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models.dropout import Dropout, hashed_bits


@pytest.mark.parametrize('rate', [0.1, 0.5])
def test_keep_rate_and_scaling(rate):
  x = jnp.ones((64, 128, 32))
  y = Dropout(rate).apply({}, x, deterministic=False, rngs={'dropout': jax.random.key(0)})
  kept = np.asarray(y) != 0
  assert abs(kept.mean() - (1 - rate)) < 0.01
  np.testing.assert_allclose(np.asarray(y)[kept], 1 / (1 - rate), rtol=1e-6)


def test_deterministic_and_rate_zero_are_identity():
  x = jnp.arange(12.0).reshape(3, 4)
  assert (Dropout(0.3).apply({}, x, deterministic=True) == x).all()
  assert (Dropout(0.0).apply({}, x, deterministic=False) == x).all()


def test_same_rng_same_mask_other_rng_other_mask():
  shape = (8, 16, 16)
  a, b = hashed_bits(jax.random.key(1), shape), hashed_bits(jax.random.key(1), shape)
  c = hashed_bits(jax.random.key(2), shape)
  assert (a == b).all()
  assert (a != c).mean() > 0.99


def test_bits_are_uniform_and_uncorrelated_between_neighbours():
  bits = np.asarray(hashed_bits(jax.random.key(3), (256, 1024)), np.float64) / 2**32
  assert abs(bits.mean() - 0.5) < 0.005
  assert abs(np.corrcoef(bits[:, :-1].ravel(), bits[:, 1:].ravel())[0, 1]) < 0.01
  assert abs(np.corrcoef(bits[:-1].ravel(), bits[1:].ravel())[0, 1]) < 0.01
  counts = np.histogram(bits, bins=16, range=(0, 1))[0]
  assert counts.min() > 0.97 * counts.mean()
