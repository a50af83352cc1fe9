"""The `train(...)` entry point (T5X argument names): init/resume, loop, eval, checkpoints."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import gin
import jax
import numpy as np
from jax.experimental import multihost_utils

from p5jax import paths
from p5jax.errors import UserError
from p5jax.training import checkpoints as ckpt_lib
from p5jax.training import run_lock
from p5jax.training.data import (
    DatasetConfig,
    get_dataset,
    model_input_shapes,
    resolve_task,
    resumable_batches,
)
from p5jax.training.evaluation import EvalSettings, InferenceEvaluator, TaskDecodingParams
from p5jax.training.multihost import on_process_zero
from p5jax.training.optimizers import Optimizer, p5_adamw
from p5jax.training.partitioning import Partitioner
from p5jax.training.preemption import DEFAULT_CHECK_EVERY, preemption_watcher
from p5jax.training.progress import ProgressReporter
from p5jax.training.resume import check_input_layout, resume_latest
from p5jax.training.train_clock import TrainClock
from p5jax.training.train_eval import PeriodicEvaluator
from p5jax.training.train_state import TrainState
from p5jax.training.trainer import Trainer, describe_params


class NonFiniteLossError(UserError, FloatingPointError):
  """Training produced a NaN/inf loss or gradient; the message names the step and checkpoint."""


class Preempted(Exception):  # noqa: N818 - a stop, not an error
  """Training stopped at a preemption notice (SIGTERM) after saving a checkpoint.

  Not a failure of the run: rerunning the same command resumes it. The `p5jax` command line
  exits with status 75 (`p5jax.errors.EXIT_PREEMPTED`). `step` is the step saved."""

  def __init__(self, message: str, step: int):
    super().__init__(message)
    self.step = step


def _resolve_seed(random_seed: int | None) -> int:
  """`None` -> a time-based seed agreed by all hosts (as T5X); else the given seed."""
  if random_seed is not None:
    return int(random_seed)
  seed = np.int32(time.time_ns() % (2**31 - 1))
  return int(multihost_utils.broadcast_one_to_all(seed))


def _write_text(path: str, text: str) -> None:
  if jax.process_index() == 0:
    paths.write_text_atomic(path, text)


def _checkpoint_status(checkpointer: ckpt_lib.Checkpointer) -> str:
  """The latest checkpoint and whether it matches its checksums (never 'good' unverified)."""
  checkpointer.wait()
  last = checkpointer.latest_step()
  if last is None:
    return 'no checkpoint was saved'
  where = checkpointer.step_dir(last)
  try:
    verified = ckpt_lib.verify_checksums(where)
  except ckpt_lib.DamagedCheckpointError as e:
    return f'the latest checkpoint is damaged: {e}'
  return f'the latest checkpoint is {where}' + (
      ' (it matches its checksums)' if verified else ' (unverified: it has no checksums)'
  )


def _check_finite(metrics: dict[str, Any], step: int, checkpointer: ckpt_lib.Checkpointer):
  host = jax.device_get(
      {k: metrics[k] for k in ('loss', 'grad_norm', 'param_norm') if k in metrics}
  )
  bad = {k: float(v) for k, v in host.items() if not math.isfinite(float(v))}
  if bad:
    raise NonFiniteLossError(
        f'non-finite {bad} at step {step}; training stopped. {_checkpoint_status(checkpointer)}; '
        'rerunning resumes from it and replays the same steps: lower LEARNING_RATE or check '
        'the input first'
    )
  return host


def train(
    *,
    model: Any,
    train_dataset_cfg: DatasetConfig,
    train_eval_dataset_cfg: DatasetConfig | None = None,
    infer_eval_dataset_cfg: DatasetConfig | None = None,
    checkpoint_cfg: ckpt_lib.CheckpointConfig | None = None,
    partitioner: Partitioner | None = None,
    optimizer: Optimizer | None = None,
    model_dir: str,
    total_steps: int,
    eval_steps: int = 20,
    eval_period: int | None = None,
    stats_period: int = 100,
    random_seed: int | None = None,
    get_dataset_fn: Callable = get_dataset,
    run_eval_before_training: bool = False,
    num_microbatches: int = 1,
    task_decoding_params: TaskDecodingParams | None = None,
    final_evaluation: Callable[[], Any] | None = None,
    preemption_check_every: int = DEFAULT_CHECK_EVERY,
    max_train_minutes: float | None = None,
) -> tuple[int, TrainState]:
  """Train `model` on `train_dataset_cfg` for `total_steps` optimizer steps.

  Resumes from the latest `MODEL_DIR/checkpoint_<step>` (params, optimizer state, step and
  input position: the resumed run sees exactly the batches a straight run would), after
  checking its checksums (`checkpoint_cfg.restore.fallback_to_previous` falls back past a
  damaged one); otherwise initialises from `checkpoint_cfg.restore.path` or from scratch.
  Holds `MODEL_DIR/p5jax-train.lock` while it runs (a second trainer refuses to start). Saves
  every `checkpoint_cfg.save.period` steps and at the end. On SIGTERM every process saves and
  `Preempted` is raised (evaluation skipped; rerun to resume). Every `eval_period` steps runs
  teacher-forced eval on `train_eval_dataset_cfg` (`eval_steps` batches per task) and inference
  eval (`seqio.Evaluator`) on `infer_eval_dataset_cfg`. When training completes, calls
  `final_evaluation()` (e.g. a gin-scoped `evaluation.evaluate` of `model_dir`).
  `preemption_check_every`: steps between the cross-process checks for a SIGTERM when JAX's
  preemption service is off (one process checks every step, for free). `max_train_minutes`:
  a wall-clock budget for the training loop (compilation included, evaluations excluded); when
  it runs out the run saves and finishes early (the final evaluation still runs), for bounded
  CPU recipes whose schedule is sized to the budget. `MODEL_DIR/train/summary.json` records
  the steps, examples, target tokens and training seconds of the run. Returns (step, state).

  The arguments stand in `t5x.train`'s order; p5jax's own (`optimizer`, `num_microbatches`,
  the hooks and budgets) follow their nearest T5X neighbour.
  """
  for cfg in (train_dataset_cfg, train_eval_dataset_cfg, infer_eval_dataset_cfg):
    if cfg is not None:
      resolve_task(cfg)  # fail on a bad name before any work
  model_dir = paths.as_str(model_dir)
  on_process_zero(lambda: paths.ensure_dir(model_dir, 'MODEL_DIR'), 'creating MODEL_DIR')
  partitioner = partitioner or Partitioner()
  checkpoint_cfg = checkpoint_cfg or ckpt_lib.CheckpointConfig()
  save_cfg = checkpoint_cfg.save or ckpt_lib.SaveCheckpointConfig(period=total_steps)
  restore_cfg = checkpoint_cfg.restore
  with contextlib.ExitStack() as cleanup:  # on the way out: close the checkpointer, unlock
    lock = run_lock.RunLock(model_dir)
    on_process_zero(lock.acquire, 'locking MODEL_DIR')
    if jax.process_index() == 0:
      cleanup.callback(lock.release)
    checkpointer = ckpt_lib.Checkpointer(
        model_dir, keep=save_cfg.keep, async_save=save_cfg.async_save
    )
    cleanup.callback(checkpointer.close)  # waits for pending saves, also when training fails
    layout = partitioner.get_data_layout(train_dataset_cfg.batch_size)
    trainer = Trainer(
        model,
        optimizer or p5_adamw(total_steps=total_steps),
        partitioner,
        model_input_shapes(model, train_dataset_cfg),
        num_microbatches=num_microbatches,
    )
    resumed = resume_latest(
        trainer, checkpointer, bool(restore_cfg and restore_cfg.fallback_to_previous)
    )
    input_state = resumed[1] if resumed else {}
    if random_seed is None and resumed:  # resume with the run's first seed
      random_seed = input_state['seed']
    seed = _resolve_seed(random_seed)
    if train_dataset_cfg.shuffle and train_dataset_cfg.seed is None:
      train_dataset_cfg = dataclasses.replace(train_dataset_cfg, seed=seed)
    if resumed:
      check_input_layout(checkpointer, input_state, train_dataset_cfg, layout)
      state, start_batch = resumed[0], int(input_state['batches_consumed'])
    else:
      state, start_batch = _fresh_state(trainer, restore_cfg, seed), 0
    _write_text(
        paths.join(model_dir, 'model-info.txt'),
        describe_params(trainer.abstract_state, partitioner),
    )
    _write_text(paths.join(model_dir, 'config.gin'), gin.operative_config_str())
    evals = PeriodicEvaluator(
        trainer,
        layout,
        model_dir,
        train_eval_dataset_cfg,
        eval_steps,
        InferenceEvaluator(
            infer_eval_dataset_cfg,
            model,
            partitioner,
            log_dir=paths.join(model_dir, 'inference_eval'),
            settings=EvalSettings(task_decoding_params=task_decoding_params),
        )
        if infer_eval_dataset_cfg is not None and eval_period
        else None,
    )
    loop = _TrainLoop(
        trainer,
        checkpointer,
        evals,
        total_steps=total_steps,
        save_period=save_cfg.period,
        stats_period=stats_period,
        eval_period=eval_period,
        model_dir=model_dir,
        input_state={
            'seed': seed,
            'dataset_seed': train_dataset_cfg.seed,
            'num_shards': layout.num_shards,
            'batch_size': train_dataset_cfg.batch_size,
        },
        preemption_check_every=preemption_check_every,
        max_train_seconds=None if max_train_minutes is None else 60.0 * max_train_minutes,
    )
    batches = resumable_batches(
        get_dataset_fn(train_dataset_cfg, layout, model), start_batch, input_state
    )
    loop.input_position = getattr(batches, 'input_state', dict)  # e.g. P5 stream positions
    if int(state.step) == 0 and not resumed:
      loop.save(state)
    if run_eval_before_training:
      evals(state.params, int(state.step))
    step, state, preempted, out_of_time = loop.run(
        state, batches, jax.random.key(seed + 1), train_dataset_cfg.mixture_or_task_name
    )
  if preempted:
    skipped = '; the final evaluation was skipped' if final_evaluation is not None else ''
    raise Preempted(
        f'stopped by SIGTERM at step {step} of {total_steps} with '
        f'{ckpt_lib.checkpoint_dir(model_dir, step)} saved{skipped}; rerun the same command to '
        'resume',
        step,
    )
  if final_evaluation is not None and (step >= total_steps or out_of_time):
    final_evaluation()  # reads the final checkpoint in model_dir
  return step, state


class _TrainLoop:
  """Steps, progress reports, NaN checks, periodic/final/preemption saves and evals."""

  def __init__(
      self,
      trainer: Trainer,
      checkpointer: ckpt_lib.Checkpointer,
      evals: PeriodicEvaluator,
      *,
      total_steps: int,
      save_period: int | None,
      stats_period: int,
      eval_period: int | None,
      model_dir: str,
      input_state: dict[str, Any],
      preemption_check_every: int = DEFAULT_CHECK_EVERY,
      max_train_seconds: float | None = None,
  ):
    self.max_train_seconds = max_train_seconds
    self.trainer, self.checkpointer, self.evals = trainer, checkpointer, evals
    self.total_steps, self.save_period = total_steps, save_period
    self.stats_period, self.eval_period = stats_period, eval_period
    self.model_dir, self.input_state = model_dir, input_state
    self.preemption_check_every = preemption_check_every
    self.input_position: Callable[[], dict[str, Any]] = dict

  def save(self, state: TrainState) -> None:
    step = int(state.step)
    position = {**self.input_state, **self.input_position(), 'batches_consumed': step}
    self.checkpointer.save(step, state.to_dict(), position)

  def run(
      self, state: TrainState, batches, rng: jax.Array, data_name: str
  ) -> tuple[int, TrainState, bool, bool]:
    """Trains to `total_steps`: (step, state, whether it stopped on a preemption notice,
    whether it stopped because `max_train_seconds` ran out)."""
    partitioner, step = self.trainer.partitioner, int(state.step)
    reporter = ProgressReporter(paths.join(self.model_dir, 'train'), self.total_steps, step)
    pending, stop, out_of_time = None, False, False
    clock = TrainClock(self.max_train_seconds, self.stats_period)
    with preemption_watcher(self.preemption_check_every) as preempted:
      while step < self.total_steps:
        try:
          batch = next(batches)
        except StopIteration:
          raise ValueError(f'{data_name!r} ran out of data at step {step}') from None
        reporter.count_batch(batch, jax.process_count())
        state, metrics = self.trainer.train_step(state, partitioner.shard_batch(batch), rng)
        if pending is not None:  # one step behind, so the host never stalls the device
          _check_finite(*pending, self.checkpointer)
        step += 1
        pending = (metrics, step)
        stop = preempted(step)  # the same answer on every process, at the same step
        out_of_time = clock.out_of_time(step)  # likewise
        save_now = bool(
            stop
            or out_of_time
            or step == self.total_steps
            or (self.save_period and step % self.save_period == 0)
        )
        if save_now or step % self.stats_period == 0:
          host = _check_finite(metrics, step, self.checkpointer)
          pending = None
          reporter.report(step, jax.device_get(metrics) | host)
        if save_now:
          self.save(state)
        if stop:
          logging.warning('stopped at step %d on a preemption notice; checkpoint saved', step)
          break
        if out_of_time:
          logging.warning(
              'stopped at step %d of %d: the %.1f-minute training budget ran out; checkpoint '
              'saved',
              step,
              self.total_steps,
              self.max_train_seconds / 60,
          )
          break
        if self.eval_period and step % self.eval_period == 0:
          reporter.pause()
          clock.pause()
          self.evals(state.params, step)
          reporter.resume()
          clock.resume()
    reporter.close(
        summary={
            'steps': step,
            'total_steps': self.total_steps,
            'train_seconds': clock.elapsed(),
            'stopped_by': 'preemption' if stop else 'time' if out_of_time else 'steps',
        }
    )
    return step, state, stop, out_of_time


def _fresh_state(
    trainer: Trainer, restore_cfg: ckpt_lib.RestoreCheckpointConfig | None, seed: int
) -> TrainState:
  """A new state: params from `restore_cfg.path` when set, else initialised with `seed`."""
  fresh = trainer.init_state(jax.random.key(seed))
  if restore_cfg is not None and restore_cfg.path:
    params = ckpt_lib.restore_params(restore_cfg, fresh.params)
    logging.info('initialised params from %s', restore_cfg.path)
    return trainer.state_from_params(params)
  return fresh
