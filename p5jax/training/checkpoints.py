"""Orbax checkpoints of the train state and the input position (T5X `MODEL_DIR` layout).

`MODEL_DIR/checkpoint_<step>/{state,input}`: `state` holds step, params and optimizer state as
sharded arrays; `input` is a small JSON with the number of batches consumed and the shuffle
seed, enough for an exact resume (see `p5jax.training.data`).

Integrity: when every process has written its part of a checkpoint, process 0 writes
`checkpoint_<step>/p5jax-checksums.json`, the sha256 of every file in it, before orbax commits
the directory (so a checkpoint and its checksums appear together). Restoring (resume,
evaluation, inference) checks them first: a changed or missing file is a `CheckpointError` that
names the checkpoint and the previous one, and `RestoreCheckpointConfig.fallback_to_previous`
(gin macro `FALLBACK_TO_PREVIOUS_CHECKPOINT`) falls back to that one instead (a training run
moves the damaged checkpoint aside to `MODEL_DIR/damaged_checkpoint_<step>`). A checkpoint
without the file (the process died between the commit and the checksums, or it was written
elsewhere) is restored with a warning that it is unverified. Paths go through `p5jax.paths`
(local, `file://` or `gs://`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import jax
import orbax.checkpoint as ocp
from etils import epath
from jax.experimental import multihost_utils

from p5jax import paths
from p5jax.errors import one_line
from p5jax.models.param_tree import fill_params
from p5jax.training.checksums import CHECKSUMS as CHECKSUMS
from p5jax.training.checksums import CheckpointError as CheckpointError
from p5jax.training.checksums import DamagedCheckpointError as DamagedCheckpointError
from p5jax.training.checksums import verify_checksums as verify_checksums
from p5jax.training.checksums import write_checksums as write_checksums
from p5jax.training.multihost import on_process_zero

_STEP_PREFIX = 'checkpoint'
DAMAGED_PREFIX = 'damaged_'
FALLBACK_MACRO = 'FALLBACK_TO_PREVIOUS_CHECKPOINT'
_TMP_SUFFIX = '.orbax-checkpoint-tmp'  # orbax's name for a step directory not yet committed


@dataclasses.dataclass(frozen=True)
class SaveCheckpointConfig:
  """`period`: save every this many steps (and at the end); `keep`: newest N kept (None=all)."""

  period: int = 1000
  keep: int | None = None
  async_save: bool = True


@dataclasses.dataclass(frozen=True)
class RestoreCheckpointConfig:
  """Where to initialise from when `MODEL_DIR` has no checkpoint of its own, and how to treat
  a damaged checkpoint.

  `path` is a `checkpoint_<step>` directory or a directory holding them (then the latest is
  used), or a Hugging Face T5 directory (`config.json` + weights: P5's pretrained start, see
  `p5jax.models.hf_convert.hf_initial_params`). Only params are taken (fine-tuning starts with
  a fresh optimizer). With `fallback_to_scratch`, params absent from the checkpoint keep their
  fresh init (e.g. P5's whole-word embedding on top of T5 weights); otherwise a missing param
  is an error. `fallback_to_previous`: when the latest checkpoint (of `MODEL_DIR` on resume, or
  of `path`) fails its checksums or cannot be read, use the one before it instead of stopping.
  """

  path: str | None = None
  fallback_to_scratch: bool = False
  fallback_to_previous: bool = False


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
  save: SaveCheckpointConfig | None = dataclasses.field(default_factory=SaveCheckpointConfig)
  restore: RestoreCheckpointConfig | None = None


def checkpoint_dir(directory: str | epath.Path, step: int) -> epath.Path:
  return paths.path(directory) / f'{_STEP_PREFIX}_{step}'


def with_fallback_hint(
    error: CheckpointError,
    previous: epath.Path | None,
    none_hint: str = 'there is no earlier checkpoint: delete it to start over',
) -> DamagedCheckpointError:
  """`error` with what to do: the previous checkpoint and the flag that falls back to it."""
  if previous is None:
    hint = none_hint
  else:
    hint = (
        f'the previous checkpoint is {previous}: rerun with --gin.{FALLBACK_MACRO}=True to use it'
    )
  return DamagedCheckpointError(f'{error}; {hint}')


class Checkpointer:
  """Save / restore `{state, input}` under `directory` with keep-N and checksums."""

  def __init__(
      self,
      directory: str,
      keep: int | None = None,
      async_save: bool = True,
  ):
    self.directory = paths.as_str(directory)
    self._async = async_save
    self._pending: int | None = None
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep,
        step_prefix=_STEP_PREFIX,
        create=True,
        enable_async_checkpointing=async_save,
        async_options=(
            ocp.options.AsyncOptions(post_finalization_callback=self._on_written)
            if async_save
            else None
        ),
    )
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_names=('state', 'input')
    )

  def step_dir(self, step: int) -> epath.Path:
    return checkpoint_dir(self.directory, step)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def previous_step(self, step: int) -> int | None:
    earlier = [s for s in self.all_steps() if s < step]
    return max(earlier) if earlier else None

  def _on_written(self) -> None:
    """Writes the checksums of the save in flight once all its files are written: orbax calls
    this on process 0 after every process has written, before it commits (renames) the
    directory, so the checksums are committed with the checkpoint. A sync save calls it after
    the commit."""
    step, self._pending = self._pending, None
    if step is None or jax.process_index() != 0:
      return
    final = self.step_dir(step)
    uncommitted = [d for d in final.parent.glob(f'{final.name}{_TMP_SUFFIX}*') if d.is_dir()]
    try:
      write_checksums(uncommitted[0] if uncommitted else final)
    except Exception:  # a failure here must not kill training; the checkpoint stays unverified
      logging.exception('could not write the checksums of %s', final)

  def save(self, step: int, state: dict[str, Any], input_state: dict[str, Any]) -> None:
    self._manager.wait_until_finished()  # one save in flight: `_pending` names it
    self._pending = step
    self._manager.save(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), input=ocp.args.JsonSave(input_state)
        ),
        force=True,  # the caller decides when to save (every period, at the end, on SIGTERM)
    )
    if not self._async:
      self._on_written()

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def verify(self, step: int) -> bool:
    """True if checkpoint `step` matches its checksums, False if it has none (a warning is
    logged); a `CheckpointError` naming it and the previous checkpoint when it is damaged."""
    step_dir = self.step_dir(step)
    try:
      verified = on_process_zero(
          lambda: verify_checksums(step_dir), f'verifying {step_dir}', DamagedCheckpointError
      )
    except DamagedCheckpointError as e:
      raise self._hint(e, step) from None
    if not verified:
      logging.warning(
          '%s has no %s (the run stopped before writing them): restoring it unverified',
          step_dir,
          CHECKSUMS,
      )
    return verified

  def _hint(self, error: CheckpointError, step: int) -> DamagedCheckpointError:
    previous = self.previous_step(step)
    return with_fallback_hint(error, None if previous is None else self.step_dir(previous))

  def move_aside(self, step: int) -> epath.Path:
    """Moves a damaged checkpoint to `MODEL_DIR/damaged_checkpoint_<step>[_k]`, out of the
    way of the step being saved again; returns where."""
    source = self.step_dir(step)

    def move() -> str:
      target = source.parent / f'{DAMAGED_PREFIX}{source.name}'
      k = 1
      while target.exists():
        k += 1
        target = source.parent / f'{DAMAGED_PREFIX}{source.name}_{k}'
      source.rename(target)
      return str(target)

    where = move() if jax.process_index() == 0 else ''
    if jax.process_count() > 1:
      multihost_utils.sync_global_devices(f'p5jax_move_aside_{step}')
    self._manager.reload()
    return paths.path(where) if where else source

  def restore(
      self, step: int, abstract_state: dict[str, Any]
  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """State (in the shardings of `abstract_state`) and the input position at `step`, after
    checking the checksums."""
    self.verify(step)
    try:
      out = self._manager.restore(
          step,
          args=ocp.args.Composite(
              state=ocp.args.StandardRestore(abstract_state), input=ocp.args.JsonRestore()
          ),
      )
    except Exception as e:  # orbax raises many types for a damaged directory
      raise self._hint(
          DamagedCheckpointError(f'cannot restore checkpoint {self.step_dir(step)}: {_brief(e)}'),
          step,
      ) from e
    return out['state'], out['input']

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def _brief(error: Exception) -> str:
  """An exception in one short line (orbax/tensorstore messages can span many)."""
  text = one_line(str(error))
  return f'{type(error).__name__}: {text[:300]}'


def _candidates(path: str) -> list[epath.Path]:
  """The checkpoints `path` names, newest first: itself when it holds `state`, else its
  `checkpoint_<step>` subdirectories."""
  root = paths.path(path)
  if (root / 'state').is_dir():
    return [root]
  steps = (
      sorted(
          (
              int(d.name.split('_')[-1])
              for d in root.iterdir()
              if d.name.startswith(_STEP_PREFIX + '_') and d.name.split('_')[-1].isdigit()
          ),
          reverse=True,
      )
      if root.is_dir()
      else []
  )
  if not steps:
    raise CheckpointError(
        f'no checkpoint found at {root} (expected a checkpoint_<step> '
        'directory or a directory containing them)'
    )
  return [checkpoint_dir(root, step) for step in steps]


def _step_of(checkpoint: epath.Path) -> int:
  prefix, _, step = checkpoint.name.rpartition('_')
  return int(step) if prefix == _STEP_PREFIX and step.isdigit() else 0


def checkpoint_step(path: str) -> int:
  """The step of the checkpoint `path` names: `checkpoint_<step>` itself or, for a model
  directory, its latest one (0 for a directory not named `checkpoint_<step>`)."""
  return _step_of(_candidates(path)[0])


def restore_config(cfg: RestoreCheckpointConfig | None, model_dir: str) -> RestoreCheckpointConfig:
  """`cfg` (default: the default config) reading `model_dir` when it names no path; its other
  settings (e.g. `fallback_to_previous`) are kept."""
  cfg = cfg or RestoreCheckpointConfig()
  return cfg if cfg.path is not None else dataclasses.replace(cfg, path=model_dir)


def restore_params(cfg: RestoreCheckpointConfig, fresh_params: Any) -> Any:
  """Params from `cfg.path` placed like `fresh_params`; see `RestoreCheckpointConfig`.

  The stored tree is read whole, so this is for initialisation only (not for resuming).
  A Hugging Face T5 directory is converted (`p5jax.models.hf_convert.hf_initial_params`).
  """
  return restore_params_and_step(cfg, fresh_params)[0]


def restore_params_and_step(cfg: RestoreCheckpointConfig, fresh_params: Any) -> tuple[Any, int]:
  """`restore_params` and the step of the checkpoint read (an earlier one than the latest
  after a fallback, see `RestoreCheckpointConfig.fallback_to_previous`; 0 for a Hugging Face
  directory)."""
  from p5jax.models import hf_convert

  if hf_convert.is_hf_checkpoint(cfg.path):
    params = hf_convert.hf_initial_params(
        cfg.path, fresh_params, fallback_to_scratch=cfg.fallback_to_scratch
    )
    return params, 0
  candidates = _candidates(cfg.path)
  for i, checkpoint in enumerate(candidates):
    previous = candidates[i + 1] if i + 1 < len(candidates) else None
    try:
      return _params_from(checkpoint, cfg, fresh_params), _step_of(checkpoint)
    except DamagedCheckpointError as e:
      if not (cfg.fallback_to_previous and previous is not None):
        raise with_fallback_hint(e, previous, 'no earlier checkpoint to fall back to') from None
      logging.warning('%s; falling back to %s', e, previous)
  raise AssertionError('unreachable')


def _params_from(checkpoint: epath.Path, cfg: RestoreCheckpointConfig, fresh_params: Any) -> Any:
  if not on_process_zero(
      lambda: verify_checksums(checkpoint), f'verifying {checkpoint}', DamagedCheckpointError
  ):
    logging.warning('%s has no %s: restoring it unverified', checkpoint, CHECKSUMS)
  state_dir = checkpoint / 'state' if (checkpoint / 'state').is_dir() else checkpoint
  try:
    stored = ocp.StandardCheckpointer().restore(state_dir)['params']
  except Exception as e:  # orbax raises many types for a damaged directory
    raise DamagedCheckpointError(
        f'cannot restore params from checkpoint {checkpoint}: {_brief(e)}'
    ) from e
  params, missing = fill_params(
      fresh_params, stored, lambda message: CheckpointError(f'{state_dir}: {message}')
  )
  if missing and not cfg.fallback_to_scratch:
    raise CheckpointError(
        f'{state_dir} lacks params {missing[:5]}; set '
        'RestoreCheckpointConfig.fallback_to_scratch=True to keep their '
        'fresh initialisation'
    )
  return params
