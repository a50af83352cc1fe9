"""Initialising params from a checkpoint: fallback to scratch, clear errors."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from p5jax.training.checkpoints import (
    CHECKSUMS,
    Checkpointer,
    CheckpointError,
    RestoreCheckpointConfig,
    checkpoint_step,
    restore_config,
    restore_params,
    restore_params_and_step,
    verify_checksums,
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


@pytest.mark.parametrize('async_save', [True, False])
def test_checksums_are_written_with_every_save_and_checked(tmp_path, async_save):
  ckpt = Checkpointer(str(tmp_path), async_save=async_save)
  for step in (1, 2):
    state = {'step': jnp.int32(step), 'params': {'a': jnp.full((4, 2), step)}, 'opt_state': {}}
    ckpt.save(step, state, {'batches_consumed': step})
  ckpt.close()
  for step in (1, 2):
    assert (tmp_path / f'checkpoint_{step}' / CHECKSUMS).is_file()
    assert verify_checksums(str(tmp_path / f'checkpoint_{step}'))


def test_a_damaged_latest_checkpoint_names_the_previous_one_or_falls_back(tmp_path):
  for step in (5, 6):
    _save(tmp_path, {'a': jnp.full((4, 2), float(step)), 'new': jnp.zeros((4, 2))}, step=step)
  data = max(
      (p for p in (tmp_path / 'checkpoint_6' / 'state').rglob('*') if p.is_file()),
      key=lambda p: p.stat().st_size,
  )
  data.write_bytes(data.read_bytes()[:-1] + bytes([data.read_bytes()[-1] ^ 1]))
  fresh = _fresh(Partitioner(num_partitions=2).mesh)
  with pytest.raises(CheckpointError) as err:
    restore_params(RestoreCheckpointConfig(path=str(tmp_path)), fresh)
  assert f"{tmp_path / 'checkpoint_6'} is damaged: state/" in str(err.value)
  assert f"previous checkpoint is {tmp_path / 'checkpoint_5'}" in str(err.value)
  cfg = RestoreCheckpointConfig(path=str(tmp_path), fallback_to_previous=True)
  params, step = restore_params_and_step(cfg, fresh)
  assert step == 5 and float(params['a'][0, 0]) == 5.0
  with pytest.raises(CheckpointError, match='no earlier checkpoint to fall back to'):
    restore_params(dataclasses.replace(cfg, path=str(tmp_path / 'checkpoint_6')), fresh)


def test_a_checkpoint_without_checksums_is_restored_unverified(tmp_path, caplog):
  _save(tmp_path, {'a': jnp.ones((4, 2)), 'new': jnp.zeros((4, 2))})
  (tmp_path / 'checkpoint_5' / CHECKSUMS).unlink()
  restore_params(RestoreCheckpointConfig(path=str(tmp_path)), _fresh(Partitioner(2).mesh))
  assert 'restoring it unverified' in caplog.text


def test_restore_config_defaults_the_path_and_keeps_the_fallback():
  kept = restore_config(RestoreCheckpointConfig(fallback_to_previous=True), 'runs/x')
  assert kept == RestoreCheckpointConfig(path='runs/x', fallback_to_previous=True)
  assert restore_config(None, 'runs/x').path == 'runs/x'
  assert restore_config(RestoreCheckpointConfig(path='runs/y'), 'runs/x').path == 'runs/y'
