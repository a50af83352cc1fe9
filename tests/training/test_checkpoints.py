"""Initialising params from a checkpoint: fallback to scratch, clear errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from p5jax.training.checkpoints import (
    Checkpointer,
    CheckpointError,
    RestoreCheckpointConfig,
    checkpoint_step,
    restore_params,
)
from p5jax.training.partitioning import Partitioner


def _save(directory, params, step=5):
  ckpt = Checkpointer(str(directory), async_save=False)
  ckpt.save(
      step, {'step': jnp.int32(step), 'params': params, 'opt_state': {}}, {'batches_consumed': step}
  )
  ckpt.close()


def _fresh(mesh):
  sharding = NamedSharding(mesh, P('model', None))
  return {
      'a': jax.device_put(jnp.zeros((4, 2)), sharding),
      'new': jax.device_put(jnp.full((4, 2), 7.0), sharding),
  }


def test_restore_with_fallback_keeps_fresh_new_params_and_shardings(tmp_path):
  _save(tmp_path, {'a': jnp.arange(8.0).reshape(4, 2)})
  mesh = Partitioner(num_partitions=2).mesh
  with pytest.raises(CheckpointError, match=r"lacks params \[\"\['new'\]\"\]"):
    restore_params(RestoreCheckpointConfig(path=str(tmp_path)), _fresh(mesh))
  out = restore_params(
      RestoreCheckpointConfig(path=str(tmp_path / 'checkpoint_5'), fallback_to_scratch=True),
      _fresh(mesh),
  )
  np.testing.assert_array_equal(out['a'], np.arange(8.0).reshape(4, 2))
  np.testing.assert_array_equal(out['new'], np.full((4, 2), 7.0))
  assert out['a'].sharding.spec == P('model', None)


def test_shape_mismatch_names_param_and_shapes(tmp_path):
  _save(tmp_path, {'a': jnp.zeros((3, 2)), 'new': jnp.zeros((4, 2))})
  with pytest.raises(CheckpointError, match=r"\['a'\] has shape \(3, 2\).*\(4, 2\)"):
    restore_params(
        RestoreCheckpointConfig(path=str(tmp_path)), _fresh(Partitioner(num_partitions=2).mesh)
    )


def test_missing_checkpoint_names_path(tmp_path):
  with pytest.raises(CheckpointError, match=str(tmp_path / 'nothing')):
    restore_params(RestoreCheckpointConfig(path=str(tmp_path / 'nothing')), {})


def test_checkpoint_step_reads_the_checkpoint_not_the_model_dir_name(tmp_path):
  model_dir = tmp_path / 'run_2000'  # a digit suffix in the run's name is not a step
  for step in (0, 1000, 500):
    (model_dir / f'checkpoint_{step}' / 'state').mkdir(parents=True)
  assert checkpoint_step(str(model_dir)) == 1000
  assert checkpoint_step(str(model_dir / 'checkpoint_500')) == 500
  with pytest.raises(CheckpointError, match='no checkpoint'):
    checkpoint_step(str(tmp_path / 'empty'))
