"""Every model gin file parses and builds a working model; other gin files at least parse.

Run/dataset gin files are parsed with `skip_unknown` (their configurables live in other parts);
the model gins are built, initialised abstractly and, for the tiny one, scored on a small batch.
"""

import glob
import os

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from p5jax import models

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
def test_every_gin_file_parses(path, monkeypatch):
  # gin tries `include 'models/x.gin'` as a Python package path before its search paths and
  # crashes on namespace packages such as tests/models; resolving from ROOT avoids that.
  monkeypatch.chdir(ROOT)
  gin.clear_config()
  gin.add_config_file_search_path(ROOT)
  # REQUIRED macros (MODEL_DIR, VOCABULARY...) are filled by the user: do not finalize.
  gin.parse_config_files_and_bindings([path], [], skip_unknown=True, finalize_config=False)
