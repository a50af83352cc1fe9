"""The `train(...)` entry point (T5X argument names): init/resume, loop, eval, checkpoints."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

import gin
import jax
import numpy as np
from jax.experimental import multihost_utils

from p5jax.training import checkpoints as ckpt_lib
from p5jax.training.data import (
    DatasetConfig,
    get_dataset,
    model_input_shapes,
    resolve_task,
    resumable_batches,
)
from p5jax.training.evaluation import InferenceEvaluator, TaskDecodingParams
from p5jax.training.optimizers import Optimizer, p5_adamw
from p5jax.training.partitioning import Partitioner
from p5jax.training.preemption import sigterm_flag
from p5jax.training.progress import ProgressReporter
from p5jax.training.train_eval import PeriodicEvaluator
from p5jax.training.train_state import TrainState
from p5jax.training.trainer import Trainer, describe_params


class NonFiniteLossError(FloatingPointError):
  """Training produced a NaN/inf loss or gradient; the message names the step and checkpoint."""


def _resolve_seed(random_seed: int | None) -> int:
  """`None` -> a time-based seed agreed by all hosts (as T5X); else the given seed."""
  if random_seed is not None:
    return int(random_seed)
  seed = np.int32(time.time_ns() % (2**31 - 1))
  return int(multihost_utils.broadcast_one_to_all(seed))


def _write_text(path: str, text: str) -> None:
  if jax.process_index() == 0:
    with open(path, 'w') as f:
      f.write(text)


def _check_finite(metrics: dict[str, Any], step: int, checkpointer: ckpt_lib.Checkpointer):
  host = jax.device_get(
      {k: metrics[k] for k in ('loss', 'grad_norm', 'param_norm') if k in metrics}
  )
  bad = {k: float(v) for k, v in host.items() if not math.isfinite(float(v))}
  if bad:
    checkpointer.wait()
    last = checkpointer.latest_step()
    where = (
        os.path.join(checkpointer.directory, f'checkpoint_{last}')
        if last is not None
        else 'none saved'
    )
    raise NonFiniteLossError(
        f'non-finite {bad} at step {step}; training stopped. The last '
        f'good checkpoint is intact: {where}'
    )
  return host


def train(
    *,
    model: Any,
    train_dataset_cfg: DatasetConfig,
    model_dir: str,
    total_steps: int,
    partitioner: Partitioner | None = None,
    optimizer: Optimizer | None = None,
    train_eval_dataset_cfg: DatasetConfig | None = None,
    infer_eval_dataset_cfg: DatasetConfig | None = None,
    checkpoint_cfg: ckpt_lib.CheckpointConfig | None = None,
    eval_period: int | None = None,
    eval_steps: int = 20,
    stats_period: int = 100,
    random_seed: int | None = None,
    num_microbatches: int = 1,
    run_eval_before_training: bool = False,
    task_decoding_params: TaskDecodingParams | None = None,
    final_evaluation: Callable[[], Any] | None = None,
    get_dataset_fn: Callable = get_dataset,
) -> tuple[int, TrainState]:
  """Train `model` on `train_dataset_cfg` for `total_steps` optimizer steps.

  Resumes from the latest `MODEL_DIR/checkpoint_<step>` (params, optimizer state, step and
  input position: the resumed run sees exactly the batches a straight run would); otherwise
  initialises from `checkpoint_cfg.restore.path` or from scratch. Saves every
  `checkpoint_cfg.save.period` steps, at the end and on SIGTERM. Every `eval_period` steps
  runs teacher-forced eval on `train_eval_dataset_cfg` (`eval_steps` batches per task) and
  inference eval (`seqio.Evaluator`) on `infer_eval_dataset_cfg`. When training completes,
  calls `final_evaluation()` (e.g. a gin-scoped `evaluation.evaluate` of `model_dir`).
  Returns (step, state).
  """
  for cfg in (train_dataset_cfg, train_eval_dataset_cfg, infer_eval_dataset_cfg):
    if cfg is not None:
      resolve_task(cfg)  # fail on a bad name before any work
  os.makedirs(model_dir, exist_ok=True)
  partitioner = partitioner or Partitioner()
  checkpoint_cfg = checkpoint_cfg or ckpt_lib.CheckpointConfig()
  save_cfg = checkpoint_cfg.save or ckpt_lib.SaveCheckpointConfig(period=total_steps)
  checkpointer = ckpt_lib.Checkpointer(
      model_dir, keep=save_cfg.keep, async_save=save_cfg.async_save
  )
  try:
    latest = checkpointer.latest_step()
    resume_input = checkpointer.restore_input_state(latest) if latest is not None else {}
    if random_seed is None and latest is not None:  # resume with the run's first seed
      random_seed = resume_input['seed']
    seed = _resolve_seed(random_seed)
    if train_dataset_cfg.shuffle and train_dataset_cfg.seed is None:
      train_dataset_cfg = dataclasses.replace(train_dataset_cfg, seed=seed)
    layout = partitioner.get_data_layout(train_dataset_cfg.batch_size)
    trainer = Trainer(
        model,
        optimizer or p5_adamw(total_steps=total_steps),
        partitioner,
        model_input_shapes(model, train_dataset_cfg),
        num_microbatches=num_microbatches,
    )
    state, start_batch = _initial_state(
        trainer, checkpointer, checkpoint_cfg.restore, seed, train_dataset_cfg
    )
    _write_text(
        os.path.join(model_dir, 'model-info.txt'),
        describe_params(trainer.abstract_state, partitioner),
    )
    _write_text(os.path.join(model_dir, 'config.gin'), gin.operative_config_str())
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
            log_dir=os.path.join(model_dir, 'inference_eval'),
            task_decoding_params=task_decoding_params,
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
        },
    )
    batches = resumable_batches(
        get_dataset_fn(train_dataset_cfg, layout, model), start_batch, resume_input
    )
    loop.input_position = getattr(batches, 'input_state', dict)  # e.g. P5 stream positions
    if int(state.step) == 0 and latest is None:
      loop.save(state)
    if run_eval_before_training:
      evals(state.params, int(state.step))
    step, state = loop.run(
        state, batches, jax.random.key(seed + 1), train_dataset_cfg.mixture_or_task_name
    )
  finally:
    checkpointer.close()  # waits for pending saves, also when training fails
  if final_evaluation is not None and step >= total_steps:
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
  ):
    self.trainer, self.checkpointer, self.evals = trainer, checkpointer, evals
    self.total_steps, self.save_period = total_steps, save_period
    self.stats_period, self.eval_period = stats_period, eval_period
    self.model_dir, self.input_state = model_dir, input_state
    self.input_position: Callable[[], dict[str, Any]] = dict

  def save(self, state: TrainState) -> None:
    step = int(state.step)
    position = {**self.input_state, **self.input_position(), 'batches_consumed': step}
    self.checkpointer.save(step, state.to_dict(), position)

  def run(
      self, state: TrainState, batches, rng: jax.Array, data_name: str
  ) -> tuple[int, TrainState]:
    partitioner, step = self.trainer.partitioner, int(state.step)
    reporter = ProgressReporter(os.path.join(self.model_dir, 'train'), self.total_steps, step)
    pending = None
    with sigterm_flag() as preempted:
      while step < self.total_steps:
        try:
          batch = next(batches)
        except StopIteration:
          raise ValueError(f'{data_name!r} ran out of data at step {step}') from None
        reporter.count_tokens(float(batch['decoder_loss_weights'].sum()) * jax.process_count())
        state, metrics = self.trainer.train_step(state, partitioner.shard_batch(batch), rng)
        if pending is not None:  # one step behind, so the host never stalls the device
          _check_finite(*pending, self.checkpointer)
        step += 1
        pending = (metrics, step)
        stop = bool(preempted)  # one cross-host agreement per step
        save_now = bool(
            stop or step == self.total_steps or (self.save_period and step % self.save_period == 0)
        )
        if save_now or step % self.stats_period == 0:
          host = _check_finite(metrics, step, self.checkpointer)
          pending = None
          reporter.report(step, jax.device_get(metrics) | host)
        if save_now:
          self.save(state)
        if stop:
          logging.warning('stopped at step %d after SIGTERM; checkpoint saved', step)
          break
        if self.eval_period and step % self.eval_period == 0:
          reporter.pause()
          self.evals(state.params, step)
          reporter.resume()
    reporter.close()
    return step, state


def _initial_state(
    trainer: Trainer,
    checkpointer: ckpt_lib.Checkpointer,
    restore_cfg: ckpt_lib.RestoreCheckpointConfig | None,
    seed: int,
    dataset_cfg: DatasetConfig,
) -> tuple[TrainState, int]:
  """(state, batches already consumed): resume > initial checkpoint > scratch."""
  latest = checkpointer.latest_step()
  if latest is not None:
    restored, input_state = checkpointer.restore(latest, trainer.abstract_state.to_dict())
    if input_state.get('dataset_seed') != dataset_cfg.seed:
      raise ValueError(
          f"{checkpointer.directory}/checkpoint_{latest} was written with "
          f"input seed {input_state.get('dataset_seed')}, but this run's "
          f"seed is {dataset_cfg.seed}; set RANDOM_SEED (or the dataset "
          "seed) to the original value to resume exactly"
      )
    logging.info('resumed from checkpoint_%d', latest)
    return (
        trainer.abstract_state.replace_from_dict(restored),
        int(input_state['batches_consumed']),
    )
  fresh = trainer.init_state(jax.random.key(seed))
  if restore_cfg is not None and restore_cfg.path:
    params = ckpt_lib.restore_params(restore_cfg, fresh.params)
    logging.info('initialised params from %s', restore_cfg.path)
    return trainer.state_from_params(params), 0
  return fresh, 0
