"""The hand-written cross-entropy gradient equals autodiff of the plain formula."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models.losses import chunked_logits_cross_entropy, cross_entropy_terms, target_is_top


def _reference(logits, targets, smoothing, z_loss):
  vocab = logits.shape[-1]
  log_z = jax.nn.logsumexp(logits, axis=-1)
  logp = logits - log_z[..., None]
  if smoothing > 0:
    low = smoothing / (vocab - 1)
    dist = jnp.where(jax.nn.one_hot(targets, vocab) > 0, 1.0 - smoothing, low)
    entropy = -((1.0 - smoothing) * np.log(1.0 - smoothing) + (vocab - 1) * low * np.log(low))
    ce = -jnp.sum(dist * logp, axis=-1) - entropy
  else:
    ce = -jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
  lp = jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
  return ce, z_loss * log_z**2, lp


@pytest.mark.parametrize('smoothing,z_loss', [(0.0, 0.0), (0.1, 0.0), (0.0, 1e-2), (0.2, 1e-3)])
def test_values_and_gradients_match_autodiff(smoothing, z_loss):
  rng = np.random.default_rng(0)
  logits = jnp.asarray(rng.normal(size=(3, 5, 11)) * 3, jnp.float32)
  targets = jnp.asarray(rng.integers(0, 11, size=(3, 5)), jnp.int32)
  w = [jnp.asarray(rng.normal(size=(3, 5)), jnp.float32) for _ in range(3)]

  def objective(fn):
    return lambda x: sum(jnp.sum(wi * t) for wi, t in zip(w, fn(x, targets, smoothing, z_loss)))

  ours, ref = cross_entropy_terms(logits, targets, smoothing, z_loss), _reference(
      logits, targets, smoothing, z_loss
  )
  for a, b in zip(ours, ref):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(
      jax.grad(objective(cross_entropy_terms))(logits),
      jax.grad(objective(_reference))(logits),
      rtol=1e-5,
      atol=1e-6,
  )


def test_bfloat16_logits_get_a_bfloat16_gradient():
  logits = jnp.ones((2, 4, 7), jnp.bfloat16)
  targets = jnp.zeros((2, 4), jnp.int32)
  g = jax.grad(lambda x: jnp.sum(cross_entropy_terms(x, targets)[0]))(logits)
  assert g.dtype == jnp.bfloat16 and g.shape == logits.shape


@pytest.mark.parametrize('smoothing,z_loss,chunk', [(0.0, 0.0, 4), (0.1, 1e-2, 5), (0.0, 0.0, 64)])
def test_chunked_logits_loss_matches_full_logits(smoothing, z_loss, chunk):
  """Values, argmax and gradients (hidden and embedding) equal the full-logits path, with
  a vocabulary that is not a multiple of the chunk (13 = 3*4 + 1) and a chunk above it."""
  rng = np.random.default_rng(1)
  hidden = jnp.asarray(rng.normal(size=(2, 5, 7)), jnp.float32)
  embedding = jnp.asarray(rng.normal(size=(13, 7)), jnp.float32)
  targets = jnp.asarray(rng.integers(0, 13, size=(2, 5)), jnp.int32)
  w = [jnp.asarray(rng.normal(size=(2, 5)), jnp.float32) for _ in range(3)]

  def full(h, e):
    return cross_entropy_terms(jnp.einsum('ble,ve->blv', h, e), targets, smoothing, z_loss)

  def chunked(h, e):
    return chunked_logits_cross_entropy(h, e, targets, chunk, smoothing, z_loss)[:3]

  for a, b in zip(chunked(hidden, embedding), full(hidden, embedding)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  best = chunked_logits_cross_entropy(hidden, embedding, targets, chunk)[3]
  np.testing.assert_array_equal(best, jnp.argmax(hidden @ embedding.T, axis=-1))

  def objective(fn):
    return lambda h, e: sum(jnp.sum(wi * t) for wi, t in zip(w, fn(h, e)))

  ours = jax.grad(objective(chunked), argnums=(0, 1))(hidden, embedding)
  ref = jax.grad(objective(full), argnums=(0, 1))(hidden, embedding)
  for a, b in zip(ours, ref):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_chunked_logits_loss_rejects_bad_chunk():
  with pytest.raises(ValueError, match='chunk_size'):
    chunked_logits_cross_entropy(jnp.zeros((2, 3)), jnp.zeros((5, 3)), jnp.zeros((2,), int), 0)


def test_target_is_top_matches_argmax_and_counts_ties_as_hits():
  logits = jax.random.normal(jax.random.key(3), (4, 5, 37))
  targets = jax.random.randint(jax.random.key(4), (4, 5), 0, 37)
  targets = targets.at[0].set(jnp.argmax(logits[0], axis=-1))  # some hits for sure
  np.testing.assert_array_equal(
      target_is_top(logits, targets), jnp.argmax(logits, axis=-1) == targets
  )
  tied = jnp.zeros((1, 4)).at[0, 1].set(1.0).at[0, 3].set(1.0)
  assert bool(target_is_top(tied, jnp.array([3]))[0])  # argmax would say 1
  assert not bool(target_is_top(tied, jnp.array([0]))[0])
