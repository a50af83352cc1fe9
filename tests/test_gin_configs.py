"""Every gin file parses strictly, alone and in the combinations its comments document.

A misspelt configurable or parameter fails the strict parse of its file; a misspelt macro fails
`test_every_macro_is_used` or the finalized combinations (which bind the REQUIRED macros, as the
documented command lines do, and check the values a run would read). The model gins are also
built, initialised abstractly and, for the tiny one, scored on a small batch.
"""

import glob
import os
import re

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax import models
from p5jax.launch import gin_flags

ROOT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'p5jax', 'gin_configs'
)
MODEL_GINS = sorted(glob.glob(os.path.join(ROOT, 'models', '*.gin')))
ALL_GINS = sorted(glob.glob(os.path.join(ROOT, '**', '*.gin'), recursive=True))


class FakeVocabulary:
  """The little of a seqio vocabulary the model wrapper reads."""

  eos_id = 1
  vocab_size = 32100


@pytest.fixture(autouse=True)
def _fake_word_starts(monkeypatch):
  import p5jax.vocab

  monkeypatch.setattr(
      p5jax.vocab,
      'word_start_table',
      lambda vocab: np.arange(vocab.vocab_size) % 2 == 1,
      raising=True,
  )
  yield
  gin.clear_config()


def _build(path, **macros):
  gin.clear_config()
  gin.add_config_file_search_path(ROOT)
  bindings = [f'{k} = {v}' for k, v in macros.items()]
  gin.parse_config_files_and_bindings([path], bindings)
  return gin.query_parameter('%MODEL').scoped_configurable_fn()


def _shapes(batch=2, enc=8, dec=4):
  return {
      'encoder_input_tokens': (batch, enc),
      'decoder_input_tokens': (batch, dec),
      'decoder_target_tokens': (batch, dec),
      'decoder_loss_weights': (batch, dec),
  }


@pytest.mark.parametrize('path', MODEL_GINS, ids=os.path.basename)
def test_model_gin_builds(path):
  gin.external_configurable(FakeVocabulary, module='test')
  model = _build(path, VOCABULARY='@test.FakeVocabulary()')
  assert isinstance(model, models.EncoderDecoderModel)
  cfg = model.config
  assert cfg.whole_word_embedding and model.module.word_start_table.shape == (32128,)
  abstract = jax.eval_shape(lambda r: model.get_initial_variables(r, _shapes()), jax.random.key(0))
  n_params = sum(x.size for x in jax.tree.leaves(nn.unbox(abstract)))
  name = os.path.basename(path)
  expected_dims = {
      'p5_tiny.gin': (128, 512, 4, 32, 4),
      'p5_small.gin': (512, 2048, 8, 64, 6),
      'p5_base.gin': (768, 3072, 12, 64, 12),
  }.get(name)
  if expected_dims:
    assert (
        cfg.emb_dim,
        cfg.mlp_dim,
        cfg.num_heads,
        cfg.head_dim,
        cfg.num_encoder_layers,
    ) == expected_dims
  if name == 'p5_small.gin':  # t5-small (60.5M) + the 512 x 512 whole-word table
    assert abs(n_params - 60.77e6) < 0.1e6, n_params


def test_tiny_gin_scores_a_batch():
  gin.external_configurable(FakeVocabulary, module='test')
  model = _build(
      os.path.join(ROOT, 'models', 'p5_tiny.gin'),
      VOCABULARY='@test.FakeVocabulary()',
      VOCAB_SIZE=32128,
  )
  shapes = _shapes()
  abstract = jax.eval_shape(lambda r: model.get_initial_variables(r, shapes), jax.random.key(0))[
      'params'
  ]
  params = jax.tree.map(lambda x: jnp.full(x.shape, 0.01, x.dtype), nn.unbox(abstract))
  batch = {k: jnp.ones(s, jnp.int32) for k, s in shapes.items()}
  scores = jax.jit(model.score_batch)(params, batch)
  assert scores.shape == (2,) and np.isfinite(np.asarray(scores)).all()


