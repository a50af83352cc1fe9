"""`p5jax.Predictor` on a MODEL_DIR built here: a tiny prepared dataset, a config.gin like the
trainer writes and a checkpoint of random params (HF parity: tests/models/test_hf_parity.py)."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from flax import linen as nn

from p5jax import Predictor
from p5jax.data.pipeline import prepare
from p5jax.models import EncoderDecoderModel, Transformer
from p5jax.vocab import build_vocabulary
from tests.models.fakes import TINY_T5, tiny_t5_config

NAME = 'predictortest'
CONFIG = """
from __gin__ import dynamic_registration
from p5jax import models
import p5jax.tasks.from_gin

MODEL = @models.EncoderDecoderModel()
models.EncoderDecoderModel.module = @models.Transformer()
models.EncoderDecoderModel.input_vocabulary = %VOCABULARY
models.EncoderDecoderModel.output_vocabulary = %VOCABULARY
VOCABULARY = @p5jax.tasks.from_gin.dataset_vocabulary()
models.Transformer.config = @models.T5Config()
{t5_bindings}
PREPARED_DIR = '{prepared}'
p5jax.tasks.from_gin.configured_dataset.name = '{name}'
p5jax.tasks.from_gin.configured_dataset.prepared_dir = %PREPARED_DIR
p5jax.tasks.from_gin.configured_dataset.id_scheme = 'sid'
p5jax.tasks.from_gin.dataset_vocabulary.name = '{name}'
"""


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp('predictor')
  prepared = str(root / 'prepared')
  prepare(
      'demo',
      None,
      prepared,
      protocol='corrected',
      id_schemes=('sid',),
      demo_scale=0.1,
      num_negatives=9,
  )
  vocab = build_vocabulary(prepared, 'sid')
  vocab_size = -(-vocab.vocab_size // 64) * 64
  run = root / 'run'
  run.mkdir()
  sizes = {**TINY_T5, 'vocab_size': vocab_size, 'dropout_rate': 0.0, 'whole_word_embedding': True}
  t5_bindings = '\n'.join(f'models.T5Config.{k} = {v!r}' for k, v in sizes.items())
  (run / 'config.gin').write_text(
      CONFIG.format(t5_bindings=t5_bindings, prepared=prepared, name=NAME)
  )
  config = tiny_t5_config(**sizes)
  model = EncoderDecoderModel(Transformer(config), vocab, vocab)
  shapes = {k: (1, 8) for k in ('encoder_input_tokens', 'decoder_input_tokens')}
  shapes['decoder_target_tokens'] = (1, 8)
  params = nn.meta.unbox(model.get_initial_variables(jax.random.key(0), shapes)['params'])
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(str(run / 'checkpoint_3' / 'state'), {'params': params})
  checkpointer.wait_until_finished()
  return str(run), prepared


@pytest.fixture(scope='module')
def predictor(model_dir):
  return Predictor.from_model_dir(model_dir[0], batch_size=4)


def _jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_recommend_returns_k_distinct_dataset_items(predictor, model_dir):
  prepared = model_dir[1]
  users = [u['raw_id'] for u in _jsonl(os.path.join(prepared, 'users.jsonl'))[:5]]
  raw_items = {i['raw_id'] for i in _jsonl(os.path.join(prepared, 'items.jsonl'))}
  out = predictor.recommend(users, k=4)
  assert len(out) == 5
  for row in out:
    assert len(row) == 4 and len(set(row)) == 4 and set(row) <= raw_items
  history = sorted(raw_items)[:3]
  again = predictor.recommend(users[:2], k=4, template='2-3', histories=[history, history])
  assert all(len(row) == 4 and set(row) <= raw_items for row in again)
  with pytest.raises(KeyError, match='unknown user'):
    predictor.recommend(['no-such-user'])
  with pytest.raises(KeyError, match='unknown items'):
    predictor.recommend(users[:1], histories=[['no-such-item']])
  with pytest.raises(ValueError, match='template'):
    predictor.recommend(users[:1], template='5-5')


def test_generate_under_constraints_and_free(predictor):
  prompts = ['What is the next item for user_3 ?', 'Is user_2 likely to buy item 7 ?', 'hi']
  items = predictor.generate(prompts, num_beams=3, num_return_sequences=3, constraint='items')
  valid = {predictor._text(t) for t in predictor._item_tokens().values()}
  assert all(len(row) == 3 and set(row) <= valid for row in items)
  answers = predictor.generate(
      prompts, num_beams=2, num_return_sequences=2, constraint=['yes', 'no']
  )
  assert all(sorted(row) == ['no', 'yes'] for row in answers)
  free = predictor.generate(prompts, num_beams=2, num_return_sequences=2, max_length=6)
  assert all(len(row) == 2 and all(isinstance(s, str) for s in row) for row in free)
  with pytest.raises(ValueError, match='num_return_sequences'):
    predictor.generate(prompts, num_beams=1, num_return_sequences=2)
  with pytest.raises(TypeError, match='list of strings'):
    predictor.generate('one prompt')


def test_score_is_the_target_log_likelihood_independent_of_batching(predictor):
  prompts = ['Predict the rating of user_1 for item 4 .', 'user_2 bought 3 , 5', 'x'] * 2
  targets = ['5', 'item 7 is next', 'yes no yes'] * 2
  scores = predictor.score(prompts, targets)
  alone = [predictor.score([p], [t])[0] for p, t in zip(prompts[:3], targets[:3])]
  np.testing.assert_allclose(scores[:3], alone, rtol=1e-5)
  np.testing.assert_allclose(scores[:3], scores[3:], rtol=1e-5)
  assert all(s < 0 for s in scores)
  with pytest.raises(ValueError, match='targets'):
    predictor.score(prompts, targets[:2])


def test_clear_errors_and_a_cheap_import(tmp_path, model_dir, predictor):
  with pytest.raises(FileNotFoundError, match='config.gin'):
    Predictor.from_model_dir(str(tmp_path))
  moved = Predictor.from_model_dir(model_dir[0], prepared_dir=model_dir[1])
  assert moved.context.dataset.manifest == predictor.context.dataset.manifest
  bare = Predictor(predictor.model, predictor.params)
  with pytest.raises(ValueError, match='from_model_dir'):
    bare.generate(['x'], constraint='items')
  code = 'import sys, p5jax; print("jax" in sys.modules, p5jax.Predictor.__name__)'
  out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
  assert out.stdout.split() == ['False', 'Predictor']
