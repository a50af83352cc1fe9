"""Inference evaluation with `seqio.Evaluator` and the `evaluate(...)` entry point.

One `seqio.Evaluator` per task, so each task can get its own decoding parameters (ranking tasks
need `num_decodes=k` and an item constraint; yes/no tasks a closed answer set) through the
`task_decoding_params(task) -> dict` hook. Metrics land in TensorBoard, in
`<output_dir>/results.json` as `{task: {metric: value}}`, and in a printed table.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np
import seqio

from p5jax import paths
from p5jax.training.checkpoints import RestoreCheckpointConfig, restore_params_and_step
from p5jax.training.data import DatasetConfig, feature_converter, resolve_task
from p5jax.training.infer_fns import ModelFns
from p5jax.training.partitioning import Partitioner
from p5jax.training.popularity_eval import RANKING_MODES, example_arrays, popularity_metrics
from p5jax.training.trainer import abstract_params

TaskDecodingParams = Callable[[seqio.Task], Mapping[str, Any] | None]
Results = dict[str, dict[str, float]]


def _text(value: Any) -> str:
  return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def _scalar(v: Any) -> float | None:
  v = getattr(v, 'value', v)  # seqio.metrics.Scalar
  try:
    return float(np.asarray(v))
  except (TypeError, ValueError):
    return None


class InferenceEvaluator:
  """Runs every task of `cfg.mixture_or_task_name` that has metrics; returns scalars."""

  def __init__(
      self,
      cfg: DatasetConfig,
      model: Any,
      partitioner: Partitioner,
      log_dir: str | None = None,
      task_decoding_params: TaskDecodingParams | None = None,
      num_examples: int | None = None,
  ):
    tasks = seqio.get_subtasks(resolve_task(cfg))
    self._cfg, self._model, self._partitioner = cfg, model, partitioner
    self._decoding = task_decoding_params or (lambda task: None)
    loggers = (seqio.TensorBoardLogger, seqio.JSONLogger) if log_dir else ()
    self.evaluators: dict[str, seqio.Evaluator] = {}
    self._params: dict[str, dict] = {}
    for task in tasks:
      if not task.metric_objs or cfg.split not in task.splits:
        continue
      self._params[task.name] = dict(self._decoding(task) or {})
      # `num_examples` counts queries: a yes/no ranking task has one row per candidate
      rows = (
          None
          if num_examples is None
          else num_examples * int(self._params[task.name].get('rows_per_query', 1))
      )
      self.evaluators[task.name] = seqio.Evaluator(
          task.name,
          feature_converter(model, pack=False),
          eval_split=cfg.split,
          sequence_length=cfg.task_feature_lengths,
          num_examples=rows,
          logger_cls=loggers,
          log_dir=log_dir,
          async_compute_metrics=False,
      )
    if not self.evaluators:
      raise ValueError(
          f'{cfg.mixture_or_task_name!r} has no task with metrics and a '
          f'{cfg.split!r} split to evaluate'
      )
    self._fns: dict[str, ModelFns] = {}

  def _examples(self, task_name: str, keys: Any) -> dict[str, np.ndarray]:
    """Features of the evaluated examples, aligned with the model dataset's indices."""
    ds = self.evaluators[task_name].cached_task_datasets[task_name]
    return example_arrays(ds.as_numpy_iterator(), keys)

  def _model_fns(self, task_name: str, param_shardings: Any) -> ModelFns:
    if task_name not in self._fns:
      params = {k: v for k, v in self._params[task_name].items() if k != 'rows_per_query'}
      keys = params.get('example_features', ())
      side = self._examples(task_name, keys) if keys else None
      self._fns[task_name] = ModelFns(
          self._model, self._partitioner, param_shardings, self._cfg.batch_size, params, side
      )
    return self._fns[task_name]

  def popularity(self) -> Results:
    """`{"popularity/<task>": metrics}` for every ranking task of a registered P5 dataset,
    on the same examples the model is evaluated on."""
    # P5 tasks are registered only by importing `p5jax.tasks`; importing it here would register
    # gin configurables after the config is locked, so an unloaded `tasks` means none.
    tasks = sys.modules.get('p5jax.tasks')
    results: Results = {}
    if tasks is None:
      return results
    for name in self.evaluators:
      try:
        info = tasks.task_info(name)
      except KeyError:
        continue
      if info.decoding is None or info.decoding.mode not in RANKING_MODES:
        continue
      ex = self._examples(name, ('user', 'item', 'candidates', 'targets_pretokenized'))
      ex['is_positive'] = np.asarray([_text(t) == 'yes' for t in ex.pop('targets_pretokenized')])
      metrics = popularity_metrics(
          seqio.get_mixture_or_task(name), info.decoding.mode, info.context(), ex
      )
      results[f'popularity/{name}'] = {
          k: s for k, v in metrics.items() if (s := _scalar(v)) is not None
      }
    return results

  def evaluate(self, params: Any, step: int) -> Results:
    shardings = jax.tree.map(lambda x: x.sharding, params)
    results: Results = {}
    for name, evaluator in self.evaluators.items():
      fns = self._model_fns(name, shardings)
      future, _ = evaluator.evaluate(
          compute_metrics=jax.process_index() == 0,
          step=step,
          predict_fn=functools.partial(fns.predict, params),
          score_fn=functools.partial(fns.score, params),
          predict_with_aux_fn=functools.partial(fns.predict_with_aux, params),
      )
      metrics = future.result() or {}
      results[name] = {
          k: s for k, v in metrics.get(name, {}).items() if (s := _scalar(v)) is not None
      }
    return results


