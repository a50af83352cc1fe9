"""P5's start from gin: a local Hugging Face T5 directory (weights + spiece.model) as the initial
checkpoint and the vocabulary's base (`runs/p5_pretrained.gin`), trained for 2 steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import orbax.checkpoint as ocp
import pytest
from safetensors.numpy import save_file

from p5jax.data.pipeline import prepare
from p5jax.vocab import train_sentencepiece

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIMS = dict(d_model=16, d_kv=8, num_heads=2, d_ff=32, num_layers=1)
MODEL_GIN = """
from __gin__ import dynamic_registration
from p5jax import models
MODEL = @models.EncoderDecoderModel()
models.EncoderDecoderModel:
  module = @models.Transformer()
  input_vocabulary = %VOCABULARY
  output_vocabulary = %VOCABULARY
models.Transformer.config = @models.T5Config()
models.T5Config:
  vocab_size = %VOCAB_SIZE
  emb_dim = 16
  num_heads = 2
  head_dim = 8
  num_encoder_layers = 1
  num_decoder_layers = 1
  mlp_dim = 32
  dropout_rate = 0.1
  logits_via_embedding = True
  scale_decoder_output = True
  whole_word_embedding = True
  whole_word_at_inference = %WHOLE_WORD_AT_INFERENCE
WHOLE_WORD_AT_INFERENCE = True
"""


def _hf_t5(path, vocab_rows: int) -> dict[str, np.ndarray]:
  """A random t5-small-shaped (but tiny) Hugging Face checkpoint in `path`."""
  e, inner, ff = DIMS['d_model'], DIMS['d_kv'] * DIMS['num_heads'], DIMS['d_ff']
  rng = np.random.default_rng(0)
  shapes = {'shared.weight': (vocab_rows, e)}
  for stack, parts in (
      ('encoder', ('SelfAttention',)),
      ('decoder', ('SelfAttention', 'EncDecAttention')),
  ):
    shapes[f'{stack}.final_layer_norm.weight'] = (e,)
    shapes[f'{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight'] = (32, 2)
    for i, part in enumerate(parts):
      for w in 'qkv':
        shapes[f'{stack}.block.0.layer.{i}.{part}.{w}.weight'] = (inner, e)
      shapes[f'{stack}.block.0.layer.{i}.{part}.o.weight'] = (e, inner)
      shapes[f'{stack}.block.0.layer.{i}.layer_norm.weight'] = (e,)
    n = len(parts)
    shapes[f'{stack}.block.0.layer.{n}.DenseReluDense.wi.weight'] = (ff, e)
    shapes[f'{stack}.block.0.layer.{n}.DenseReluDense.wo.weight'] = (e, ff)
    shapes[f'{stack}.block.0.layer.{n}.layer_norm.weight'] = (e,)
  state = {k: rng.normal(0, 0.5, s).astype(np.float32) for k, s in shapes.items()}
  config = dict(DIMS, vocab_size=vocab_rows, feed_forward_proj='relu', tie_word_embeddings=True)
  (path / 'config.json').write_text(json.dumps(config))
  save_file(state, str(path / 'model.safetensors'))
  return state


@pytest.mark.slow
def test_p5_pretrained_gin_trains_from_a_hugging_face_t5(tmp_path):
  prepared = tmp_path / 'prepared'
  prepare(
      'demo',
      None,
      str(prepared),
      protocol='original',
      demo_scale=0.1,
      num_negatives=9,
      id_schemes=('original',),
  )
  hf = tmp_path / 't5'
  hf.mkdir()
  words = [f'item {i} is a fine product for user {i % 7}' for i in range(300)]
  (hf / 'spiece.model').write_bytes(train_sentencepiece(words, [], vocab_size=60))
  import sentencepiece as spm

  pieces = spm.SentencePieceProcessor(model_file=str(hf / 'spiece.model')).get_piece_size()
  rows = -(-(pieces + 100) // 128) * 128  # T5: pieces + 100 extra ids, padded to 128
  state = _hf_t5(hf, rows)
  (tmp_path / 'model.gin').write_text(MODEL_GIN)
  model_dir = tmp_path / 'run'
  args = [
      f'--gin_file={tmp_path / "model.gin"}',
      '--gin_file=runs/train.gin',
      '--gin_file=datasets/beauty.gin',
      '--gin_file=runs/p5_pretrained.gin',
      f"--gin.HF_T5_DIR='{hf}'",
      f"--gin.PREPARED_DIR='{prepared}'",
      f"--gin.MODEL_DIR='{model_dir}'",
      "--gin.MIXTURE_OR_TASK_NAME='p5_beauty_review_train'",  # the tiny catalogue has no 99 negatives
      '--gin.TRAIN_STEPS=2',
      '--gin.BATCH_SIZE=8',
      "--gin.TASK_FEATURE_LENGTHS={'inputs': 64, 'targets': 8}",
      '--gin.RANDOM_SEED=1',
      '--gin.EVAL_PERIOD=None',
  ]
  env = dict(os.environ, PYTHONPATH=REPO)
  run = subprocess.run(
      [sys.executable, '-m', 'p5jax.launch.main', *args],
      cwd=REPO,
      env=env,
      capture_output=True,
      text=True,
      timeout=900,
  )
  assert run.returncode == 0, run.stderr[-3000:]
  assert os.path.isdir(model_dir / 'checkpoint_2')
  # the vocabulary is the given SentencePiece model (no tokens appended for 'original')
  (vocab,) = [f for f in os.listdir(prepared / 'vocab') if f.endswith('.model')]
  assert vocab.startswith('original.base-')
  assert (prepared / 'vocab' / vocab).read_bytes() == (hf / 'spiece.model').read_bytes()
  # step 0 holds the converted weights: T5's rows and norms, the model's rows = the vocabulary's
  start = ocp.StandardCheckpointer().restore(str(model_dir / 'checkpoint_0' / 'state'))['params']
  np.testing.assert_allclose(start['token_embedder']['embedding'], state['shared.weight'])
  np.testing.assert_allclose(
      start['encoder']['encoder_norm']['scale'], state['encoder.final_layer_norm.weight']
  )
  assert start['encoder']['word_embedder']['embedding'].shape == (512, 16)  # fresh, as P5's
  assert "WEIGHT_DECAY_MASK = 'p5'" in (model_dir / 'config.gin').read_text()
