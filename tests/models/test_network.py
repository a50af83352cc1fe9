import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models import EncoderDecoderModel, Transformer
from tests.models.conftest import WORD_START_TABLE, random_batch, random_params, tiny_config

LOGICAL_NAMES = {'vocab', 'embed', 'mlp', 'heads', 'kv', 'relpos_buckets', None}


def _apply(model, params, batch, **kwargs):
  keys = (
      'encoder_input_tokens',
      'decoder_input_tokens',
      'decoder_target_tokens',
      'encoder_segment_ids',
      'decoder_segment_ids',
  )
  fn = jax.jit(lambda p, *args: model.module.apply({'params': p}, *args, **kwargs))
  return fn(params, *[batch.get(k) for k in keys])


def test_every_param_has_logical_axes(tiny_model_both):
  model, _ = tiny_model_both
  shapes = {k: v.shape for k, v in random_batch().items()}
  boxed = jax.eval_shape(lambda rng: model.get_initial_variables(rng, shapes), jax.random.key(0))[
      'params'
  ]
  leaves = jax.tree.leaves(boxed, is_leaf=lambda x: isinstance(x, nn.Partitioned))
  assert leaves and all(isinstance(x, nn.Partitioned) for x in leaves)
  for leaf in leaves:
    assert len(leaf.names) == leaf.value.ndim and set(leaf.names) <= LOGICAL_NAMES


def test_cached_decode_equals_teacher_forcing(tiny_model_both):
  """Three beams per user (shared cross-attention keys/values), each fed its own tokens."""
  num_decodes = 3
  model, params = tiny_model_both
  batch = random_batch(seed=1, batch=2)
  rows = 2 * num_decodes
  rng = np.random.default_rng(2)
  targets = jnp.asarray(rng.integers(3, 40, (rows, 6)), jnp.int32)  # a different one per beam
  dec_in = jnp.concatenate([jnp.zeros((rows, 1), jnp.int32), targets[:, :-1]], axis=1)
  tiled = {
      'encoder_input_tokens': jnp.repeat(batch['encoder_input_tokens'], num_decodes, 0),
      'decoder_input_tokens': dec_in,
      'decoder_target_tokens': targets,
  }
  full = _apply(model, params, tiled)
  cache = cache0 = jax.jit(lambda p, b: model.make_step_fn(p, b, num_decodes, 6)[1])(params, batch)
  assert all(x.shape[0] == rows for x in jax.tree.leaves(cache) if x.ndim)
  step = jax.jit(
      lambda p, b, tok, c, sub=None: model.make_step_fn(p, b, num_decodes, 6)[0](tok, c, sub)
  )
  subset = jnp.asarray(rng.integers(0, 40, (rows, 5)), jnp.int32)
  for t in range(6):
    logits, cache = step(params, batch, dec_in[:, t], cache)
    np.testing.assert_allclose(logits, full[:, t], atol=2e-5, rtol=1e-5)
  # vocab_subset: exactly the gathered logits of the same step.
  full_logits, _ = step(params, batch, dec_in[:, 0], cache0)
  sub_logits, _ = step(params, batch, dec_in[:, 0], cache0, subset)
  np.testing.assert_allclose(
      sub_logits, jnp.take_along_axis(full_logits, subset, axis=1), atol=1e-5
  )


def test_packed_equals_separate(tiny_model):
  model, params = tiny_model
  a = random_batch(seed=3, batch=2, enc_len=5, dec_len=4)
  enc, dec_in, tgt = (
      np.array(a[k])
      for k in ('encoder_input_tokens', 'decoder_input_tokens', 'decoder_target_tokens')
  )
  enc[:, -1], tgt[:, -1] = 1, 1
  dec_in = np.concatenate([np.zeros((2, 1), int), tgt[:, :-1]], axis=1)
  separate = _apply(
      model,
      params,
      {'encoder_input_tokens': enc, 'decoder_input_tokens': dec_in, 'decoder_target_tokens': tgt},
  )
  packed = {
      'encoder_input_tokens': enc.reshape(1, -1),
      'decoder_input_tokens': dec_in.reshape(1, -1),
      'decoder_target_tokens': tgt.reshape(1, -1),
      'encoder_segment_ids': np.repeat([[1, 2]], 5, axis=1),
      'decoder_segment_ids': np.repeat([[1, 2]], 4, axis=1),
  }
  np.testing.assert_allclose(_apply(model, params, packed).reshape(2, 4, -1), separate, atol=2e-5)


def test_whole_word_at_inference_switch():
  batch = random_batch()
  cfg = tiny_config()
  model = EncoderDecoderModel(Transformer(cfg, WORD_START_TABLE))
  params = random_params(model, {k: v.shape for k, v in batch.items()})
  quirk = EncoderDecoderModel(
      Transformer(
          cfg.__class__(**{**cfg.__dict__, 'whole_word_at_inference': False}), WORD_START_TABLE
      )
  )
  zeroed = jax.tree.map(lambda x: x, params)
  zeroed['encoder']['word_embedder']['embedding'] = jnp.zeros_like(
      params['encoder']['word_embedder']['embedding']
  )
  with_wwe, no_wwe = _apply(model, params, batch), _apply(model, zeroed, batch)
  assert np.max(np.abs(with_wwe - no_wwe)) > 1e-3
  np.testing.assert_allclose(_apply(quirk, params, batch), no_wwe, atol=1e-6)
  # Training (dropout on) still adds it under the quirk.
  train = _apply(quirk, params, batch, enable_dropout=True, rngs={'dropout': jax.random.key(0)})
  assert np.max(np.abs(train - no_wwe)) > 1e-3
  # A model initialised under the quirk has the table its training needs.
  own = random_params(quirk, {k: v.shape for k, v in batch.items()})
  assert own['encoder']['word_embedder']['embedding'].shape == (cfg.max_words, cfg.emb_dim)


def test_word_start_table_required_and_checked():
  batch = random_batch()
  args = [
      batch[k] for k in ('encoder_input_tokens', 'decoder_input_tokens', 'decoder_target_tokens')
  ]
  with pytest.raises(ValueError, match='needs word_start_table'):
    Transformer(tiny_config()).init(jax.random.key(0), *args)
  with pytest.raises(ValueError, match=r'shape \(5,\)'):
    Transformer(tiny_config(), np.zeros(5, bool)).init(jax.random.key(0), *args)
