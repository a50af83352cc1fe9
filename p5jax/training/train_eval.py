"""Teacher-forced evaluation on held-out batches (T5X's `training_eval/<task>`)."""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
import seqio
from clu import metric_writers

from p5jax.metrics.tables import format_blocks
from p5jax.training.data import DatasetConfig, get_dataset, resolve_task
from p5jax.training.evaluation import InferenceEvaluator
from p5jax.training.partitioning import DataLayout
from p5jax.training.trainer import Trainer


def run_train_eval(
    trainer: Trainer,
    params: Any,
    cfg: DatasetConfig,
    layout: DataLayout,
    eval_steps: int,
    log_dir: str,
    step: int,
) -> dict[str, dict[str, float]]:
  """Mean eval metrics over `eval_steps` batches of each task; written to TensorBoard."""
  results = {}
  for task in seqio.get_subtasks(resolve_task(cfg)):
    if cfg.split not in task.splits:
      continue
    task_cfg = DatasetConfig(
        task.name,
        cfg.task_feature_lengths,
        cfg.split,
        cfg.batch_size,
        shuffle=False,
        seed=cfg.seed,
        use_cached=cfg.use_cached,
        pack=cfg.pack,
    )
    ds = get_dataset(task_cfg, layout, trainer.model, num_epochs=1).take(eval_steps)
    sums, n = {}, 0
    for batch in ds.as_numpy_iterator():
      out = jax.device_get(trainer.eval_step(params, trainer.partitioner.shard_batch(batch)))
      for k, v in out.items():
        sums[k] = sums.get(k, 0.0) + float(np.asarray(v))
      n += 1
    if not n:
      continue
    results[task.name] = {k: v / n for k, v in sums.items()}
    writer = metric_writers.create_default_writer(
        os.path.join(log_dir, task.name), just_logging=jax.process_index() > 0
    )
    writer.write_scalars(step, results[task.name])
    writer.close()
  return results


class PeriodicEvaluator:
  """What the train loop runs every `eval_period` steps: teacher-forced + inference eval."""

  def __init__(
      self,
      trainer: Trainer,
      layout: DataLayout,
      model_dir: str,
      train_eval_cfg: DatasetConfig | None,
      eval_steps: int,
      inference_evaluator: InferenceEvaluator | None,
  ):
    self.trainer, self.layout, self.model_dir = trainer, layout, model_dir
    self.train_eval_cfg, self.eval_steps = train_eval_cfg, eval_steps
    self.inference_evaluator = inference_evaluator

  def __call__(self, params: Any, step: int) -> None:
    if self.train_eval_cfg is not None:
      run_train_eval(
          self.trainer,
          params,
          self.train_eval_cfg,
          self.layout,
          self.eval_steps,
          os.path.join(self.model_dir, 'training_eval'),
          step,
      )
    if self.inference_evaluator is not None:
      results = self.inference_evaluator.evaluate(params, step)
      if jax.process_index() == 0:
        print(format_blocks(results), flush=True)
