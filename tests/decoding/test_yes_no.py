"""P(yes) scoring at the first decoding position, P5's step-index-1 quirk, and ranking."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.decoding.yes_no import rank_by_score, yes_probability

V, YES, NO = 6, 4, 5
TABLE = jnp.asarray(np.random.default_rng(0).normal(size=(3, V, V)), jnp.float32)


def logits_fn(batch):
  """Logits [N, L, V] that depend on the prompt's first token and the decoder input token."""
  enc = batch['encoder_input_tokens'][:, 0]
  return TABLE[enc[:, None], batch['decoder_input_tokens']]


def batch(prompts):
  return {'encoder_input_tokens': jnp.asarray(prompts, jnp.int32)}


def softmax_yes(row):
  return float(jax.nn.softmax(jnp.array([row[YES], row[NO]]))[0])


def test_first_position_probability():
  prompts = [[0, 1], [1, 1], [2, 1]]
  got = np.asarray(yes_probability(logits_fn, batch(prompts), yes_id=YES, no_id=NO))
  expected = [softmax_yes(TABLE[p[0], 0]) for p in prompts]
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_p5_step_index_one_follows_the_greedy_first_token():
  prompts = [[0, 1], [2, 1]]
  got = np.asarray(
      yes_probability(logits_fn, batch(prompts), yes_id=YES, no_id=NO, p5_step_index=True)
  )
  expected = [softmax_yes(TABLE[p[0], int(jnp.argmax(TABLE[p[0], 0]))]) for p in prompts]
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_rank_by_score_is_stable_and_checks_shapes():
  scores = np.array([[0.1, 0.9, 0.5, 0.9]])
  cands = np.array([[11, 12, 13, 14]])
  np.testing.assert_array_equal(rank_by_score(scores, cands), [[12, 14, 13, 11]])
  np.testing.assert_array_equal(rank_by_score(scores, cands, top_k=2), [[12, 14]])
  with pytest.raises(ValueError, match='users, candidates'):
    rank_by_score(scores[0], cands[0])
