"""Orbax checkpoints of the train state and the input position (T5X `MODEL_DIR` layout).

`MODEL_DIR/checkpoint_<step>/{state,input}`: `state` holds step, params and optimizer state as
sharded arrays; `input` is a small JSON with the number of batches consumed and the shuffle
seed, enough for an exact resume (see `p5jax.training.data`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax
import orbax.checkpoint as ocp

_STEP_PREFIX = 'checkpoint'


class CheckpointError(RuntimeError):
  """A checkpoint could not be read; the message names its path."""


@dataclasses.dataclass(frozen=True)
class SaveCheckpointConfig:
  """`period`: save every this many steps (and at the end); `keep`: newest N kept (None=all)."""

  period: int = 1000
  keep: int | None = None
  async_save: bool = True


@dataclasses.dataclass(frozen=True)
class RestoreCheckpointConfig:
  """Where to initialise from when `MODEL_DIR` has no checkpoint of its own.

  `path` is a `checkpoint_<step>` directory or a directory holding them (then the latest is
  used), or a Hugging Face T5 directory (`config.json` + weights: P5's pretrained start, see
  `p5jax.models.hf_convert.hf_initial_params`). Only params are taken (fine-tuning starts with
  a fresh optimizer). With `fallback_to_scratch`, params absent from the checkpoint keep their
  fresh init (e.g. P5's whole-word embedding on top of T5 weights); otherwise a missing param
  is an error.
  """

  path: str | None = None
  mode: str = 'latest'
  fallback_to_scratch: bool = False


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
  save: SaveCheckpointConfig | None = dataclasses.field(default_factory=SaveCheckpointConfig)
  restore: RestoreCheckpointConfig | None = None


def _step_dir(directory: str, step: int) -> str:
  return os.path.join(directory, f'{_STEP_PREFIX}_{step}')


class Checkpointer:
  """Save / restore `{state, input}` under `directory` with keep-N."""

  def __init__(
      self,
      directory: str,
      keep: int | None = None,
      async_save: bool = True,
      read_only: bool = False,
  ):
    self.directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep,
        step_prefix=_STEP_PREFIX,
        create=not read_only,
        enable_async_checkpointing=async_save,
        read_only=read_only,
    )
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_names=('state', 'input')
    )

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(
      self, step: int, state: dict[str, Any], input_state: dict[str, Any], force: bool = True
  ) -> None:
    self._manager.save(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), input=ocp.args.JsonSave(input_state)
        ),
        force=force,
    )

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def restore(
      self, step: int, abstract_state: dict[str, Any]
  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """State (in the shardings of `abstract_state`) and the input position at `step`."""
    path = _step_dir(self.directory, step)
    try:
      out = self._manager.restore(
          step,
          args=ocp.args.Composite(
              state=ocp.args.StandardRestore(abstract_state), input=ocp.args.JsonRestore()
          ),
      )
    except Exception as e:  # orbax raises many types for a damaged directory
      raise CheckpointError(f'cannot restore checkpoint {path}: ' f'{type(e).__name__}: {e}') from e
    return out['state'], out['input']

  def restore_input_state(self, step: int) -> dict[str, Any]:
    """Only the input position of `step` (cheap; used to recover the seed before init)."""
    try:
      return self._manager.restore(step, args=ocp.args.Composite(input=ocp.args.JsonRestore()))[
          'input'
      ]
    except Exception as e:
      raise CheckpointError(
          f'cannot read the input position of ' f'{_step_dir(self.directory, step)}: {e}'
      ) from e

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def _resolve_params_path(path: str) -> str:
  path = os.path.abspath(path)
  if os.path.isdir(os.path.join(path, 'state')):
    return os.path.join(path, 'state')
  steps = (
      [
          int(d.split('_')[-1])
          for d in os.listdir(path)
          if d.startswith(_STEP_PREFIX + '_') and d.split('_')[-1].isdigit()
      ]
      if os.path.isdir(path)
      else []
  )
  if not steps:
    raise CheckpointError(
        f'no checkpoint found at {path} (expected a checkpoint_<step> '
        'directory or a directory containing them)'
    )
  return os.path.join(_step_dir(path, max(steps)), 'state')


def checkpoint_step(path: str) -> int:
  """The step of the checkpoint `path` names: `checkpoint_<step>` itself or, for a model
  directory, its latest one (0 for a directory not named `checkpoint_<step>`)."""
  name = os.path.basename(os.path.dirname(_resolve_params_path(path)))
  prefix, _, step = name.rpartition('_')
  return int(step) if prefix == _STEP_PREFIX and step.isdigit() else 0


def restore_params(cfg: RestoreCheckpointConfig, fresh_params: Any) -> Any:
  """Params from `cfg.path` placed like `fresh_params`; see `RestoreCheckpointConfig`.

  The stored tree is read whole, so this is for initialisation only (not for resuming).
  A Hugging Face T5 directory is converted (`p5jax.models.hf_convert.hf_initial_params`).
  """
  from p5jax.models import hf_convert

  if hf_convert.is_hf_checkpoint(cfg.path):
    return hf_convert.hf_initial_params(
        cfg.path, fresh_params, fallback_to_scratch=cfg.fallback_to_scratch
    )
  state_dir = _resolve_params_path(cfg.path)
  try:
    stored = ocp.StandardCheckpointer().restore(state_dir)['params']
  except Exception as e:  # orbax raises many types for a damaged directory
    raise CheckpointError(
        f'cannot restore params from {state_dir}: ' f'{type(e).__name__}: {e}'
    ) from e
  stored_flat = {
      jax.tree_util.keystr(p): v for p, v in jax.tree_util.tree_flatten_with_path(stored)[0]
  }
  paths, treedef = jax.tree_util.tree_flatten_with_path(fresh_params)
  leaves, missing = [], []
  for path, fresh in paths:
    key = jax.tree_util.keystr(path)
    if key not in stored_flat:
      missing.append(key)
      leaves.append(fresh)
      continue
    value = stored_flat[key]
    if tuple(value.shape) != tuple(fresh.shape):
      raise CheckpointError(
          f'{state_dir}: param {key} has shape {tuple(value.shape)}, '
          f'the model expects {tuple(fresh.shape)}'
      )
    leaves.append(jax.device_put(value.astype(fresh.dtype), fresh.sharding))
  if missing and not cfg.fallback_to_scratch:
    raise CheckpointError(
        f'{state_dir} lacks params {missing[:5]}; set '
        'RestoreCheckpointConfig.fallback_to_scratch=True to keep their '
        'fresh initialisation'
    )
  return jax.tree_util.tree_unflatten(treedef, leaves)
