import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models import EncoderDecoderModel, Transformer
from tests.models.conftest import WORD_START_TABLE, random_batch, tiny_config


def _model(**kwargs):
  return EncoderDecoderModel(Transformer(tiny_config(), WORD_START_TABLE), **kwargs)


def _token_lp(model, params, batch):
  return jax.jit(lambda p, b: model.score_batch(p, b, return_intermediates=True)[1])(params, batch)[
      'token_scores'
  ]


def test_losses_and_scores_agree(tiny_model):
  model, params = tiny_model
  batch = random_batch()
  batch['decoder_loss_weights'] = batch['decoder_loss_weights'].at[1, :2].set(0.0)
  weights = np.asarray(batch['decoder_loss_weights'])
  token_lp = np.asarray(_token_lp(model, params, batch))
  assert np.all(token_lp[weights == 0] == 0)
  scores = jax.jit(model.score_batch)(params, batch)
  np.testing.assert_allclose(scores, token_lp.sum(1), rtol=1e-5)
  loss, metrics = jax.jit(model.eval_fn)(params, batch)
  np.testing.assert_allclose(loss, -token_lp.sum() / weights.sum(), rtol=1e-5)
  assert float(metrics['num_tokens']) == weights.sum()
  per_example = EncoderDecoderModel(model.module, loss_normalization='per_example_mean')
  loss_pe, _ = jax.jit(per_example.eval_fn)(params, batch)
  np.testing.assert_allclose(loss_pe, np.mean(-token_lp.sum(1) / weights.sum(1)), rtol=1e-5)
  z = EncoderDecoderModel(model.module, z_loss=1e-2, label_smoothing=0.1)
  loss_z, m = jax.jit(z.eval_fn)(params, batch)
  assert float(m['z_loss']) > 0 and float(loss_z) == pytest.approx(
      float(m['cross_ent_loss'] + m['z_loss']), rel=1e-6
  )


def test_per_example_mean_counts_packed_segments(tiny_model):
  model = EncoderDecoderModel(tiny_model[0].module, loss_normalization='per_example_mean')
  values = jnp.array([[1.0, 3.0, 5.0, 0.0]])
  weights = jnp.array([[1.0, 1.0, 1.0, 0.0]])
  segments = jnp.array([[1, 1, 2, 0]])
  # Segment means 2 and 5 -> 3.5 (a token mean would give 3).
  assert float(model._normalise(values, weights, segments)) == pytest.approx(3.5)


def test_dropout_changes_training_loss(tiny_model):
  model = EncoderDecoderModel(Transformer(tiny_config(dropout_rate=0.3), WORD_START_TABLE))
  params, batch = tiny_model[1], random_batch()
  loss_fn = jax.jit(model.loss_fn)
  a, _ = loss_fn(params, batch, jax.random.key(0))
  b, _ = loss_fn(params, batch, jax.random.key(1))
  assert float(a) != float(b) and np.isfinite([a, b]).all()


def test_predict_greedy_and_plugged_decode_fn(tiny_model):
  model, params = tiny_model
  batch = random_batch()
  tokens, aux = jax.jit(model.predict_batch_with_aux)(params, batch)
  assert tokens.shape == (3, 6) and aux['scores'].shape == (3,)
  assert np.all(np.asarray(aux['scores']) <= 0)
  # Teacher-forcing the greedy output scores it exactly.
  tgt = np.asarray(tokens)
  dec_in = np.concatenate([np.zeros((3, 1), np.int32), tgt[:, :-1]], axis=1)
  eos_seen = np.cumsum(tgt == 1, axis=1) - (tgt == 1)
  weights = (eos_seen == 0).astype(np.float32)  # tokens up to and including the first EOS
  scored = jax.jit(model.score_batch)(
      params,
      {
          **batch,
          'decoder_input_tokens': dec_in,
          'decoder_target_tokens': tgt,
          'decoder_loss_weights': weights,
      },
  )
  np.testing.assert_allclose(scored, aux['scores'], rtol=1e-4, atol=1e-4)

  def fake_beam_search(
      step_fn, cache, *, batch_size, num_decodes, max_decode_len, eos_id, constraint, alpha
  ):
    logits, _ = step_fn(
        jnp.zeros((batch_size * num_decodes,), jnp.int32),
        cache,
        jnp.zeros((batch_size * num_decodes, 2), jnp.int32),
    )
    assert logits.shape == (batch_size * num_decodes, 2) and alpha == 0.5
    return (
        jnp.ones((batch_size, num_decodes, max_decode_len), jnp.int32),
        jnp.zeros((batch_size, num_decodes)),
    )

  beams = EncoderDecoderModel(model.module, decode_fn=fake_beam_search)
  tokens, aux = beams.predict_batch_with_aux(
      params, batch, num_decodes=4, return_all_decodes=True, decoder_params={'alpha': 0.5}
  )
  assert tokens.shape == (3, 4, 6) and aux['scores'].shape == (3, 4)


