"""Tiny model fixtures shared by the model tests."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models import EncoderDecoderModel, T5Config, Transformer
from tests.models.fakes import tiny_t5_config

VOCAB = 40
# Every third id starts a word; pad (0), eos (1) and unk (2) never do.
WORD_START_TABLE = np.array([i % 3 == 0 and i > 2 for i in range(VOCAB)])


def tiny_config(**overrides) -> T5Config:
  """`tiny_t5_config` with 2+2 layers, MLP 24, no dropout and P5's whole-word embedding."""
  return tiny_t5_config(
      **{
          'vocab_size': VOCAB,
          'mlp_dim': 24,
          'num_encoder_layers': 2,
          'num_decoder_layers': 2,
          'dropout_rate': 0.0,
          'whole_word_embedding': True,
          'max_words': 16,
          **overrides,
      }
  )


def random_batch(seed: int = 0, batch: int = 3, enc_len: int = 9, dec_len: int = 6) -> dict:
  rng = np.random.default_rng(seed)
  enc = rng.integers(3, VOCAB, (batch, enc_len))
  enc[0, enc_len - 3 :] = 0
  enc[0, enc_len - 4] = 1
  enc[1:, -1] = 1
  tgt = rng.integers(3, VOCAB, (batch, dec_len))
  tgt[:, -1] = 1
  tgt[0, -2:] = [1, 0]
  dec_in = np.concatenate([np.zeros((batch, 1), int), tgt[:, :-1]], axis=1)
  return {
      'encoder_input_tokens': jnp.asarray(enc, jnp.int32),
      'decoder_input_tokens': jnp.asarray(dec_in, jnp.int32),
      'decoder_target_tokens': jnp.asarray(tgt, jnp.int32),
      'decoder_loss_weights': jnp.asarray(tgt > 0, jnp.float32),
  }


def _tiny_model(style_name: str):
  style = getattr(T5Config, style_name)
  cfg = style(
      **{
          k: v
          for k, v in tiny_config().__dict__.items()
          if k not in ('mlp_activations', 'logits_via_embedding', 'scale_decoder_output')
      }
  )
  model = EncoderDecoderModel(Transformer(cfg, WORD_START_TABLE))
  shapes = {k: v.shape for k, v in random_batch().items()}
  return model, random_params(model, shapes)


@pytest.fixture(scope='session')
def tiny_model():
  """(EncoderDecoderModel, params) of a tiny T5 1.0 (P5-style) model."""
  return _tiny_model('t5_v1_0')


@pytest.fixture(scope='session', params=['t5_v1_0', 't5_v1_1'])
def tiny_model_both(request):
  """(EncoderDecoderModel, params) for a T5 1.0 and a T5 1.1 tiny config."""
  return _tiny_model(request.param)


def random_params(model: EncoderDecoderModel, shapes: dict, seed: int = 0, scale: float = 0.3):
  """Params of the right tree and shapes filled with N(0, scale) numbers.

  Compiling the real initialisers costs far more than the tests themselves on a shared CPU;
  `test_every_param_has_logical_axes` covers the real `get_initial_variables` abstractly.
  """
  abstract = jax.eval_shape(
      lambda rng: model.get_initial_variables(rng, shapes), jax.random.key(0)
  )['params']
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda x: jnp.asarray(rng.normal(0.0, scale, x.shape), x.dtype), nn.unbox(abstract)
  )
