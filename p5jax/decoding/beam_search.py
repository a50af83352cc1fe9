"""The beam search entry point: p5jax's exact constrained search or Hugging Face's semantics.

Call it inside ``jax.jit`` (the model wrapper does); every decode is one ``lax.while_loop`` over
a ``StepFn`` (``p5jax.decoding.step``). ``EncoderDecoderModel.predict_batch_with_aux`` passes
its ``decoder_params`` here as keywords, so gin (or a per-task decoding record) selects the
search per task. The settings, by keyword:

- ``mode``: ``'constrained'`` (default; below) or ``'hf'`` (``p5jax.decoding.hf_beam``: the
  strings and order of Hugging Face ``generate``; ``num_beams=1`` is its greedy search).
- ``num_beams``: beam width K (default ``num_decodes``); the ``num_decodes`` best of the K
  come back (HF's ``num_return_sequences``).
- ``max_decode_len``: tokens generated at most, EOS included. ``predict_batch_with_aux`` also
  takes ``max_length`` in Hugging Face's meaning (counting the decoder start token, so
  ``max_decode_len = max_length - 1``); without it the batch's decoder length is used.
- ``min_length`` (HF's meaning, counting the start token), ``repetition_penalty`` (HF's
  formula on log-probs): ``p5jax.decoding.processors``; both modes.
- ``alpha``: the length-penalty exponent (HF's ``length_penalty``); ``length_penalty``:
  ``'hf'`` (``sum / len**alpha``) or ``'gnmt'`` (constrained mode only).
- ``early_stopping`` (hf mode; True or False, HF's meaning), ``num_beam_groups`` and
  ``diversity_penalty`` (hf mode: group / diverse beam search).
- ``constraint``: an ``ItemTrie`` (all items, per-example candidates, an answer set) or None;
  ``score_mode``: ``'allowed'`` (normalise over the allowed tokens; the model computes only
  their logits) or ``'full'`` (normalise over the vocabulary, then mask: HF's
  ``prefix_allowed_tokens_fn``); default 'allowed' in constrained mode, 'full' in hf mode.
- ``early_stop`` (constrained mode): stop at the exact bound below (never changes results).

Constrained mode (exact w.r.t. its beam): each step, every live beam proposes its best ``C``
continuations (C = 2K, or fewer when fewer tokens are allowed), the best ``2K`` of the
``K * C`` candidates are taken per example, the EOS-terminated ones are merged into the ``K``
finished hypotheses (scored with the length penalty) and the best ``K`` others stay live.
At most ``K`` of the ``2K`` can be EOS, so ``K`` live beams always survive. The loop stops
early once, for every example, the K-th finished score beats the best score any live beam can
still reach (log-probs are <= 0, so the bound is its current sum divided by the largest length
penalty still possible). With ``K`` at least the number of valid prefixes at every depth this
is exhaustive, which is what the oracle test checks. The first step runs the model on one row
per example (the K beams would be identical) and only then expands to K beams. Beams that run
out of valid continuations die (score -inf); a slot that never received a valid hypothesis
is returned with score -inf and all-pad tokens, never a fake item. Without a constraint,
hypotheses that reach the length limit compete too (as in HF).

Outputs are best first: sequences int32 [B, num_decodes, L], scores float32 [B, num_decodes]
(length-penalised log-probabilities, the number the ranking used).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from p5jax.decoding import trie as trie_lib
from p5jax.decoding.greedy import greedy
from p5jax.decoding.hf_beam import hf_beam_search
from p5jax.decoding.length_penalty import length_penalty as _penalty
from p5jax.decoding.settings import SearchSettings
from p5jax.decoding.step import NEG_INF, PyTree, StepFn, gather_beams, step_state

MODES = ('constrained', 'hf')


def beam_search(
    step_fn: StepFn,
    cache: PyTree,
    *,
    batch_size: int,
    num_decodes: int,
    max_decode_len: int,
    eos_id: int,
    mode: str = 'constrained',
    num_beams: int | None = None,
    alpha: float = 1.0,
    length_penalty: str = 'hf',
    constraint: trie_lib.ItemTrie | None = None,
    score_mode: str | None = None,
    bos_id: int = 0,
    early_stop: bool = True,
    early_stopping: bool = True,
    min_length: int = 0,
    repetition_penalty: float = 1.0,
    num_beam_groups: int = 1,
    diversity_penalty: float = 0.0,
) -> tuple[jax.Array, jax.Array]:
  """Decode K = ``num_beams`` beams per example; return the ``num_decodes`` best, best first.

  The keywords are the decoding settings of the module docstring; ``step_fn``'s cache has
  leading dim ``batch_size * num_beams`` (beam-major). Returns sequences int32
  [B, num_decodes, max_decode_len] (pad 0 after EOS) and scores float32 [B, num_decodes].
  """
  k = num_beams or num_decodes
  if mode not in MODES:
    raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
  settings = SearchSettings(
      batch_size,
      max_decode_len,
      eos_id,
      score_mode or ('full' if mode == 'hf' else 'allowed'),
      constraint,
      bos_id,
      min_length,
      repetition_penalty,
  )
  if num_decodes < 1 or max_decode_len < 1 or k < num_decodes:
    raise ValueError(
        f'need 1 <= num_decodes ({num_decodes}) <= num_beams ({k}) and max_decode_len '
        f'({max_decode_len}) >= 1'
    )
  if early_stopping not in (True, False):
    raise ValueError(f'early_stopping must be True or False, got {early_stopping!r}')
  if repetition_penalty <= 0:
    raise ValueError(f'repetition_penalty must be > 0, got {repetition_penalty}')
  if mode == 'hf':
    if length_penalty != 'hf':
      raise ValueError(f"mode='hf' uses length_penalty='hf', got {length_penalty!r}")
    if k == 1:
      return greedy(step_fn, cache, settings)
    seqs, scores = hf_beam_search(
        step_fn,
        cache,
        settings,
        num_beams=k,
        alpha=alpha,
        early_stopping=early_stopping,
        num_beam_groups=num_beam_groups,
        diversity_penalty=diversity_penalty,
    )
  else:
    if num_beam_groups != 1 or diversity_penalty or early_stopping is not True:
      raise ValueError(
          "num_beam_groups, diversity_penalty and early_stopping are Hugging Face settings: "
          "use mode='hf'"
      )
    _penalty(1, alpha, length_penalty)  # validates the name
    seqs, scores = _constrained(
        step_fn,
        cache,
        settings,
        num_beams=k,
        alpha=alpha,
        length_penalty=length_penalty,
        early_stop=early_stop,
    )
  return seqs[:, :num_decodes], scores[:, :num_decodes]


def _constrained(
    step_fn: StepFn,
    cache: PyTree,
    settings: SearchSettings,
    *,
    num_beams: int,
    alpha: float,
    length_penalty: str,
    early_stop: bool,
) -> tuple[jax.Array, jax.Array]:
  """The exact constrained search of the module docstring: K beams, K best, best first."""
  b, k, length = settings.batch_size, num_beams, settings.max_decode_len
  eos_id, constraint, score_mode = settings.eos_id, settings.constraint, settings.score_mode
  n = b * k
  width = 2 * k
  rows = jnp.arange(b)[:, None]  # [B, 1]
  last_penalty = _penalty(length, alpha, length_penalty)
  processors = settings.processors

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
    process = processors.at(i, state['live_seq'].reshape(-1, length))
    lp, tok, cache = step_state(
        step_fn, state, constraint, score_mode, width, process=process, last_eos_id=eos_id
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
    new_tok = jnp.take_along_axis(cand_tok, pick, axis=1).reshape(n)  # [B*K]
    flat_src = (rows * k_in + src).reshape(n)  # [B*K] rows of the old beams
    return dict(
        i=i + 1,
        tokens=new_tok.astype(jnp.int32),
        cache=gather_beams(cache, flat_src),
        node=settings.advance(state['node'][flat_src], new_tok, jnp.isfinite(live_lp).reshape(n)),
        live_seq=cand_seq[rows, pick],
        live_lp=live_lp,
        fin_seq=fin_seq,
        fin_score=fin_score,
    )

  # The first step runs on one row per example (all K beams would be identical), then
  # expands to K beams; the loop carries K beams from there on.
  first = dict(
      settings.start(gather_beams(cache, jnp.arange(b) * k)),
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
