"""P5's AdamW recipe: warm-up/decay schedule, clipping and the weight-decay mask."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from p5jax.training.optimizers import (
    adafactor,
    as_optimizer,
    p5_adamw,
    warmup_linear_decay,
    warmup_then_decay,
    weight_decay_mask,
)


def test_schedule_warms_up_for_five_percent_then_decays_linearly():
  lr = warmup_linear_decay(1e-3, total_steps=200)
  np.testing.assert_allclose(
      [lr(0), lr(5), lr(10), lr(105), lr(200)], [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9
  )


def test_bad_schedule_arguments_are_named():
  with pytest.raises(ValueError, match='total_steps'):
    warmup_linear_decay(1e-3, 0)
  with pytest.raises(ValueError, match='warmup_fraction'):
    warmup_linear_decay(1e-3, 10, warmup_fraction=1.5)


def test_weight_decay_skips_vectors_and_clipping_bounds_the_update():
  opt = p5_adamw(total_steps=20, learning_rate=1.0, warmup_fraction=0.05)
  params = {'kernel': jnp.ones((2, 2)), 'scale': jnp.ones((2,))}
  state = opt.tx.init(params)
  zero = {'kernel': jnp.zeros((2, 2)), 'scale': jnp.zeros((2,))}
  state = opt.tx.update(zero, state, params)[1]  # step 0 has lr 0
  updates, _ = opt.tx.update(zero, state, params)
  np.testing.assert_allclose(updates['kernel'], -0.01 * np.ones((2, 2)), rtol=1e-6)
  np.testing.assert_allclose(updates['scale'], np.zeros(2))
  huge = {'kernel': 1e6 * jnp.ones((2, 2)), 'scale': jnp.zeros((2,))}
  clip_only = optax.clip_by_global_norm(1.0)
  clipped, _ = clip_only.update(huge, clip_only.init(params))
  assert float(optax.global_norm(clipped)) == pytest.approx(1.0)


def test_bare_optax_transformation_is_accepted():
  assert as_optimizer(optax.sgd(0.1)).learning_rate_fn is None


def test_p5_mask_decays_norms_and_spares_only_relative_position_tables():
  params = {
      'token_embedder': {'embedding': jnp.ones((4, 2))},
      'encoder': {
          'relpos_bias': {'rel_embedding': jnp.ones((3, 2))},
          'layers_0': {'pre_attention_layer_norm': {'scale': jnp.ones(2)}},
          'encoder_norm': {'scale': jnp.ones(2)},
      },
  }
  p5 = weight_decay_mask('p5')(params)
  assert p5['token_embedder']['embedding'] and p5['encoder']['encoder_norm']['scale']
  assert p5['encoder']['layers_0']['pre_attention_layer_norm']['scale']
  assert not p5['encoder']['relpos_bias']['rel_embedding']
  matrices = weight_decay_mask('matrices')(params)
  assert matrices['encoder']['relpos_bias']['rel_embedding']
  assert not matrices['encoder']['encoder_norm']['scale']
  with pytest.raises(ValueError, match='decay_mask'):
    weight_decay_mask('none')


def test_warmup_length_is_rounded_down_as_p5():
  lr = warmup_linear_decay(1.0, total_steps=39, warmup_fraction=0.05)  # 1.95 -> 1 step
  assert float(lr(1)) == pytest.approx(1.0)


def test_cosine_and_constant_schedules_after_warm_up():
  cos = warmup_then_decay(1e-2, total_steps=110, warmup_fraction=10 / 110, shape='cosine')
  np.testing.assert_allclose(
      [cos(5), cos(10), cos(60), cos(110)], [5e-3, 1e-2, 5e-3, 0.0], atol=1e-9
  )
  const = warmup_then_decay(1e-2, total_steps=100, shape='constant')
  np.testing.assert_allclose([const(0), const(5), const(99)], [0.0, 1e-2, 1e-2], atol=1e-9)
  with pytest.raises(ValueError, match='shape'):
    warmup_then_decay(1e-2, 10, shape='rsqrt')


def test_adafactor_steps_scale_with_the_parameter():
  """The property that makes new item embeddings learn: a parameter ten times larger takes a ten
  times larger step for the same gradient direction."""
  opt = adafactor(total_steps=10, learning_rate=1e-2, warmup_fraction=0.0, schedule='constant')
  params = {'small': 0.1 * jnp.ones((4, 4)), 'large': 1.0 * jnp.ones((4, 4))}
  grads = {'small': jnp.ones((4, 4)), 'large': jnp.ones((4, 4))}
  state = opt.tx.update(grads, opt.tx.init(params), params)[1]  # step 0: warm-up lr 0
  updates, _ = opt.tx.update(grads, state, params)
  ratio = np.abs(np.asarray(updates['large'])) / np.abs(np.asarray(updates['small']))
  np.testing.assert_allclose(ratio, 10.0, rtol=1e-4)