@pytest.mark.parametrize('path', ALL_GINS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_gin_file_parses_strictly(path, monkeypatch):
  # gin tries `include 'models/x.gin'` as a Python package path before its search paths and
  # crashes on namespace packages such as tests/models; resolving from ROOT avoids that.
  monkeypatch.chdir(ROOT)
  gin.clear_config()
  gin.add_config_file_search_path(ROOT)
  # REQUIRED macros (MODEL_DIR, VOCABULARY...) are filled by the user: finalized below.
  gin.parse_config_files_and_bindings([path], [], finalize_config=False)
  assert gin.config_str().strip() or _macros_defined(path)


def _text(path):
  with open(os.path.join(ROOT, path) if not os.path.isabs(path) else path) as f:
    return f.read()


def _macros_defined(path):
  return set(re.findall(r'^([A-Z][A-Z0-9_]*)\s*=', _text(path), flags=re.M))


def test_every_macro_is_used():
  """A macro a file defines is read (`%NAME`) by some gin file or by the launcher."""
  texts = ''.join(_text(p) for p in ALL_GINS) + _text(gin_flags.__file__)
  launcher = os.path.join(os.path.dirname(gin_flags.__file__), 'main.py')
  texts += _text(launcher)
  read = set(re.findall(r'%([A-Z][A-Z0-9_]*)', texts)) | set(
      re.findall(r"'([A-Z][A-Z0-9_]*)'", texts)
  )
  for path in ALL_GINS:
    unused = _macros_defined(path) - read
    assert not unused, f'{os.path.relpath(path, ROOT)} defines macros nothing reads: {unused}'


_RUN = {'MODEL_DIR': "'runs/x'"}
_DATA = {**_RUN, 'PREPARED_DIR': "'prepared/beauty'"}
_TRAIN = {
    **_RUN,
    'MIXTURE_OR_TASK_NAME': "'p5_demo_pretrain'",
    'TASK_FEATURE_LENGTHS': "{'inputs': 64, 'targets': 8}",
    'TRAIN_STEPS': '10',
}
# (gin files, REQUIRED macros bound as the files' comments show, run mode, macros -> values)
COMBINATIONS = [
    (['runs/demo.gin'], _RUN, 'train', {'DATASET': 'demo', 'TRAIN_STEPS': 1000}),
    (
        ['runs/demo_original.gin'],
        _RUN,
        'train',
        {'WHOLE_WORD_AT_INFERENCE': False, 'DATASET': 'demo_original'},
    ),
    (
        ['models/p5_tiny.gin', 'runs/train.gin', 'datasets/demo.gin'],
        _TRAIN,
        'train',
        {'TRAIN_STEPS': 10},
    ),
    (
        ['models/p5_tiny.gin', 'runs/eval.gin', 'datasets/demo.gin'],
        {**_RUN, 'MIXTURE_OR_TASK_NAME': "'p5_demo_eval'"},
        'eval',
        {'EVAL_SPLIT': 'test'},
    ),
    (
        ['models/p5_tiny.gin', 'runs/infer.gin', 'datasets/demo.gin'],
        {**_RUN, 'MIXTURE_OR_TASK_NAME': "'p5_demo_eval'", 'TASK_FEATURE_LENGTHS': 'None'},
        'infer',
        {'INFER_SPLIT': 'test'},
    ),
    *(
        (
            [f'runs/p5_{size}.gin', f'datasets/{name}.gin'],
            _DATA,
            'train',
            {'MIXTURE_OR_TASK_NAME': f'p5_{name}_pretrain', 'BATCH_SIZE': batch},
        )
        for size, batch in (('s', 128), ('b', 64))
        for name in ('beauty', 'sports', 'toys', 'yelp')
    ),
    (
        ['runs/p5_s.gin', 'datasets/beauty.gin', 'runs/p5_pretrained.gin'],
        {**_DATA, 'HF_T5_DIR': "'t5-small'"},
        'train',
        {'ID_SCHEME': 'original', 'INITIAL_CHECKPOINT_PATH': 't5-small'},
    ),
    (
        ['models/p5_tiny.gin', 'runs/train_then_evaluate.gin', 'datasets/beauty.gin'],
        {**_DATA, 'TASK_FEATURE_LENGTHS': "{'inputs': 64, 'targets': 8}", 'TRAIN_STEPS': '10'},
        'train',
        {'EVAL_MIXTURE_OR_TASK_NAME': 'p5_beauty_eval', 'NUM_BEAMS': 20},
    ),
    (
        ['models/p5_tiny.gin', 'runs/p5_eval.gin', 'datasets/demo.gin'],
        {**_RUN, 'MIXTURE_OR_TASK_NAME': "'p5_demo_eval'"},
        'eval',
        {'NUM_BEAMS': 20, 'DECODING_SETTINGS': {}},
    ),
    (
        ['models/p5_small.gin', 'runs/p5_eval_original.gin', 'datasets/beauty.gin'],
        {**_DATA, 'ID_SCHEME': "'original'", 'MIXTURE_OR_TASK_NAME': "'p5_beauty_eval'"},
        'eval',
        {'EVAL_INPUT_LENGTH': 512, 'ID_SCHEME': 'original'},
    ),
    (
        ['runs/real_cpu.gin'],
        {**_RUN, 'PREPARED_DIR': "'prepared/seq'"},
        'train',
        {'DATASET': 'seq', 'MIXTURE_OR_TASK_NAME': 'p5_seq_pretrain'},
    ),
]


def _value(name):
  """A macro's value, following macro-to-macro references."""
  value = gin_flags.query_macro(name)
  while isinstance(value, gin.config.ConfigurableReference) and repr(value).startswith('%'):
    value = gin_flags.query_macro(repr(value)[1:])
  return value


@pytest.mark.parametrize(
    'files,bindings,mode,expected',
    COMBINATIONS,
    ids=lambda x: '+'.join(x) if isinstance(x, list) else '',
)
def test_documented_combinations_finalize(files, bindings, mode, expected, monkeypatch):
  monkeypatch.chdir(ROOT)
  gin.clear_config()
  gin_flags.parse_gin(files, [f'{k} = {v}' for k, v in bindings.items()])  # finalizes: strict
  assert gin_flags.entry_run_mode() == mode
  assert {k: _value(k) for k in expected} == expected


def test_combinations_cover_every_gin_file():
  covered = set()
  todo = [f for files, *_ in COMBINATIONS for f in files]
  while todo:
    path = todo.pop()
    if path not in covered:
      covered.add(path)
      todo.extend(re.findall(r"^include '([^']+)'", _text(path), flags=re.M))
  assert covered == {os.path.relpath(p, ROOT) for p in ALL_GINS}
