"""Inference evaluation with `seqio.Evaluator` and the `evaluate(...)` entry point.

One `seqio.Evaluator` per task, so each task gets its own decoding (beams, a constraint, a
scoring function, decode and input lengths) through the `task_decoding_params(task) ->
TaskDecoding` hook, and `extra_rows` may add rows scored on the same examples (e.g. a
baseline). Metrics land in TensorBoard, in `<output_dir>/results.json` as
`{task: {metric: value}}`, and in a printed table.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import jax
import numpy as np
import seqio

from p5jax import paths
from p5jax.metrics.tables import format_blocks
from p5jax.training.checkpoints import (
    RestoreCheckpointConfig,
    restore_config,
    restore_params_and_step,
)
from p5jax.training.data import DatasetConfig, feature_converter, resolve_task
from p5jax.training.infer_fns import ModelFns
from p5jax.training.partitioning import Partitioner
from p5jax.training.task_decoding import (
    ExtraRows,
    TaskDecoding,
    TaskDecodingParams,
    example_arrays,
)
from p5jax.training.trainer import abstract_params

Results = dict[str, dict[str, float]]


def _scalar(v: Any) -> float | None:
  v = getattr(v, 'value', v)  # seqio.metrics.Scalar
  try:
    return float(np.asarray(v))
  except (TypeError, ValueError):
    return None


class _InputsToLongest:
  """A feature converter that pads inputs to the longest (already cut) eval input rather than
  to the cut itself: an input length is a limit (P5's 512), not a width to pay for. Targets
  keep their given length, which is the decode length."""

  def __init__(self, converter: seqio.FeatureConverter):
    self._converter = converter
    self.pack = converter.pack
    self.TASK_FEATURES = converter.TASK_FEATURES  # noqa: N815 (seqio's name)

  def __call__(self, ds: Any, task_feature_lengths: dict[str, int]) -> Any:
    lengths = dict(task_feature_lengths)
    longest = max((len(ex['inputs']) for ex in ds.as_numpy_iterator()), default=1)
    lengths['inputs'] = min(lengths['inputs'], max(longest, 1))
    return self._converter(ds, lengths)


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  """What an evaluation does beyond decoding with defaults: the task collection's hooks and a
  cap on its size (`evaluate` and `train` forward theirs to `InferenceEvaluator`).

  Attributes:
    task_decoding_params: `fn(task) -> TaskDecoding | None`, each task's decoding.
    num_examples: caps the queries per task (None: all; a task's `TaskDecoding.max_queries`
      may cap it further); a query is `rows_per_query` examples.
    extra_rows: `fn(task, decoding, examples) -> {row: metrics}`, rows scored on the same
      examples (e.g. a baseline).
  """

  task_decoding_params: TaskDecodingParams | None = None
  num_examples: int | None = None
  extra_rows: ExtraRows | None = None


class InferenceEvaluator:
  """Runs every task of `cfg.mixture_or_task_name` that has metrics; returns scalars."""

  def __init__(
      self,
      cfg: DatasetConfig,
      model: Any,
      partitioner: Partitioner,
      log_dir: str | None = None,
      settings: EvalSettings = EvalSettings(),
  ):
    tasks = seqio.get_subtasks(resolve_task(cfg))
    self._cfg, self._model, self._partitioner = cfg, model, partitioner
    self._extra_rows = settings.extra_rows
    hook = settings.task_decoding_params or (lambda task: None)
    num_examples = settings.num_examples
    loggers = (seqio.TensorBoardLogger, seqio.JSONLogger) if log_dir else ()
    self.evaluators: dict[str, seqio.Evaluator] = {}
    self.decodings: dict[str, TaskDecoding] = {}
    for task in tasks:
      if not task.metric_objs or cfg.split not in task.splits:
        continue
      decoding = hook(task) or TaskDecoding()
      self.decodings[task.name] = decoding
      caps = [n for n in (num_examples, decoding.max_queries) if n is not None]
      self.evaluators[task.name] = seqio.Evaluator(
          task.name,
          _InputsToLongest(feature_converter(pack=False)),
          eval_split=cfg.split,
          sequence_length=decoding.sequence_length(cfg.task_feature_lengths),
          num_examples=min(caps) * decoding.rows_per_query if caps else None,
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

  def examples(self, task_name: str, keys: Any) -> dict[str, np.ndarray]:
    """Features of the evaluated examples, aligned with the model dataset's indices."""
    ds = self.evaluators[task_name].cached_task_datasets[task_name]
    return example_arrays(ds.as_numpy_iterator(), keys)

  def _model_fns(self, task_name: str, param_shardings: Any) -> ModelFns:
    if task_name not in self._fns:
      decoding = self.decodings[task_name]
      keys = decoding.side_features
      side = self.examples(task_name, keys) if keys else None
      self._fns[task_name] = ModelFns(
          self._model, self._partitioner, param_shardings, self._cfg.batch_size, decoding, side
      )
    return self._fns[task_name]

  def extra_rows(self) -> Results:
    """The `extra_rows` hook's rows for every evaluated task (none without a hook)."""
    results: Results = {}
    if self._extra_rows is None:
      return results
    for name, decoding in self.decodings.items():
      rows = self._extra_rows(
          seqio.get_mixture_or_task(name), decoding, functools.partial(self.examples, name)
      )
      for row, metrics in rows.items():
        results[row] = {k: s for k, v in metrics.items() if (s := _scalar(v)) is not None}
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
    extra_rows: ExtraRows | None = None,
) -> Results:
  """Evaluate a checkpoint on every task of an eval mixture.

  The checkpoint is `restore_checkpoint_cfg.path` (default: the latest in `model_dir`).
  Writes `<output_dir or model_dir/eval>/results.json` and TensorBoard summaries, prints a
  table, and returns `{task: {metric: value}}` plus the `extra_rows` hook's rows.
  `task_decoding_params(task) -> TaskDecoding` sets each task's decoding; `num_examples`
  (None: all) caps the queries per task (a query is `rows_per_query` examples).
  """
  partitioner = partitioner or Partitioner()
  resolve_task(dataset_cfg)
  output_dir = str(paths.ensure_dir(output_dir or paths.join(model_dir, 'eval'), 'EVAL_OUTPUT_DIR'))
  restore_cfg = restore_config(restore_checkpoint_cfg, model_dir)
  evaluator = InferenceEvaluator(
      dataset_cfg,
      model,
      partitioner,
      log_dir=output_dir,
      settings=EvalSettings(
          task_decoding_params=task_decoding_params,
          num_examples=num_examples,
          extra_rows=extra_rows,
      ),
  )
  shapes = next(iter(evaluator.evaluators.values())).model_feature_shapes
  input_shapes = {
      k: (dataset_cfg.batch_size,) + tuple(v[1:] if len(v) > 1 else v) for k, v in shapes.items()
  }
  params, step = restore_params_and_step(
      restore_cfg, abstract_params(model, partitioner, input_shapes)
  )
  results = evaluator.evaluate(params, step=step)
  results.update(evaluator.extra_rows())
  if jax.process_index() == 0:
    path = write_results(results, output_dir)
    print(format_blocks(results))
    print(path, flush=True)
  return results