def _table_order(results: Results) -> list[str]:
  """Model rows in their order, each followed by its `popularity/<task>` row."""
  order = []
  for name in results:
    if name.startswith('popularity/'):
      continue
    order.append(name)
    if f'popularity/{name}' in results:
      order.append(f'popularity/{name}')
  return order + [n for n in results if n not in order]


def format_table(results: Results) -> str:
  """P5 layout: tasks as rows (each popularity baseline under its task), metrics as columns
  (blank where a task lacks a metric)."""
  results = {name: results[name] for name in _table_order(results)}
  metrics = sorted({m for r in results.values() for m in r})
  width = max([len(t) for t in results] + [4])
  head = f"{'task':<{width}}  " + '  '.join(f'{m:>12s}' for m in metrics)
  rows = [
      f'{t:<{width}}  ' + '  '.join(f'{r[m]:12.4f}' if m in r else ' ' * 12 for m in metrics)
      for t, r in results.items()
  ]
  return '\n'.join([head, '-' * len(head)] + rows)


def write_results(results: Results, output_dir: str) -> str:
  path = paths.output_file(paths.join(output_dir, 'results.json'), 'the results file')
  paths.write_text_atomic(path, json.dumps(results, indent=2, sort_keys=True))
  return str(path)


def evaluate(
    *,
    model: Any,
    dataset_cfg: DatasetConfig,
    model_dir: str,
    restore_checkpoint_cfg: RestoreCheckpointConfig | None = None,
    partitioner: Partitioner | None = None,
    output_dir: str | None = None,
    task_decoding_params: TaskDecodingParams | None = None,
    num_examples: int | None = None,
) -> Results:
  """Evaluate a checkpoint on every task of an eval mixture.

  The checkpoint is `restore_checkpoint_cfg.path` (default: the latest in `model_dir`).
  Writes `<output_dir or model_dir/eval>/results.json` and TensorBoard summaries, prints a
  table, and returns `{task: {metric: value}}`. `num_examples` (None: all) caps the queries
  per task: examples, or users for yes/no ranking tasks (`rows_per_query` rows each).
  """
  partitioner = partitioner or Partitioner()
  resolve_task(dataset_cfg)
  output_dir = str(paths.ensure_dir(output_dir or paths.join(model_dir, 'eval'), 'EVAL_OUTPUT_DIR'))
  restore_cfg = restore_checkpoint_cfg or RestoreCheckpointConfig(path=model_dir)
  if restore_cfg.path is None:
    restore_cfg = RestoreCheckpointConfig(path=model_dir)
  evaluator = InferenceEvaluator(
      dataset_cfg,
      model,
      partitioner,
      log_dir=output_dir,
      task_decoding_params=task_decoding_params,
      num_examples=num_examples,
  )
  shapes = next(iter(evaluator.evaluators.values())).model_feature_shapes
  input_shapes = {
      k: (dataset_cfg.batch_size,) + tuple(v[1:] if len(v) > 1 else v) for k, v in shapes.items()
  }
  params, step = restore_params_and_step(
      restore_cfg, abstract_params(model, partitioner, input_shapes)
  )
  results = evaluator.evaluate(params, step=step)
  results.update(evaluator.popularity())
  if jax.process_index() == 0:
    path = write_results(results, output_dir)
    print(format_table(results))
    print(path, flush=True)
  return results
