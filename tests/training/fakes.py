"""Tiny models and batches for trainer tests.

`tiny_t5` is the real `p5jax.models` T5 at toy sizes (what the tests use).
`FakeEncoderDecoderModel` is a one-layer stand-in honouring the same wrapper contract; the
launcher's gin tests use it so they do not depend on model gin files.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import seqio

from tests.models.fakes import tiny_t5_config


def _param(module, name, init, shape, axes):
  return module.param(name, nn.with_logical_partitioning(init, axes), shape)


class TinySeq2Seq(nn.Module):
  vocab_size: int = 64
  emb_dim: int = 16
  mlp_dim: int = 32
  dropout_rate: float = 0.1

  @nn.compact
  def __call__(self, encoder_input_tokens, decoder_input_tokens, enable_dropout=False):
    emb = _param(
        self,
        'embedding',
        nn.initializers.normal(1.0),
        (self.vocab_size, self.emb_dim),
        ('vocab', 'embed'),
    )
    wi = _param(
        self, 'wi', nn.initializers.lecun_normal(), (self.emb_dim, self.mlp_dim), ('embed', 'mlp')
    )
    wo = _param(
        self, 'wo', nn.initializers.lecun_normal(), (self.mlp_dim, self.emb_dim), ('mlp', 'embed')
    )
    scale = _param(self, 'scale', nn.initializers.ones, (self.emb_dim,), ('embed',))
    enc = jnp.take(emb, encoder_input_tokens, axis=0)
    mask = (encoder_input_tokens > 0)[..., None]
    ctx = (enc * mask).sum(1, keepdims=True) / jnp.maximum(mask.sum(1, keepdims=True), 1)
    x = jnp.take(emb, decoder_input_tokens, axis=0) + ctx
    x = nn.with_logical_constraint(x, ('batch', 'length', 'embed'))
    h = jax.nn.relu(x @ wi)
    h = nn.Dropout(self.dropout_rate, deterministic=not enable_dropout)(h)
    x = (x + h @ wo) * scale
    return x @ emb.T


class FakeEncoderDecoderModel:
  """T5X-style wrapper over `TinySeq2Seq` (token-mean cross-entropy)."""

  def __init__(self, module: TinySeq2Seq, vocabulary=None):
    self.module = module
    self.input_vocabulary = self.output_vocabulary = vocabulary

  def get_initial_variables(self, rng, input_shapes, input_types=None):
    enc = jnp.ones(input_shapes['encoder_input_tokens'], jnp.int32)
    dec = jnp.ones(input_shapes['decoder_input_tokens'], jnp.int32)
    return self.module.init(rng, enc, dec)

  def _logits(self, params, batch, rng=None):
    return self.module.apply(
        {'params': params},
        batch['encoder_input_tokens'],
        batch['decoder_input_tokens'],
        enable_dropout=rng is not None,
        rngs={'dropout': rng} if rng is not None else None,
    )

  def _loss(self, logits, batch):
    w = batch['decoder_loss_weights'].astype(jnp.float32)
    xent = optax.softmax_cross_entropy_with_integer_labels(logits, batch['decoder_target_tokens'])
    loss = (xent * w).sum() / jnp.maximum(w.sum(), 1.0)
    return loss, {'num_tokens': w.sum()}

  def loss_fn(self, params, batch, dropout_rng):
    return self._loss(self._logits(params, batch, dropout_rng), batch)

  def eval_fn(self, params, batch):
    return self._loss(self._logits(params, batch), batch)

  def score_batch(self, params, batch, return_intermediates=False):
    logits = self._logits(params, batch)
    lp = -optax.softmax_cross_entropy_with_integer_labels(logits, batch['decoder_target_tokens'])
    return (lp * batch['decoder_loss_weights']).sum(-1)

  def predict_batch_with_aux(
      self,
      params,
      batch,
      rng=None,
      num_decodes=1,
      return_all_decodes=False,
      decoder_params=None,
      constraint=None,
  ):
    """Greedy teacher-free decode of the target length; K decodes are the same sequence."""
    bsz, length = batch['decoder_input_tokens'].shape

    def step(tokens, i):
      logits = self._logits(params, {**batch, 'decoder_input_tokens': tokens})
      nxt = jnp.argmax(logits[:, i], -1).astype(jnp.int32)
      tokens = jnp.where(jnp.arange(length)[None] == i + 1, nxt[:, None], tokens)
      return tokens, (nxt, jax.nn.log_softmax(logits[:, i])[jnp.arange(bsz), nxt])

    _, (out, lps) = jax.lax.scan(step, jnp.zeros((bsz, length), jnp.int32), jnp.arange(length))
    out, score = out.T, lps.sum(0)
    if return_all_decodes:
      out = jnp.repeat(out[:, None], num_decodes, 1)
      score = jnp.repeat(score[:, None], num_decodes, 1) - jnp.arange(num_decodes)
    return out, {'scores': score}


ENC_LEN, DEC_LEN, VOCAB = 12, 6, 64


def tiny_t5(dropout_rate: float = 0.1):
  """The real model of `tiny_t5_config`."""
  from p5jax import models

  config = tiny_t5_config(dropout_rate=dropout_rate)
  vocab = seqio.PassThroughVocabulary(VOCAB, eos_id=1)
  return models.EncoderDecoderModel(models.Transformer(config), vocab, vocab)


def random_batch(seed: int, batch_size: int = 8) -> dict[str, np.ndarray]:
  rng = np.random.default_rng(seed)
  enc = rng.integers(2, VOCAB, (batch_size, ENC_LEN)).astype(np.int32)
  tgt = rng.integers(2, VOCAB, (batch_size, DEC_LEN)).astype(np.int32)
  tgt[:, -1] = 1
  dec = np.concatenate([np.zeros((batch_size, 1), np.int32), tgt[:, :-1]], 1)
  return {
      'encoder_input_tokens': enc,
      'decoder_input_tokens': dec,
      'decoder_target_tokens': tgt,
      'decoder_loss_weights': np.ones_like(tgt),
  }


INPUT_SHAPES = {
    'encoder_input_tokens': (8, ENC_LEN),
    **{
        k: (8, DEC_LEN)
        for k in ('decoder_input_tokens', 'decoder_target_tokens', 'decoder_loss_weights')
    },
}
