"""Ranking candidates by P(yes) for P5's binary direct prompts (5-1, 5-4).

Each (user, candidate) pair is one row "Will user_X like item_Y ?"; a candidate's score is
``softmax([logit_yes, logit_no])[0]`` at the first decoding position, computed for all rows in
one teacher-forced call of ``logits_fn(batch) -> [N, L, V]`` (the Transformer's T5X call).

P5's notebooks read the logits at decoding *step index 1* instead: the position after the first
greedily generated token (a quirk that produced the published numbers). ``p5_step_index=True``
reproduces it with a second call whose decoder input is ``[BOS, argmax of position 0]``.
(P5 also passed ``no_repeat_ngram_size=2``, which can only ban a token at step 1 when the first
generated token is the BOS/pad id itself; that corner is not reproduced.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

Batch = Mapping[str, jnp.ndarray]
LogitsFn = Callable[[Batch], jnp.ndarray]


def _decoder_batch(batch: Batch, decoder_inputs: jnp.ndarray) -> dict:
  """``batch`` with 2-token decoder inputs/targets (the rest of the target is irrelevant)."""
  out = dict(batch)
  out['decoder_input_tokens'] = decoder_inputs  # [N, 2]
  out['decoder_target_tokens'] = jnp.ones_like(decoder_inputs)  # non-pad: attend to all
  out.pop('decoder_loss_weights', None)
  out.pop('decoder_segment_ids', None)
  out.pop('decoder_positions', None)
  return out


def yes_probability(
    logits_fn: LogitsFn,
    batch: Batch,
    *,
    yes_id: int,
    no_id: int,
    p5_step_index: bool = False,
    bos_id: int = 0,
) -> jnp.ndarray:
  """P(yes) among {yes, no} per row, float32 [N].

  Args:
      logits_fn: teacher-forced logits ``[N, L, V]`` for a batch with seqio encoder/decoder keys.
      batch: needs ``encoder_input_tokens`` [N, L_enc] (other encoder keys are passed through).
      yes_id, no_id: token ids of the answers (4273 and 150 in the T5 vocabulary).
      p5_step_index: read decoding step index 1 after a greedy first token (P5's notebooks).
      bos_id: decoder start token.
  """
  n = batch['encoder_input_tokens'].shape[0]
  bos = jnp.full((n, 1), bos_id, jnp.int32)
  first = logits_fn(_decoder_batch(batch, jnp.concatenate([bos, bos], axis=1)))[:, 0]  # [N, V]
  if p5_step_index:
    greedy = jnp.argmax(first, axis=-1).astype(jnp.int32)[:, None]  # [N, 1]
    logits = logits_fn(_decoder_batch(batch, jnp.concatenate([bos, greedy], axis=1)))[:, 1]
  else:
    logits = first
  pair = jnp.stack([logits[:, yes_id], logits[:, no_id]], axis=-1).astype(jnp.float32)
  return jax.nn.softmax(pair, axis=-1)[:, 0]


def rank_by_score(
    scores: np.ndarray, candidates: np.ndarray, top_k: int | None = None
) -> np.ndarray:
  """Candidates [U, C] sorted by descending score [U, C]; ties keep the listed order.

  Returns the first ``top_k`` (all when None) ranked candidates per user, [U, top_k].
  """
  scores, candidates = np.asarray(scores), np.asarray(candidates)
  if scores.shape != candidates.shape or scores.ndim != 2:
    raise ValueError(
        f'scores {scores.shape} and candidates {candidates.shape} must both be '
        '[users, candidates]'
    )
  order = np.argsort(-scores, axis=1, kind='stable')
  return np.take_along_axis(candidates, order, axis=1)[:, :top_k]