def test_default_decode_is_hf_generate_and_max_length_counts_the_start_token(tiny_model):
  model, params = tiny_model
  batch = random_batch()
  greedy, _ = model.predict_batch_with_aux(params, batch, decoder_params={'max_length': 4})
  assert greedy.shape == (3, 3)
  beams, aux = model.predict_batch_with_aux(
      params,
      batch,
      num_decodes=2,
      return_all_decodes=True,
      decoder_params={'num_beams': 3, 'max_length': 5},
  )
  assert beams.shape == (3, 2, 4) and aux['scores'].shape == (3, 2)
  scores = np.asarray(aux['scores'])
  assert np.all(scores[:, 0] >= scores[:, 1])
  with pytest.raises(ValueError, match='max_length'):
    model.predict_batch_with_aux(params, batch, decoder_params={'max_length': 1})


def test_bad_wrapper_arguments():
  with pytest.raises(ValueError, match='loss_normalization'):
    _model(loss_normalization='sum')
  with pytest.raises(ValueError, match='label_smoothing'):
    _model(label_smoothing=1.0)


@pytest.mark.parametrize('normalization', ['token_mean', 'per_example_mean'])
def test_chunked_loss_equals_full_logits_loss(tiny_model_both, normalization):
  """`loss_chunk_size` changes how the loss is computed, not what: same loss, metrics and
  gradients as the full-logits path (tied T5 1.0 and untied T5 1.1 output projections),
  with dropout on (the same rng gives the same masks) and smoothing + z-loss."""
  model, params = tiny_model_both
  batch = random_batch(seed=3)
  kwargs = dict(loss_normalization=normalization, z_loss=1e-3, label_smoothing=0.1)
  full = EncoderDecoderModel(model.module, **kwargs)
  chunked = EncoderDecoderModel(model.module, loss_chunk_size=7, **kwargs)
  rng = jax.random.key(5)
  (loss_f, m_f), g_f = jax.jit(jax.value_and_grad(full.loss_fn, has_aux=True))(params, batch, rng)
  (loss_c, m_c), g_c = jax.jit(jax.value_and_grad(chunked.loss_fn, has_aux=True))(
      params, batch, rng
  )
  np.testing.assert_allclose(loss_c, loss_f, rtol=1e-5)
  for key in m_f:
    np.testing.assert_allclose(m_c[key], m_f[key], rtol=1e-5, atol=1e-6, err_msg=key)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), g_c, g_f)


def test_loss_chunk_size_must_be_positive():
  with pytest.raises(ValueError, match='loss_chunk_size'):
    _model(loss_chunk_size=0)


@pytest.mark.parametrize('slots', [7, 10, 4])
def test_real_position_loss_equals_full_logits_loss(tiny_model_both, slots):
  """`loss_positions` computes logits only where the loss weight is nonzero: same loss,
  metrics and gradients as every position, with spare slots (10 > 7 real positions), no
  spare slot (7) and too few slots (4: the full-logits fallback)."""
  model, params = tiny_model_both
  batch = random_batch(seed=4)
  weights = np.asarray(batch['decoder_loss_weights']).copy()
  weights[1, 2:] = 0.0  # padding in the middle of the batch, as in packed rows
  weights[2, :] = 0.0  # an empty row
  batch['decoder_loss_weights'] = jnp.asarray(weights)
  assert weights.sum() == 7
  kwargs = dict(loss_normalization='per_example_mean', z_loss=1e-3, label_smoothing=0.1)
  full = EncoderDecoderModel(model.module, **kwargs)
  real = EncoderDecoderModel(model.module, loss_positions=slots, **kwargs)
  rng = jax.random.key(5)
  grad = lambda m: jax.jit(jax.value_and_grad(m.loss_fn, has_aux=True))(params, batch, rng)
  (loss_f, m_f), g_f = grad(full)
  (loss_r, m_r), g_r = grad(real)
  np.testing.assert_allclose(loss_r, loss_f, rtol=1e-5)
  for key in m_f:
    np.testing.assert_allclose(m_r[key], m_f[key], rtol=1e-5, atol=1e-6, err_msg=key)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), g_r, g_f)


def test_loss_positions_must_be_positive_and_alone():
  with pytest.raises(ValueError, match='loss_positions'):
    _model(loss_positions=0)
  with pytest.raises(ValueError, match='at most one'):
    _model(loss_positions=8, loss_chunk_size=8)


def test_bfloat16_activations_match_float32_loss_and_gradients():
  """ACTIVATION_DTYPE='bfloat16' (T5X's mixed precision: bf16 activations and matmuls, float32
  params, softmax, norms and loss) gives float32's loss within 2 % and gradients of the same
  direction (cosine > 0.99), from the same float32 params."""
  batch = random_batch(seed=7)
  f32 = EncoderDecoderModel(Transformer(tiny_config(), WORD_START_TABLE))
  bf16 = EncoderDecoderModel(Transformer(tiny_config(dtype='bfloat16'), WORD_START_TABLE))
  shapes = {k: v.shape for k, v in batch.items()}
  params = f32.get_initial_variables(jax.random.key(0), shapes)['params']
  grad = lambda m: jax.jit(jax.value_and_grad(m.loss_fn, has_aux=True))(params, batch, None)
  (loss32, _), g32 = grad(f32)
  (loss16, _), g16 = grad(bf16)
  assert jax.tree.all(jax.tree.map(lambda g: g.dtype == jnp.float32, g16))  # float32 params
  np.testing.assert_allclose(float(loss16), float(loss32), rtol=2e-2)
  a, b = (np.concatenate([np.ravel(x) for x in jax.tree.leaves(g)]) for g in (g32, g16))
  assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.99
