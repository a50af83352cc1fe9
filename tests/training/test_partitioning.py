"""Mesh construction, logical-axis rules and 4x2-vs-1-device train-step equivalence."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from p5jax.training.optimizers import p5_adamw
from p5jax.training.partitioning import Partitioner, standard_logical_axis_rules
from p5jax.training.trainer import Trainer
from tests.training.fakes import INPUT_SHAPES, random_batch, tiny_t5


def test_mesh_shape_from_num_partitions():
  assert dict(Partitioner(num_partitions=2).mesh.shape) == {'data': 4, 'model': 2}
  with pytest.raises(ValueError, match='num_partitions=3'):
    Partitioner(num_partitions=3)


def test_rules_are_data_and_two_dim_params_shard_embed():
  rules = dict(standard_logical_axis_rules())
  assert rules['batch'] == 'data' and rules['vocab'] == 'model' and rules['embed'] is None
  two_d = standard_logical_axis_rules(parameter_partitioning_dims=2)
  assert ('embed', 'data') in two_d


def test_batch_not_divisible_by_data_axis_is_named():
  with pytest.raises(ValueError, match='batch_size=6'):
    Partitioner(num_partitions=1).get_data_layout(6)


def _run(tiny_model, partitioner, steps=2):
  trainer = Trainer(
      tiny_model, p5_adamw(total_steps=10, learning_rate=1e-2), partitioner, INPUT_SHAPES
  )
  state = trainer.init_state(jax.random.key(0))
  losses = []
  for i in range(steps):
    state, m = trainer.train_step(
        state, partitioner.shard_batch(random_batch(i)), jax.random.key(1)
    )
    losses.append(float(m['loss']))
  return state, losses


def test_4x2_mesh_step_matches_single_device(tiny_model):
  """Same losses and params on a (data=4, model=2) mesh and on one device (rtol 1e-5)."""
  mesh_p = Partitioner(num_partitions=2)
  one_p = Partitioner(num_partitions=1, devices=jax.devices()[:1])
  state8, losses8 = _run(tiny_model, mesh_p)
  state1, losses1 = _run(tiny_model, one_p)
  np.testing.assert_allclose(losses8, losses1, rtol=1e-5)
  jax.tree.map(
      lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6),
      state8.params,
      state1.params,
  )
  flat = {
      jax.tree_util.keystr(p): x for p, x in jax.tree_util.tree_flatten_with_path(state8.params)[0]
  }
  emb = next(x for k, x in flat.items() if k.endswith("['embedding']") and x.shape == (64, 16))
  assert emb.sharding.spec == P('model', None)
  assert {s.data.shape for s in emb.addressable_shards} == {(32, 16)}  # vocab split in 2
  wi = next(x for k, x in flat.items() if "['wi']" in k)
  assert wi.sharding.spec == P(None, 'model')
  assert {s.data.shape for s in wi.addressable_shards} == {(16, 16)}  # mlp 32 split in 2
  # Adam moments follow their parameter's sharding.
  mu = [
      x
      for x in jax.tree.leaves(state8.opt_state, is_leaf=lambda x: hasattr(x, 'mu'))
      if hasattr(x, 'mu')
  ][0].mu
  assert {
      jax.tree_util.keystr(p): x.sharding.spec
      for p, x in jax.tree_util.tree_flatten_with_path(mu)[0]
  } == {k: x.sharding.spec for k, x in flat.items()}


def test_microbatching_matches_full_batch(tiny_model):
  """Microbatches with unequal target-token counts give the full-batch update (no dropout)."""
  model = tiny_t5(dropout_rate=0.0)
  part = Partitioner(num_partitions=2)
  outs = []
  for m in (1, 2):
    tr = Trainer(model, p5_adamw(total_steps=10), part, INPUT_SHAPES, num_microbatches=m)
    batch = random_batch(3)
    batch['decoder_loss_weights'][::2, 3:] = 0  # rows of microbatch 0 carry fewer tokens
    state, metrics = tr.train_step(
        tr.init_state(jax.random.key(0)), part.shard_batch(batch), jax.random.key(1)
    )
    outs.append((float(metrics['loss']), jax.device_get(state.params)))
  np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5)
  jax.tree.map(
      lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), outs[0][1], outs[1][1]
  )
