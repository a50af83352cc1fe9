"""Beam search with Hugging Face ``generate``'s semantics (``beam_search(mode='hf')``).

One ``lax.while_loop`` with static shapes. ``K = num_beams`` beams in ``G = num_beam_groups``
groups of ``S = K / G``; each step, per example and group:

1. every beam's log-softmax scores (float32; processors and the constraint applied, see
   ``p5jax.decoding.processors``; group g > 0 also pays ``diversity_penalty`` per earlier
   group's pick of the token at this step) are added to the beam's running sum;
2. the best ``2S`` (beam, token) candidates are taken; an EOS candidate becomes a finished
   hypothesis only if it ranks among the best ``S``, scored ``sum / len**alpha`` where
   ``len`` counts the generated tokens, EOS included (HF's ``length_penalty`` is ``alpha``);
3. the best ``S`` non-EOS candidates are the next beams;
4. each group keeps its best ``S`` finished hypotheses. With ``early_stopping=True`` a group
   takes none once it holds ``S``; with False, once ``S`` are held and the worst of them is
   at least the best live beam's sum over the current length (HF's heuristic).

On the first step the beams are copies of the start token and all but the first of each group
start at -1e9, as in HF (the model still runs one row per example). At the last step
(``max_decode_len`` tokens, HF's ``max_length - 1``) live beams compete as hypotheses cut at
that length. The search stops once every group of every example is done.

One group (``num_beam_groups=1``) follows the installed transformers (>= 4.50, the vectorised
beam search): the done heuristic reads the best live beam, and at the last step the best ``S``
of the ``2S`` candidates, cut or ended, compete. Group beam search left transformers in 4.56;
with ``G > 1`` this follows its last in-library version (4.36-4.55): the heuristic reads the best
candidate, and at the last step the ``S`` live beams are added after the ended ones, only to a
group still open; the ``K`` hypotheses of all groups are then sorted together. 4.56 refuses
``diversity_penalty=0``; P5's 3-9 / 3-12 ran it on transformers 4.2.1, whose one shared heap of
K gives the same best hypothesis as G identical groups here, and which divided cut hypotheses
by ``max_length`` (the start token counted): so does this mode with ``diversity_penalty=0``.
(With ``num_decodes > 1`` the G identical groups return each hypothesis G times.)

Under a constraint, a hypothesis cut at the length limit or descended from a -1e9 start copy
(HF returns both) comes back with score -inf and pad tokens.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from p5jax.decoding.processors import hamming_penalty
from p5jax.decoding.settings import SearchSettings
from p5jax.decoding.step import NEG_INF, PyTree, StepFn, gather_beams, step_state

BIG = 1e9  # Hugging Face's "very large" score offset, reproduced bit for bit (float32)
DEAD = -1e8  # a running sum below this descends from a -1e9 start copy


def _gather(x: jax.Array, index: jax.Array) -> jax.Array:
  """x [B, M, ...] -> x[b, index[b, j], ...] of shape [B, J, ...]."""
  return x[jnp.arange(x.shape[0])[:, None], index]


def _top(score: jax.Array, k: int, *arrays: jax.Array) -> tuple[jax.Array, ...]:
  """The ``k`` best of ``score`` [B, M] (best first) and the matching rows of ``arrays``."""
  top, index = jax.lax.top_k(score, k)
  return (top, index) + tuple(_gather(a, index) for a in arrays)


def hf_beam_search(
    step_fn: StepFn,
    cache: PyTree,
    settings: SearchSettings,
    *,
    num_beams: int,
    alpha: float = 1.0,
    early_stopping: bool = True,
    num_beam_groups: int = 1,
    diversity_penalty: float = 0.0,
) -> tuple[jax.Array, jax.Array]:
  """HF beam search (see module docstring); returns all ``num_beams`` hypotheses, best first.

  ``cache`` leaves have leading dim ``batch_size * num_beams``. Returns sequences int32
  [B, K, max_decode_len] (pad 0 after EOS) and scores float32 [B, K] (HF's
  ``sequences_scores``); ``beam_search`` keeps the ``num_decodes`` best.
  """
  b, k, g, length = settings.batch_size, num_beams, num_beam_groups, settings.max_decode_len
  eos_id, constraint = settings.eos_id, settings.constraint
  if k % g:
    raise ValueError(f'num_beams ({k}) must be a multiple of num_beam_groups ({g})')
  s = k // g
  legacy = g > 1
  # Per-beam candidates: 2S suffice for the group's best 2S; a diversity penalty can lower at
  # most (G - 1) * S of them (the tokens earlier groups picked), so keep that many more.
  width = 2 * s + (g - 1) * s if diversity_penalty else 2 * s
  # len**alpha as HF computes it (a float64 power, then float32), for len = 0 .. L.
  penalty = jnp.asarray(np.arange(length + 2, dtype=np.float64) ** alpha, jnp.float32)
  # Cut hypotheses: len = max_length - 1, except for identical groups (diversity 0), which 4.56
  # refuses and P5 ran on 4.2.1: that version divided them by max_length.
  cut_len = length + 1 if legacy and not diversity_penalty else length
  start_lp = jnp.tile(jnp.asarray([0.0] + [-BIG] * (s - 1), jnp.float32), g)  # [K]
  rank_ok = jnp.arange(2 * s) < s

  def group_step(i, lp, tok, run_lp, run_seq, fin, is_open, chosen):
    """One group: candidate lp/tok [B, S, C] -> new beams, finished set, openness."""
    fin_score, fin_raw, fin_seq, filled = fin
    c = lp.shape[-1]
    total = (run_lp[:, :, None] + lp).reshape(b, s * c)
    top_lp, flat, top_tok = _top(total, 2 * s, tok.reshape(b, s * c))
    beam = flat // c
    cand_seq = _gather(run_seq, beam).at[:, :, i].set(top_tok)  # [B, 2S, L]
    is_eos = top_tok == eos_id
    last = i == length - 1
    hits = is_eos if legacy else is_eos | last
    new_lp, pick, new_src, new_tok, new_seq = _top(
        top_lp + hits.astype(jnp.float32) * -BIG, s, beam, top_tok, cand_seq
    )
    ended = top_lp / penalty[i + 1]
    if legacy:
      did = is_eos & rank_ok & is_open[:, None]
      ended = jnp.where(did, ended, NEG_INF)
    else:
      did = hits & rank_ok
      full = jnp.all(filled, axis=1, keepdims=True) & early_stopping
      ended = ended + full.astype(jnp.float32) * -BIG
      ended = ended + (~is_open).astype(jnp.float32)[:, None] * -BIG
      ended = ended + (~did).astype(jnp.float32) * -BIG

    def merge(fin, score, raw, seq, flag):
      fin_score, fin_raw, fin_seq, filled = fin
      out = _top(
          jnp.concatenate([fin_score, score], 1),
          s,
          jnp.concatenate([fin_raw, raw], 1),
          jnp.concatenate([fin_seq, seq], 1),
          jnp.concatenate([filled, flag], 1),
      )
      return out[0], out[2], out[3], out[4]

    fin = merge(fin, ended, top_lp, cand_seq, did)
    worst = jnp.min(fin[0], axis=1)
    if legacy:  # transformers 4.x BeamHypotheses.is_done, then finalize at the last step
      bound = top_lp[:, 0] / penalty[i + 1]
      now_done = jnp.all(fin[3], axis=1) & (early_stopping | (worst >= bound))
      still_open = is_open & ~now_done
      add = still_open[:, None] & last
      cut = jnp.where(add, new_lp / penalty[cut_len], NEG_INF)
      fin = merge(fin, cut, new_lp, new_seq, jnp.broadcast_to(add, new_lp.shape))
      chosen_tok = jnp.where(is_open[:, None], new_tok, 0)  # a done group feeds pad to HF
    else:  # transformers >= 4.50 _check_early_stop_heuristic
      best = new_lp[:, :1] / penalty[i + 1]
      worst_k = jnp.where(fin[3], worst[:, None], -BIG)
      still_open = is_open & jnp.any(best > worst_k, axis=1)
      chosen_tok = new_tok
    return new_lp, new_src, new_tok, new_seq, fin, still_open, chosen_tok

  processors = settings.processors

  def body(state, first=False):
    i = state['i']
    rows_in = b if first else b * k
    process = processors.at(i, state['run_seq'].reshape(-1, length)[:rows_in])
    lp, tok, cache = step_state(
        step_fn,
        state,
        constraint,
        settings.score_mode,
        width,
        process=process,
        keep_raw=bool(diversity_penalty),
    )  # [rows_in, C]
    c = lp.shape[1]
    lp = jnp.broadcast_to(lp.reshape(b, -1, c), (b, k, c))
    tok = jnp.broadcast_to(tok.reshape(b, -1, c), (b, k, c))
    outs, chosen = [], jnp.zeros((b, 0), jnp.int32)
    for grp in range(g):
      sl = slice(grp * s, (grp + 1) * s)
      g_lp, g_tok = lp[:, sl], tok[:, sl]
      if diversity_penalty:
        g_lp = g_lp - hamming_penalty(g_tok, chosen, diversity_penalty)
        if process is not None:  # HF applies the diversity penalty before the others
          group_process = processors.at(i, state['run_seq'][:, sl].reshape(-1, length))
          g_lp = group_process(g_lp.reshape(-1, c), g_tok.reshape(-1, c)).reshape(b, s, c)
      fin = tuple(state[key][:, sl] for key in ('fin_score', 'fin_raw', 'fin_seq', 'filled'))
      out = group_step(
          i,
          g_lp,
          g_tok,
          state['run_lp'][:, sl],
          state['run_seq'][:, sl],
          fin,
          state['open'][:, grp],
          chosen,
      )
      outs.append(out)
      chosen = jnp.concatenate([chosen, out[6]], axis=1)
    cat = lambda j: jnp.concatenate([o[j] for o in outs], axis=1)  # noqa: E731
    src = cat(1) + jnp.repeat(jnp.arange(g) * s, s)[None, :]  # [B, K] source beam
    rows = jnp.arange(b)[:, None]
    flat_src = (rows if first else rows * k + src).reshape(-1)
    flat_src = jnp.broadcast_to(flat_src.reshape(b, -1), (b, k)).reshape(-1)
    new_tok = cat(2).reshape(-1)
    run_lp = cat(0)
    return dict(
        i=i + 1,
        tokens=new_tok,
        cache=gather_beams(cache, flat_src),
        node=settings.advance(state['node'][flat_src], new_tok, jnp.isfinite(run_lp).reshape(-1)),
        run_lp=run_lp,
        run_seq=cat(3),
        fin_score=jnp.concatenate([o[4][0] for o in outs], 1),
        fin_raw=jnp.concatenate([o[4][1] for o in outs], 1),
        fin_seq=jnp.concatenate([o[4][2] for o in outs], 1),
        filled=jnp.concatenate([o[4][3] for o in outs], 1),
        open=jnp.stack([o[5] for o in outs], axis=1),
    )

  def active(state):  # [B, G]: the group may still take a hypothesis
    if legacy:
      return state['open']
    full = jnp.all(state['filled'].reshape(b, g, s), axis=2) & early_stopping
    return state['open'] & ~full

  def cond(state):
    return (state['i'] < length) & jnp.any(active(state))

  first = dict(
      settings.start(gather_beams(cache, jnp.arange(b) * k)),
      run_lp=jnp.broadcast_to(start_lp, (b, k)),
      run_seq=jnp.zeros((b, k, length), jnp.int32),
      fin_score=jnp.full((b, k), -BIG, jnp.float32),
      fin_raw=jnp.full((b, k), -BIG, jnp.float32),
      fin_seq=jnp.zeros((b, k, length), jnp.int32),
      filled=jnp.zeros((b, k), bool),
      open=jnp.ones((b, g), bool),
  )
  state = body(first, first=True)
  state = jax.lax.while_loop(cond, body, state)
  score, _, raw, seq, filled = _top(
      state['fin_score'], k, state['fin_raw'], state['fin_seq'], state['filled']
  )
  valid = filled & (raw > DEAD)
  if constraint is not None:  # only EOS-ended trie paths are valid items
    valid = valid & jnp.any(seq == eos_id, axis=2)
  score = jnp.where(valid, score, NEG_INF)
  return jnp.where(valid[:, :, None], seq, 0), score
