"""Greedy (arg-max) decoding over a ``StepFn``: Hugging Face ``generate(num_beams=1)``.

One ``lax.while_loop`` that stops when every row has produced EOS or ``max_decode_len`` tokens.
The token of each step is the arg-max of the processed logits (``min_length``,
``repetition_penalty`` as in ``p5jax.decoding.processors``) among the tokens the constraint
allows; the score is the sum of the chosen tokens' log-probs (normalised per ``score_mode``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from p5jax.decoding import trie as trie_lib
from p5jax.decoding.settings import SearchSettings
from p5jax.decoding.step import NEG_INF, PyTree, StepFn, step_state


def greedy_search(
    step_fn: StepFn,
    cache: PyTree,
    *,
    batch_size: int,
    max_decode_len: int,
    eos_id: int,
    num_decodes: int = 1,
    constraint: trie_lib.ItemTrie | None = None,
    score_mode: str | None = None,
    bos_id: int = 0,
    min_length: int = 0,
    repetition_penalty: float = 1.0,
) -> tuple[jax.Array, jax.Array]:
  """Arg-max decoding with ``beam_search``'s interface (so it can be a wrapper ``decode_fn``).

  Args:
    step_fn, cache: the decoder step and its cache (leading dim ``batch_size``).
    max_decode_len: the most tokens generated (EOS included); Hugging Face's max_length - 1.
    num_decodes: must be 1.
    constraint: an ``ItemTrie`` or None; score_mode: 'allowed' (default) or 'full'.
    min_length, repetition_penalty: Hugging Face's settings (``p5jax.decoding.processors``).

  Returns sequences int32 [B, 1, L] (pad 0 after EOS) and summed log-probs [B, 1]. A row whose
  constraint leaves no valid token (or that reaches L without EOS under a constraint) gets
  score -inf and pad tokens.
  """
  if num_decodes != 1:
    raise ValueError(f'greedy_search returns one decode, got num_decodes={num_decodes}')
  settings = SearchSettings(
      batch_size,
      max_decode_len,
      eos_id,
      score_mode or 'allowed',
      constraint,
      bos_id,
      min_length,
      repetition_penalty,
  )
  return greedy(step_fn, cache, settings)


def greedy(step_fn: StepFn, cache: PyTree, settings: SearchSettings) -> tuple[jax.Array, jax.Array]:
  """``greedy_search`` on ``settings`` (what ``beam_search(mode='hf', num_beams=1)`` runs)."""
  b, length, eos_id = settings.batch_size, settings.max_decode_len, settings.eos_id
  processors = settings.processors

  def cond(state):
    return (state['i'] < length) & ~jnp.all(state['done'])

  def body(state):
    i = state['i']
    process = processors.at(i, state['seq'])
    lp, tok, cache = step_state(
        step_fn,
        state,
        settings.constraint,
        settings.score_mode,
        1,
        process=process,
        on_logits=True,
        last_eos_id=eos_id,
    )  # [B, 1]
    lp, tok = lp[:, 0], tok[:, 0]
    live = ~state['done']
    seq = state['seq'].at[:, i].set(jnp.where(live, tok, 0))
    score = state['score'] + jnp.where(live, lp, 0.0)
    return dict(
        i=i + 1,
        tokens=tok,
        cache=cache,
        node=settings.advance(state['node'], tok),
        seq=seq,
        score=score,
        done=state['done'] | (tok == eos_id) | ~jnp.isfinite(lp),
    )

  state = dict(
      settings.start(cache),
      seq=jnp.zeros((b, length), jnp.int32),
      score=jnp.zeros(b),
      done=jnp.zeros(b, bool),
  )
  state = jax.lax.while_loop(cond, body, state)
  score = state['score']
  if settings.constraint is not None:
    ended = jnp.any(state['seq'] == eos_id, axis=1)
    score = jnp.where(ended, score, NEG_INF)
  seq = jnp.where(jnp.isfinite(score)[:, None], state['seq'], 0)
  return seq[:, None], score[:, None]
