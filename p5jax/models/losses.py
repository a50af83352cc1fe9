"""Cross-entropy over the vocabulary with a hand-written gradient.

Autodiff of `logsumexp` + `take_along_axis` makes several passes over the `[B, L, vocab]`
logits in the backward pass (a scatter for the target term, separate softmax and sum
passes). The gradient has a closed form, `softmax(logits) * a - onehot(targets) * b - c`,
which XLA fuses into one elementwise pass: on CPU, where the 32k-vocabulary logits dominate a
small model's step, that is a large share of the step time.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


def cross_entropy_terms(
    logits: jnp.ndarray, targets: jnp.ndarray, label_smoothing: float = 0.0, z_loss: float = 0.0
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
  """Per position: (cross-entropy, `z_loss * log(Z)**2`, log p(target)), all float32.

  With `label_smoothing` s the target distribution puts 1-s on the target and s/(V-1) on
  every other token; the cross-entropy is offset by that distribution's entropy, so a
  perfect prediction scores 0 (as in T5X).
  """
  return _cross_entropy(logits.astype(jnp.float32), targets, float(label_smoothing), float(z_loss))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _cross_entropy(logits, targets, label_smoothing, z_loss):
  return _forward(logits, targets, label_smoothing, z_loss)[0]


def _terms(target_logit, logit_sum, log_z, vocab, label_smoothing, z_loss):
  """(cross-entropy, z-loss term, log p(target)) from per-position logit statistics;
  `logit_sum` (the sum of all logits) is only read with label smoothing."""
  target_lp = target_logit - log_z
  if label_smoothing > 0.0:
    confidence, low = 1.0 - label_smoothing, label_smoothing / (vocab - 1)
    others_lp = logit_sum - vocab * log_z - target_lp
    constant = -(confidence * np.log(confidence) + (vocab - 1) * low * np.log(low))
    cross_ent = -(confidence * target_lp + low * others_lp) - constant
  else:
    cross_ent = -target_lp
  return cross_ent, z_loss * jnp.square(log_z), target_lp


def _logits_grad(logits, is_target, log_z, cotangents, vocab, label_smoothing, z_loss):
  """The closed-form gradient w.r.t. a block of logits (`is_target` marks target columns)."""
  g_ce, g_z, g_lp = cotangents[:3]
  low = label_smoothing / (vocab - 1) if label_smoothing > 0.0 else 0.0
  # d ce/dl = p - ((1-s)*onehot + low*(1-onehot)); d zl/dl = 2 z log_z p; d lp/dl = onehot - p
  on_p = (g_ce + 2.0 * z_loss * log_z * g_z - g_lp)[..., None]
  on_target = (g_ce * (1.0 - label_smoothing - low) - g_lp)[..., None]
  grad = jnp.exp(logits - log_z[..., None]) * on_p - jnp.where(is_target, on_target, 0.0)
  if low:
    grad = grad - (g_ce * low)[..., None]
  return grad


def target_is_top(logits: jnp.ndarray, targets: jnp.ndarray) -> jnp.ndarray:
  """Whether each position's target holds the highest logit: the accuracy metric (a tie counts
  as a hit). It takes one max-reduce, which XLA can share with the log-sum-exp's, instead of
  argmax's (value, index) reduce: XLA:CPU runs that variadic reduce over a 32k vocabulary far
  slower, and it was a tenth of a small model's train step (bench/RESULTS.md §7)."""
  logits = jax.lax.stop_gradient(logits)
  target = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
  return target >= jnp.max(logits, axis=-1)


def _forward(logits, targets, label_smoothing, z_loss):
  vocab = logits.shape[-1]
  log_z = jax.nn.logsumexp(logits, axis=-1)
  target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
  logit_sum = jnp.sum(logits, axis=-1) if label_smoothing > 0.0 else None
  return (
      _terms(target_logit, logit_sum, log_z, vocab, label_smoothing, z_loss),
      (logits, targets, log_z),
  )


def _backward(label_smoothing, z_loss, residuals, cotangents):
  logits, targets, log_z = residuals
  vocab = logits.shape[-1]
  is_target = targets[..., None] == jnp.arange(vocab, dtype=targets.dtype)
  grad = _logits_grad(logits, is_target, log_z, cotangents, vocab, label_smoothing, z_loss)
  return grad, np.zeros(targets.shape, jax.dtypes.float0)


_cross_entropy.defvjp(_forward, _backward)


