"""The generic inference evaluator: per-task `TaskDecoding` records and extra result rows."""

from __future__ import annotations

import ast
import os

import flax.linen as nn
import jax
import pytest

from p5jax.metrics.tables import format_blocks
from p5jax.training import DatasetConfig, Partitioner
from p5jax.training.evaluation import EvalSettings, InferenceEvaluator
from p5jax.training.task_decoding import TaskDecoding
from tests.training import seqio_fixtures
from tests.training.fakes import FakeEncoderDecoderModel, TinySeq2Seq

TRAINING = os.path.join(os.path.dirname(__file__), '..', '..', 'p5jax', 'training')


@pytest.fixture(scope='module')
def task():
  return seqio_fixtures.register()


def test_records_set_lengths_caps_and_extra_rows(task):
  model = FakeEncoderDecoderModel(TinySeq2Seq())
  cfg = DatasetConfig(task, None, 'validation', batch_size=8, shuffle=False)
  seen = {}

  def extra(t, decoding, examples):
    seen['decoding'] = decoding
    return {
        f'baseline/{t.name}': {'sequence_accuracy': float(len(examples(('inputs',))['inputs']))}
    }

  partitioner = Partitioner(num_partitions=1)
  evaluator = InferenceEvaluator(
      cfg,
      model,
      partitioner,
      settings=EvalSettings(
          task_decoding_params=lambda t: TaskDecoding(
              max_decode_len=3, input_length=50, max_queries=6
          ),
          num_examples=10,
          extra_rows=extra,
      ),
  )
  shapes = evaluator.evaluators[task].model_feature_shapes
  # an input cut above the longest input (12) pads to the longest; targets to the decode length
  assert shapes['decoder_input_tokens'][-1] == 3 and shapes['encoder_input_tokens'][-1] == 12
  cut = InferenceEvaluator(
      cfg,
      model,
      partitioner,
      settings=EvalSettings(task_decoding_params=lambda t: TaskDecoding(input_length=5)),
  )
  assert cut.evaluators[task].model_feature_shapes['encoder_input_tokens'][-1] == 5
  boxed = model.get_initial_variables(jax.random.key(0), {k: (8, v[-1]) for k, v in shapes.items()})
  params = jax.device_put(nn.unbox(boxed)['params'], partitioner.replicated)
  results = evaluator.evaluate(params, step=0)
  rows = evaluator.extra_rows()
  assert rows == {f'baseline/{task}': {'sequence_accuracy': 6.0}}  # min(10, 6) queries
  assert seen['decoding'].max_decode_len == 3
  table = format_blocks({**rows, **results})
  names = [line.split('|')[1].strip() for line in table.splitlines()[2:]]
  assert names == [task, f'baseline/{task}']  # the extra row under its task


def test_record_validation():
  assert TaskDecoding(max_decode_len=19).sequence_length({'inputs': 8}) == {
      'inputs': 8,
      'targets': 19,
  }
  assert TaskDecoding().sequence_length(None) is None
  with pytest.raises(ValueError, match='num_decodes'):
    TaskDecoding(num_decodes=0)
  with pytest.raises(ValueError, match='not both'):
    TaskDecoding(constraint=object(), constraint_fn=lambda side: None)


def test_the_trainer_imports_no_task_collection():
  """p5jax.training (and the layers below it) know nothing of p5jax.tasks."""
  root = os.path.normpath(os.path.join(TRAINING, '..'))
  for package in ('training', 'models', 'decoding', 'metrics', 'data'):
    for name in os.listdir(os.path.join(root, package)):
      if not name.endswith('.py'):
        continue
      tree = ast.parse(open(os.path.join(root, package, name)).read())
      for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.module:
          modules = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
        elif isinstance(node, ast.Import):
          modules = [a.name for a in node.names]
        bad = [m for m in modules if m == 'p5jax.tasks' or m.startswith('p5jax.tasks.')]
        assert not bad, f'p5jax/{package}/{name} imports {bad}'
      assert 'sys.modules' not in open(os.path.join(root, package, name)).read(), name
