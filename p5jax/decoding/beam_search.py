"""Jit-compatible beam search (and greedy search) with optional trie constraints.

Call these inside ``jax.jit`` (the model wrapper does); the whole decode is one
``lax.while_loop``. The decoder is reached only through a ``StepFn`` (docs/CONTRACTS.md §1):

    step_fn(token_ids int32 [B*K], cache, vocab_subset int32 [B*K, F] | None)
        -> (logits float32 [B*K, V] or [B*K, F], new cache)

Search scheme (exact w.r.t. its beam): each step, every live beam proposes its best ``C``
continuations (C = 2K, or fewer when fewer tokens are allowed), the best ``2K`` of the
``K * C`` candidates are taken per example, the EOS-terminated ones are merged into the ``K``
finished hypotheses (scored with the length penalty) and the best ``K`` others stay live.
At most ``K`` of the ``2K`` can be EOS, so ``K`` live beams always survive. The loop stops
early once, for every example, the K-th finished score beats the best score any live beam can
still reach (log-probs are <= 0, so the bound is its current sum divided by the largest length
penalty still possible). With ``K`` at least the number of valid prefixes at every depth this
is exhaustive, which is what the oracle test checks. The first step runs the model on one row
per example (the K beams would be identical) and only then expands to K beams.

Constraints are ``p5jax.decoding.trie.ItemTrie`` forests. ``score_mode='allowed'`` normalises
over the allowed tokens and asks the model only for their logits (``vocab_subset``), which
skips the full-vocabulary output layer; ``score_mode='full'`` normalises over the whole
vocabulary and then masks (Hugging Face ``prefix_allowed_tokens_fn`` semantics). Beams that
run out of valid continuations die (score -inf); a slot that never received a valid
hypothesis is returned with score -inf and all-pad tokens, never a fake item.

Outputs are best first: sequences int32 [B, K, L], scores float32 [B, K] (length-penalised
log-probabilities, the number the ranking used).
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import jax.numpy as jnp

from p5jax.decoding import trie as trie_lib
from p5jax.decoding.length_penalty import length_penalty as _penalty

PyTree = Any
NEG_INF = -jnp.inf
SCORE_MODES = ('allowed', 'full')


class StepFn(Protocol):
  """One decoder step over B*K beam rows (see module docstring)."""

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
  """Reorder every cache leaf with a leading B*K dim by ``flat_index`` [B*K]; scalars shared."""
  return jax.tree_util.tree_map(lambda x: x[flat_index] if jnp.ndim(x) > 0 else x, cache)


def _top(lp: jax.Array, tok: jax.Array, width: int) -> tuple[jax.Array, jax.Array]:
  """Keep the ``width`` best of lp/tok [n, F] (pads with -inf when F < width)."""
  f = lp.shape[1]
  if f > width:
    lp, slot = jax.lax.top_k(lp, width)  # [n, width]
    return lp, jnp.take_along_axis(tok, slot, axis=1)
  if f < width:
    pad = ((0, 0), (0, width - f))
    return jnp.pad(lp, pad, constant_values=NEG_INF), jnp.pad(tok, pad)
  return lp, tok


def step_candidates(
    step_fn: StepFn,
    tokens: jax.Array,
    cache: PyTree,
    node: jax.Array,
    constraint: trie_lib.ItemTrie | None,
    score_mode: str,
    width: int,
) -> tuple[jax.Array, jax.Array, PyTree]:
  """One model step -> per-beam best continuations (log-prob [n, C], token [n, C]) + cache.

  ``C = width`` except on a purely sparse trie with fan-out F < width, where ``C = F``.
  """
  if constraint is None:
    logits, cache = step_fn(tokens, cache)  # [n, V]
    lp = jax.nn.log_softmax(logits.astype(jnp.float32))
    lp, tok = jax.lax.top_k(lp, min(width, lp.shape[1]))
    return lp, tok.astype(jnp.int32), cache

  dense_width = min(width, constraint.vocab_size)

  def sparse(cache):
    sub, ok = trie_lib.allowed(constraint, node)  # [n, F]
    if score_mode == 'allowed':
      logits, cache = step_fn(tokens, cache, vocab_subset=sub)  # [n, F]
      lp = masked_log_softmax(logits.astype(jnp.float32), ok)
    else:
      logits, cache = step_fn(tokens, cache)  # [n, V]
      full = jax.nn.log_softmax(logits.astype(jnp.float32))
      lp = jnp.where(ok, jnp.take_along_axis(full, sub, axis=1), NEG_INF)
    out_width = dense_width if constraint.has_dense else min(width, sub.shape[1])
    lp, tok = _top(lp, sub, out_width)
    return lp, tok, cache

  def dense(cache):
    logits, cache = step_fn(tokens, cache)  # [n, V]
    mask = trie_lib.allowed_mask(constraint, node)  # [n, V]
    logits = logits.astype(jnp.float32)
    if score_mode == 'allowed':
      lp = masked_log_softmax(logits, mask)
    else:
      lp = jnp.where(mask, jax.nn.log_softmax(logits), NEG_INF)
    lp, tok = jax.lax.top_k(lp, dense_width)
    return lp, tok.astype(jnp.int32), cache

  if not constraint.has_dense:
    return sparse(cache)
  at_dense = jnp.any((node >= 0) & (constraint.dense_row[jnp.maximum(node, 0)] >= 0))
  return jax.lax.cond(at_dense, dense, sparse, cache)


def beam_search(
    step_fn: StepFn,
    cache: PyTree,
    *,
    batch_size: int,
    num_decodes: int,
    max_decode_len: int,
    eos_id: int,
    alpha: float = 1.0,
    length_penalty: str = 'hf',
    constraint: trie_lib.ItemTrie | None = None,
    score_mode: str = 'allowed',
    bos_id: int = 0,
    early_stop: bool = True,
) -> tuple[jax.Array, jax.Array]:
  """Beam search with K = ``num_decodes`` beams per example; returns the K best, best first.

  Args:
      step_fn: decoder step (``StepFn``); ``cache`` leaves have leading dim B*K (beam-major).
      batch_size: B.
      num_decodes: K, the beam width and the number of hypotheses returned.
      max_decode_len: L, the most tokens generated (EOS included).
      eos_id: end-of-sequence id.
      alpha: length-penalty exponent.
      length_penalty: 'hf' (``score / len**alpha``) or 'gnmt' (``score / ((5+len)/6)**alpha``).
      constraint: an ``ItemTrie`` (shared or one root per example) or None. Without a
          constraint, hypotheses that reach L tokens without EOS are also returned (as HF does);
          with one, only EOS-terminated trie paths are.
      score_mode: 'allowed' or 'full' (see module docstring); ignored without a constraint.
      bos_id: decoder start token.
      early_stop: stop once no live beam can beat the K finished ones (exact; see above).

  Returns:
      sequences int32 [B, K, L] (pad 0 after EOS), scores float32 [B, K].
  """
  if score_mode not in SCORE_MODES:
    raise ValueError(f'score_mode must be one of {SCORE_MODES}, got {score_mode!r}')
  _penalty(1, alpha, length_penalty)  # validates the name
  if num_decodes < 1 or max_decode_len < 1:
    raise ValueError(
        f'num_decodes ({num_decodes}) and max_decode_len ({max_decode_len}) ' 'must be >= 1'
    )
  b, k, length = batch_size, num_decodes, max_decode_len
  n = b * k
  width = 2 * k
  rows = jnp.arange(b)[:, None]  # [B, 1]
  last_penalty = _penalty(length, alpha, length_penalty)

  def live_bound(live_lp, i):  # [B] best score any live beam can still reach
    divisor = jnp.maximum(_penalty(i + 1, alpha, length_penalty), last_penalty)
    return live_lp[:, 0] / divisor

  def cond(state):
    i, fin_score, live_lp = state['i'], state['fin_score'], state['live_lp']
    if not early_stop:
      return i < length
    done = (fin_score[:, -1] >= live_bound(live_lp, i)) | ~jnp.isfinite(live_lp[:, 0])
    return (i < length) & ~jnp.all(done)

  def body(state):
    """One step from k_in live beams per example (1 on the first step, else K) to K."""
    i = state['i']
    k_in = state['live_lp'].shape[1]
    lp, tok, cache = step_candidates(
        step_fn, state['tokens'], state['cache'], state['node'], constraint, score_mode, width
    )  # [B*k_in, C]
    c = lp.shape[1]
    total = (state['live_lp'].reshape(b * k_in, 1) + lp).reshape(b, k_in * c)
    tok = tok.reshape(b, k_in * c)  # [B, k_in*C]
    if k_in * c < k:  # too few candidates to fill K slots: pad with dead ones
      pad = ((0, 0), (0, k - k_in * c))
      total, tok = jnp.pad(total, pad, constant_values=NEG_INF), jnp.pad(tok, pad)
    cand_lp, flat = jax.lax.top_k(total, min(width, total.shape[1]))  # [B, W]
    beam = jnp.minimum(flat // c, k_in - 1)  # [B, W] source live beam
    cand_tok = jnp.take_along_axis(tok, flat, axis=1)  # [B, W]
    cand_seq = state['live_seq'][rows, beam].at[:, :, i].set(cand_tok)  # [B, W, L]
    is_eos = cand_tok == eos_id

    new_fin = jnp.where(is_eos, cand_lp / _penalty(i + 1, alpha, length_penalty), NEG_INF)
    all_fin = jnp.concatenate([state['fin_score'], new_fin], axis=1)  # [B, K+W]
    all_seq = jnp.concatenate([state['fin_seq'], cand_seq], axis=1)  # [B, K+W, L]
    fin_score, keep = jax.lax.top_k(all_fin, k)  # [B, K]
    fin_seq = all_seq[rows, keep]

    live_lp, pick = jax.lax.top_k(jnp.where(is_eos, NEG_INF, cand_lp), k)  # [B, K]
    src = jnp.take_along_axis(beam, pick, axis=1)  # [B, K]
    new_tok = jnp.take_along_axis(cand_tok, pick, axis=1)  # [B, K]
    flat_src = (rows * k_in + src).reshape(n)  # [B*K] rows of the old beams
    node = state['node'][flat_src]
    if constraint is not None:
      node = trie_lib.advance(constraint, node, new_tok.reshape(n))
      node = jnp.where(jnp.isfinite(live_lp).reshape(n), node, -1)
    return dict(
        i=i + 1,
        tokens=new_tok.reshape(n).astype(jnp.int32),
        cache=gather_beams(cache, flat_src),
        node=node,
        live_seq=cand_seq[rows, pick],
        live_lp=live_lp,
        fin_seq=fin_seq,
        fin_score=fin_score,
    )

  # The first step runs on one row per example (all K beams would be identical), then
  # expands to K beams; the loop carries K beams from there on.
  first = dict(
      i=jnp.zeros((), jnp.int32),
      tokens=jnp.full((b,), bos_id, jnp.int32),
      cache=gather_beams(cache, jnp.arange(b) * k),
      node=(trie_lib.init(constraint, b) if constraint is not None else jnp.zeros(b, jnp.int32)),
      live_seq=jnp.zeros((b, 1, length), jnp.int32),
      live_lp=jnp.zeros((b, 1)),
      fin_seq=jnp.zeros((b, k, length), jnp.int32),
      fin_score=jnp.full((b, k), NEG_INF),
  )
  state = body(first)
  state = jax.lax.while_loop(cond, body, state)
  fin_seq, fin_score = state['fin_seq'], state['fin_score']
  if constraint is None:  # hypotheses cut at L tokens compete too (Hugging Face semantics)
    cut = jnp.where(state['i'] >= length, state['live_lp'] / last_penalty, NEG_INF)
    all_score = jnp.concatenate([fin_score, cut], axis=1)
    fin_score, keep = jax.lax.top_k(all_score, k)
    fin_seq = jnp.concatenate([fin_seq, state['live_seq']], axis=1)[rows, keep]
  fin_seq = jnp.where(jnp.isfinite(fin_score)[:, :, None], fin_seq, 0)
  return fin_seq, fin_score


def greedy_search(
    step_fn: StepFn,
    cache: PyTree,
    *,
    batch_size: int,
    max_decode_len: int,
    eos_id: int,
    num_decodes: int = 1,
    constraint: trie_lib.ItemTrie | None = None,
    score_mode: str = 'allowed',
    bos_id: int = 0,
) -> tuple[jax.Array, jax.Array]:
  """Argmax decoding with ``beam_search``'s interface (so it can be a wrapper ``decode_fn``).

  Returns sequences int32 [B, 1, L] (pad 0 after EOS) and summed log-probs [B, 1]. A row whose
  constraint leaves no valid token (or that reaches L without EOS under a constraint) gets
  score -inf and pad tokens. ``num_decodes`` must be 1.
  """
  if num_decodes != 1:
    raise ValueError(f'greedy_search returns one decode, got num_decodes={num_decodes}')
  if score_mode not in SCORE_MODES:
    raise ValueError(f'score_mode must be one of {SCORE_MODES}, got {score_mode!r}')
  b, length = batch_size, max_decode_len
  node0 = trie_lib.init(constraint, b) if constraint is not None else jnp.zeros(b, jnp.int32)

  def cond(state):
    return (state['i'] < length) & ~jnp.all(state['done'])

  def body(state):
    i = state['i']
    lp, tok, cache = step_candidates(
        step_fn, state['tokens'], state['cache'], state['node'], constraint, score_mode, 1
    )  # [B, 1]
    lp, tok = lp[:, 0], tok[:, 0]
    live = ~state['done']
    seq = state['seq'].at[:, i].set(jnp.where(live, tok, 0))
    score = state['score'] + jnp.where(live, lp, 0.0)
    node = state['node']
    if constraint is not None:
      node = trie_lib.advance(constraint, node, tok)
    return dict(
        i=i + 1,
        tokens=tok,
        cache=cache,
        node=node,
        seq=seq,
        score=score,
        done=state['done'] | (tok == eos_id) | ~jnp.isfinite(lp),
    )

  state = dict(
      i=jnp.zeros((), jnp.int32),
      tokens=jnp.full((b,), bos_id, jnp.int32),
      cache=cache,
      node=node0,
      seq=jnp.zeros((b, length), jnp.int32),
      score=jnp.zeros(b),
      done=jnp.zeros(b, bool),
  )
  state = jax.lax.while_loop(cond, body, state)
  score = state['score']
  if constraint is not None:
    ended = jnp.any(state['seq'] == eos_id, axis=1)
    score = jnp.where(ended, score, NEG_INF)
  seq = jnp.where(jnp.isfinite(score)[:, None], state['seq'], 0)
  return seq[:, None], score[:, None]
