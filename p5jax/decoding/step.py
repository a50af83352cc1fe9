"""The decoder-step protocol and one step's scoring, shared by every search in p5jax.decoding.

A search reaches the model only through a ``StepFn`` (``EncoderDecoderModel.make_step_fn``
builds one; docs/CONTRACTS.md §1):

    step_fn(token_ids int32 [n], cache, vocab_subset int32 [n, F] | None)
        -> (logits float32 [n, V] or [n, F], new cache)

``step_candidates`` turns one call into each row's best continuations under an optional trie
constraint (``p5jax.decoding.trie``) and optional logits processors (``processors``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import jax
import jax.numpy as jnp

from p5jax.decoding import trie as trie_lib

PyTree = Any
NEG_INF = -jnp.inf
SCORE_MODES = ('allowed', 'full')
# process(scores [n, F], tokens [n, F] | None) -> scores; tokens None: the whole vocabulary.
Process = Callable[[jax.Array, jax.Array | None], jax.Array]


class StepFn(Protocol):
  """One decoder step over n rows (beam-major ``b * K + k``; see module docstring)."""

  def __call__(
      self, token_ids: jax.Array, cache: PyTree, vocab_subset: jax.Array | None = None
  ) -> tuple[jax.Array, PyTree]:
    ...


def masked_log_softmax(logits: jax.Array, ok: jax.Array) -> jax.Array:
  """log-softmax over the entries where ``ok`` (last axis); -inf elsewhere and on empty rows."""
  x = jnp.where(ok, logits, NEG_INF)
  top = jnp.max(x, axis=-1, keepdims=True)
  top = jnp.where(jnp.isfinite(top), top, 0.0)
  total = jnp.sum(jnp.where(ok, jnp.exp(x - top), 0.0), axis=-1, keepdims=True)
  return jnp.where(ok, x - top - jnp.log(total), NEG_INF)


def gather_beams(cache: PyTree, flat_index: jax.Array) -> PyTree:
  """Reorder every cache leaf with a leading row dim by ``flat_index`` [n]; scalars shared."""
  return jax.tree_util.tree_map(lambda x: x[flat_index] if jnp.ndim(x) > 0 else x, cache)


def _select(
    logits: jax.Array,
    lp: jax.Array,
    tok: jax.Array | None,
    ok: jax.Array | None,
    width: int,
    process: Process | None,
    on_logits: bool,
    keep_raw: bool,
) -> tuple[jax.Array, jax.Array]:
  """The ``width`` best (log-prob, token) of each row.

  Ranked by the processed log-probs (``on_logits``: by the processed masked logits, Hugging
  Face's greedy order). The processed log-probs are returned unless ``on_logits`` or
  ``keep_raw``; either way a candidate whose rank key is -inf comes back -inf. Rows come back
  best first only when they had more than ``width`` entries.
  """
  key = lp
  if process is not None:
    if on_logits:
      key = process(logits if ok is None else jnp.where(ok, logits, NEG_INF), tok)
    else:
      key = process(lp, tok)
      lp = lp if keep_raw else key
  f = key.shape[1]
  if f > width:
    top, slot = jax.lax.top_k(key, width)
    if key is lp:
      lp = top
    else:
      lp = jnp.where(top > NEG_INF, jnp.take_along_axis(lp, slot, axis=1), NEG_INF)
    tok = slot if tok is None else jnp.take_along_axis(tok, slot, axis=1)
  else:
    if key is not lp:
      lp = jnp.where(key > NEG_INF, lp, NEG_INF)
    if tok is None:
      tok = jnp.broadcast_to(jnp.arange(f), lp.shape)
  if f < width:  # a sparse node with fewer children than width: pad with dead candidates
    pad = ((0, 0), (0, width - f))
    lp, tok = jnp.pad(lp, pad, constant_values=NEG_INF), jnp.pad(tok, pad)
  return lp, tok.astype(jnp.int32)


def step_candidates(
    step_fn: StepFn,
    tokens: jax.Array,
    cache: PyTree,
    node: jax.Array,
    constraint: trie_lib.ItemTrie | None,
    score_mode: str,
    width: int,
    process: Process | None = None,
    on_logits: bool = False,
    keep_raw: bool = False,
    last_eos_id: int | None = None,
) -> tuple[jax.Array, jax.Array, PyTree]:
  """One model step -> each row's best continuations: log-prob [n, C], token [n, C], cache.

  ``C = width`` except on a purely sparse trie whose fan-out F < width, where ``C = F``.
  Scores are log-softmax over the vocabulary (``score_mode='full'``, Hugging Face's
  ``prefix_allowed_tokens_fn``) or over the allowed tokens only (``'allowed'``: the model
  computes only their logits), -inf where the constraint forbids a token. ``process`` (Hugging
  Face logits processors, see ``processors``) rewrites the log-probs before ranking (Hugging
  Face's beam search), or with ``on_logits`` the masked logits, used only for ranking (its
  greedy search); ``keep_raw`` ranks by the processed log-probs but returns the unprocessed
  ones (group beam search re-applies the processors after its diversity penalty).

  ``last_eos_id``: for a search that ends once every live row has emitted EOS. With
  ``score_mode='allowed'``, a step at which EOS is the only token any live row may emit skips
  the model: an only allowed token has log-prob 0 whatever the logits, and the cache it would
  have written is never read again (the last step of most item tries).
  """
  if constraint is None:
    logits, cache = step_fn(tokens, cache)  # [n, V]
    logits = logits.astype(jnp.float32)
    lp = jax.nn.log_softmax(logits)
    lp, tok = _select(logits, lp, None, None, min(width, lp.shape[1]), process, on_logits, keep_raw)
    return lp, tok, cache

  dense_width = min(width, constraint.vocab_size)

  def sparse(cache):
    sub, ok = trie_lib.allowed(constraint, node)  # [n, F]
    if score_mode == 'allowed':

      def model(cache):
        logits, cache = step_fn(tokens, cache, vocab_subset=sub)  # [n, F]
        return logits.astype(jnp.float32), cache

      if last_eos_id is None:
        logits, cache = model(cache)
      else:  # only EOS may follow: its log-prob is 0 without asking the model
        forced = ~jnp.any(ok & (sub != last_eos_id))
        skip = lambda cache: (jnp.zeros(sub.shape, jnp.float32), cache)  # noqa: E731
        logits, cache = jax.lax.cond(forced, skip, model, cache)
      lp = masked_log_softmax(logits, ok)
    else:
      full, cache = step_fn(tokens, cache)  # [n, V]
      logits = jnp.take_along_axis(full.astype(jnp.float32), sub, axis=1)
      lp = jnp.take_along_axis(jax.nn.log_softmax(full.astype(jnp.float32)), sub, axis=1)
      lp = jnp.where(ok, lp, NEG_INF)
    out_width = dense_width if constraint.has_dense else min(width, sub.shape[1])
    lp, tok = _select(logits, lp, sub, ok, out_width, process, on_logits, keep_raw)
    return lp, tok, cache

  def dense(cache):
    logits, cache = step_fn(tokens, cache)  # [n, V]
    mask = trie_lib.allowed_mask(constraint, node)  # [n, V]
    logits = logits.astype(jnp.float32)
    if score_mode == 'allowed':
      lp = masked_log_softmax(logits, mask)
    else:
      lp = jnp.where(mask, jax.nn.log_softmax(logits), NEG_INF)
    lp, tok = _select(logits, lp, None, mask, dense_width, process, on_logits, keep_raw)
    return lp, tok, cache

  if not constraint.has_dense:
    return sparse(cache)
  at_dense = jnp.any((node >= 0) & (constraint.dense_row[jnp.maximum(node, 0)] >= 0))
  return jax.lax.cond(at_dense, dense, sparse, cache)


def step_state(
    step_fn: StepFn,
    state: dict,
    constraint: trie_lib.ItemTrie | None,
    score_mode: str,
    width: int,
    **options,
) -> tuple[jax.Array, jax.Array, PyTree]:
  """`step_candidates` for a decoder loop `state` that holds `tokens`, `cache` and `node`."""
  return step_candidates(
      step_fn,
      state['tokens'],
      state['cache'],
      state['node'],
      constraint,
      score_mode,
      width,
      **options,
  )
