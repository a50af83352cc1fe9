"""The `infer(...)` entry point: top-k decodes and scores per example as JSONL."""

from __future__ import annotations

import json
from typing import Any

import jax
import numpy as np
import seqio

from p5jax import paths as p5_paths
from p5jax.training.checkpoints import RestoreCheckpointConfig, restore_config, restore_params
from p5jax.training.data import DatasetConfig, feature_converter, resolve_task
from p5jax.training.infer_fns import ModelFns
from p5jax.training.partitioning import Partitioner
from p5jax.training.task_decoding import TaskDecoding, TaskDecodingParams, example_arrays
from p5jax.training.trainer import abstract_params


def _text(vocab: seqio.Vocabulary, tokens: Any) -> str | list[int]:
  decoded = vocab.decode(np.asarray(tokens).tolist())
  return decoded if isinstance(decoded, str) else list(map(int, decoded))


def infer(
    *,
    model: Any,
    dataset_cfg: DatasetConfig,
    model_dir: str,
    restore_checkpoint_cfg: RestoreCheckpointConfig | None = None,
    partitioner: Partitioner | None = None,
    output_dir: str | None = None,
    num_decodes: int = 1,
    task_decoding_params: TaskDecodingParams | None = None,
    max_examples: int | None = None,
) -> dict[str, str]:
  """Decode every task of `dataset_cfg` and write `<output_dir>/<task>-predict.jsonl`.

  Each line: `{"index", "inputs", "targets", "outputs": [top-k, best first], "scores": [...]}`.
  `task_decoding_params(task) -> TaskDecoding` replaces `num_decodes` with a task's own
  decoding (beams, constraint, decode length).
  Returns {task: path}.
  """
  partitioner = partitioner or Partitioner()
  tasks = seqio.get_subtasks(resolve_task(dataset_cfg))
  output_dir = output_dir or p5_paths.join(model_dir, 'infer')
  p5_paths.ensure_dir(output_dir, 'INFER_OUTPUT_DIR')
  restore_cfg = restore_config(restore_checkpoint_cfg, model_dir)
  converter = feature_converter(pack=False)
  lengths = converter.get_model_feature_lengths(dict(dataset_cfg.task_feature_lengths))
  input_shapes = {k: (dataset_cfg.batch_size, v) for k, v in lengths.items()}
  params = restore_params(restore_cfg, abstract_params(model, partitioner, input_shapes))
  shardings = jax.tree.map(lambda x: x.sharding, params)
  paths = {}
  for task in tasks:
    decoding = (task_decoding_params or (lambda t: None))(task) or TaskDecoding(
        num_decodes=num_decodes
    )
    task_lengths = decoding.sequence_length(dataset_cfg.task_feature_lengths)
    task_ds = task.get_dataset(task_lengths, split=dataset_cfg.split, shuffle=False, num_epochs=1)
    if max_examples:
      task_ds = task_ds.take(max_examples * decoding.rows_per_query)
    model_ds = converter(task_ds, task_lengths).enumerate()
    side = (
        example_arrays(task_ds.as_numpy_iterator(), decoding.side_features)
        if decoding.side_features
        else None
    )
    fns = ModelFns(model, partitioner, shardings, dataset_cfg.batch_size, decoding, side)
    index_tokens, aux = fns.predict_with_aux(params, model_ds)
    decodes = aux.get('all_decodes', [t for _, t in index_tokens])
    scores = aux.get('scores', [None] * len(decodes))
    vocab = task.output_features['targets'].vocabulary
    in_vocab = task.output_features['inputs'].vocabulary
    path = p5_paths.join(output_dir, f'{task.name}-predict.jsonl')
    p5_paths.output_file(path, 'output')
    if jax.process_index() == 0:
      with p5_paths.path(path).open('w') as f:
        for (i, _), ex, toks, sc in zip(index_tokens, task_ds.as_numpy_iterator(), decodes, scores):
          toks = np.asarray(toks)
          toks = toks if toks.ndim == 2 else toks[None]
          sc = np.atleast_1d(np.asarray(sc)).tolist() if sc is not None else None
          f.write(
              json.dumps(
                  {
                      'index': int(i),
                      'inputs': _text(in_vocab, ex['inputs']),
                      'targets': _text(vocab, ex['targets']),
                      'outputs': [_text(vocab, t) for t in toks],
                      'scores': sc,
                  }
              )
              + '\n'
          )
    paths[task.name] = path
  return paths
