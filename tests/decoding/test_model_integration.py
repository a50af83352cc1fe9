"""Beam search through the real p5jax T5 decode step (shared cross-attention, vocab subsets)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from p5jax.decoding import beam_search, compile_trie
from p5jax.models import EncoderDecoderModel, Transformer
from tests.models.fakes import tiny_t5_config

EOS, V = 1, 40


def tiny_model():
  cfg = tiny_t5_config(vocab_size=V, dropout_rate=0.0)
  model = EncoderDecoderModel(Transformer(cfg), decode_fn=beam_search)
  shapes = {
      'encoder_input_tokens': (1, 7),
      'decoder_input_tokens': (1, 4),
      'decoder_target_tokens': (1, 4),
  }
  params = nn.meta.unbox(model.get_initial_variables(jax.random.key(0), shapes)['params'])
  return model, params


@pytest.mark.slow
def test_wrapper_beam_search_returns_valid_items_and_early_stop_is_exact():
  model, params = tiny_model()
  items = [[3 + d for d in map(int, str(i))] + [EOS] for i in range(1, 120)]
  trie = compile_trie(items, vocab_size=V, eos_id=EOS)
  enc = np.random.default_rng(0).integers(2, V, size=(3, 7)).astype(np.int32)
  batch = {
      'encoder_input_tokens': jnp.asarray(enc),
      'decoder_input_tokens': jnp.zeros((3, 4), jnp.int32),
  }

  @functools.partial(jax.jit, static_argnames=('mode', 'early'))
  def predict(params, batch, trie, mode, early):
    return model.predict_batch_with_aux(
        params,
        batch,
        num_decodes=5,
        return_all_decodes=True,
        constraint=trie,
        decoder_params=dict(score_mode=mode, early_stop=early, alpha=1.0),
    )

  seqs, aux = predict(params, batch, trie, 'allowed', True)
  valid = {tuple(s) for s in items}
  for row in np.asarray(seqs).reshape(-1, 4):
    assert tuple(row[: list(row).index(EOS) + 1]) in valid
  seqs2, aux2 = predict(params, batch, trie, 'allowed', False)
  np.testing.assert_array_equal(seqs, seqs2)
  np.testing.assert_allclose(aux['scores'], aux2['scores'], rtol=1e-5)
  full_seqs, full_aux = predict(params, batch, trie, 'full', True)
  assert np.isfinite(np.asarray(full_aux['scores'])).all()
  assert (np.asarray(full_aux['scores']) <= np.asarray(aux['scores']) + 1e-5).all()