def chunked_logits_cross_entropy(
    hidden: jnp.ndarray,
    embedding: jnp.ndarray,
    targets: jnp.ndarray,
    chunk_size: int,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
  """`cross_entropy_terms(hidden @ embedding.T, targets)` without the `[..., vocab]` logits.

  `hidden [..., E]` are the final decoder states (normed, scaled), `embedding [V, E]` the
  output projection in vocabulary-major layout. The vocabulary is walked in chunks of
  `chunk_size` rows with an online log-sum-exp; the backward pass recomputes each chunk's
  logits and turns them straight into that chunk's gradient, so memory holds one
  `[tokens, chunk_size]` block instead of `[tokens, vocab]` logits and their gradient. On
  XLA:CPU it measured 7-12 % slower than the full logits (bench/RESULTS.md §5); it is for
  when the logits' memory is the limit.

  Returns (cross-entropy, z-loss term, log p(target), argmax id) per position; the argmax
  (for the accuracy metric) carries no gradient.
  """
  if chunk_size <= 0:
    raise ValueError(f'chunk_size must be positive, got {chunk_size}')
  lead = hidden.shape[:-1]
  flat_h = hidden.reshape(-1, hidden.shape[-1])
  flat_t = targets.reshape(-1).astype(jnp.int32)
  ce, zl, lp, best = _chunked(
      flat_h, embedding, flat_t, int(chunk_size), float(label_smoothing), float(z_loss)
  )
  return tuple(x.reshape(lead) for x in (ce, zl, lp, best))


def _chunks(embedding: jnp.ndarray, chunk_size: int) -> tuple[jnp.ndarray, jnp.ndarray]:
  """`[num_chunks, size, E]` rows (zero-padded at the end) and each chunk's first id."""
  vocab = embedding.shape[0]
  size = min(chunk_size, vocab)
  pad = -vocab % size
  if pad:
    embedding = jnp.pad(embedding, ((0, pad), (0, 0)))
  chunks = embedding.reshape(-1, size, embedding.shape[-1])
  return chunks, size * jnp.arange(chunks.shape[0], dtype=jnp.int32)


def _chunk_logits(hidden, rows, start, vocab):
  logits = jnp.einsum('ne,ve->nv', hidden, rows, preferred_element_type=jnp.float32)
  ids = start + jnp.arange(rows.shape[0], dtype=jnp.int32)
  return logits, ids, ids < vocab


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def _chunked(hidden, embedding, targets, chunk_size, label_smoothing, z_loss):
  return _chunked_forward(hidden, embedding, targets, chunk_size, label_smoothing, z_loss)[0]


def _chunked_forward(hidden, embedding, targets, chunk_size, label_smoothing, z_loss):
  vocab = embedding.shape[0]
  chunks, starts = _chunks(embedding, chunk_size)
  n = hidden.shape[0]

  def body(carry, inputs):
    run_max, run_sum, target_logit, logit_sum, best_id = carry
    rows, start = inputs
    logits, ids, valid = _chunk_logits(hidden, rows, start, vocab)
    masked = jnp.where(valid, logits, -jnp.inf)
    chunk_max = jnp.max(masked, axis=-1)
    new_max = jnp.maximum(run_max, chunk_max)
    run_sum = run_sum * jnp.exp(run_max - new_max) + jnp.sum(
        jnp.exp(masked - new_max[:, None]), axis=-1
    )
    target_logit = target_logit + jnp.sum(
        jnp.where(ids[None, :] == targets[:, None], logits, 0.0), axis=-1
    )
    logit_sum = logit_sum + jnp.sum(jnp.where(valid, logits, 0.0), axis=-1)
    # the running max is the best logit so far; strict `>` keeps the first argmax on ties
    best_id = jnp.where(
        chunk_max > run_max, start + jnp.argmax(masked, axis=-1).astype(jnp.int32), best_id
    )
    return (new_max, run_sum, target_logit, logit_sum, best_id), None

  zeros = jnp.zeros((n,), jnp.float32)
  init = (jnp.full((n,), -jnp.inf), zeros, zeros, zeros, jnp.zeros((n,), jnp.int32))
  (run_max, run_sum, target_logit, logit_sum, best_id), _ = jax.lax.scan(
      body, init, (chunks, starts)
  )
  log_z = run_max + jnp.log(run_sum)
  terms = _terms(target_logit, logit_sum, log_z, vocab, label_smoothing, z_loss)
  return terms + (best_id,), (hidden, embedding, targets, log_z)


def _chunked_backward(chunk_size, label_smoothing, z_loss, residuals, cotangents):
  hidden, embedding, targets, log_z = residuals
  vocab = embedding.shape[0]
  chunks, starts = _chunks(embedding, chunk_size)

  def body(grad_hidden, inputs):
    rows, start = inputs
    logits, ids, valid = _chunk_logits(hidden, rows, start, vocab)
    grad = _logits_grad(
        logits, ids[None, :] == targets[:, None], log_z, cotangents, vocab, label_smoothing, z_loss
    )
    grad = jnp.where(valid, grad, 0.0).astype(hidden.dtype)
    grad_rows = jnp.einsum('nv,ne->ve', grad, hidden, preferred_element_type=jnp.float32)
    grad_hidden = grad_hidden + jnp.einsum(
        'nv,ve->ne', grad, rows, preferred_element_type=jnp.float32
    )
    return grad_hidden, grad_rows

  grad_hidden, grad_chunks = jax.lax.scan(
      body, jnp.zeros(hidden.shape, jnp.float32), (chunks, starts)
  )
  grad_embedding = grad_chunks.reshape(-1, embedding.shape[-1])[:vocab]
  return (
      grad_hidden.astype(hidden.dtype),
      grad_embedding.astype(embedding.dtype),
      np.zeros(targets.shape, jax.dtypes.float0),
  )


_chunked.defvjp(_chunked_forward, _chunked_backward)
