"""Errors of `load_hf_t5` on files that do not fit (parity itself is in test_hf_parity)."""

import json
import sys

import jax
import numpy as np
import pytest
from safetensors.numpy import save_file

from p5jax.models import load_hf_t5

HF_CONFIG = dict(
    vocab_size=10,
    d_model=4,
    d_kv=2,
    d_ff=6,
    num_layers=1,
    num_heads=2,
    relative_attention_num_buckets=4,
    feed_forward_proj='relu',
)


def _state(cfg):
  e, inner, ff, v = cfg['d_model'], cfg['d_kv'] * cfg['num_heads'], cfg['d_ff'], cfg['vocab_size']
  s = {
      'shared.weight': (v, e),
      'encoder.final_layer_norm.weight': (e,),
      'decoder.final_layer_norm.weight': (e,),
  }
  for stack, parts in (
      ('encoder', ('SelfAttention',)),
      ('decoder', ('SelfAttention', 'EncDecAttention')),
  ):
    s[f'{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight'] = (4, 2)
    for i, part in enumerate(parts):
      for w in 'qkv':
        s[f'{stack}.block.0.layer.{i}.{part}.{w}.weight'] = (inner, e)
      s[f'{stack}.block.0.layer.{i}.{part}.o.weight'] = (e, inner)
      s[f'{stack}.block.0.layer.{i}.layer_norm.weight'] = (e,)
    n = len(parts)
    s[f'{stack}.block.0.layer.{n}.DenseReluDense.wi.weight'] = (ff, e)
    s[f'{stack}.block.0.layer.{n}.DenseReluDense.wo.weight'] = (e, ff)
    s[f'{stack}.block.0.layer.{n}.layer_norm.weight'] = (e,)
  return {k: np.ones(shape, np.float32) for k, shape in s.items()}


def _write(path, cfg, state):
  (path / 'config.json').write_text(json.dumps(cfg))
  save_file(state, str(path / 'model.safetensors'))


def test_loads_minimal_checkpoint_and_p5_whole_word_table(tmp_path):
  state = _state(HF_CONFIG)
  state['encoder.whole_word_embeddings.weight'] = np.zeros((512, 4), np.float32)
  _write(tmp_path, HF_CONFIG, state)
  config, params = load_hf_t5(str(tmp_path), dropout_rate=0.0)
  assert config.whole_word_embedding and config.max_words == 512 and config.dropout_rate == 0
  assert params['encoder']['layers_0']['attention']['query']['kernel'].shape == (4, 2, 2)


def test_reads_safetensors_without_torch_single_and_sharded(tmp_path, monkeypatch):
  monkeypatch.setitem(sys.modules, 'torch', None)  # `import torch` now fails
  state = _state(HF_CONFIG)
  _write(tmp_path, HF_CONFIG, state)
  _, single = load_hf_t5(str(tmp_path))
  (tmp_path / 'model.safetensors').unlink()
  names = sorted(state)
  shards = {
      'model-00001-of-00002.safetensors': names[::2],
      'model-00002-of-00002.safetensors': names[1::2],
  }
  for shard, keys in shards.items():
    save_file({k: state[k] for k in keys}, str(tmp_path / shard))
  weight_map = {k: shard for shard, keys in shards.items() for k in keys}
  (tmp_path / 'model.safetensors.index.json').write_text(json.dumps({'weight_map': weight_map}))
  _, sharded = load_hf_t5(str(tmp_path))
  assert jax.tree.all(jax.tree.map(np.array_equal, single, sharded))


def test_shape_mismatch_names_parameter_and_shapes(tmp_path):
  _write(tmp_path, {**HF_CONFIG, 'd_ff': 8}, _state(HF_CONFIG))
  with pytest.raises(
      ValueError,
      match=r"'encoder\.block\.0\.layer\.1\.DenseReluDense\.wi"
      r"\.weight' has shape \(6, 4\).*expects \(8, 4\)",
  ):
    load_hf_t5(str(tmp_path))


def test_missing_and_extra_parameters(tmp_path):
  state = _state(HF_CONFIG)
  del state['decoder.final_layer_norm.weight']
  _write(tmp_path, HF_CONFIG, state)
  with pytest.raises(KeyError, match='decoder.final_layer_norm.weight'):
    load_hf_t5(str(tmp_path))
  _write(
      tmp_path,
      {**HF_CONFIG, 'num_layers': 1},
      {**_state(HF_CONFIG), 'encoder.block.1.layer.0.x': np.ones(1)},
  )
  with pytest.raises(ValueError, match='not used by the config'):
    load_hf_t5(str(tmp_path))


def test_missing_files_and_unknown_activation(tmp_path):
  with pytest.raises(FileNotFoundError, match='config.json'):
    load_hf_t5(str(tmp_path))
  (tmp_path / 'config.json').write_text(json.dumps(HF_CONFIG))
  with pytest.raises(FileNotFoundError, match='model.safetensors'):
    load_hf_t5(str(tmp_path))
  _write(tmp_path, {**HF_CONFIG, 'feed_forward_proj': 'gated-tanh'}, _state(HF_CONFIG))
  with pytest.raises(ValueError, match='feed_forward_proj'):
    load_hf_t5(str(tmp_path))


def _fresh(vocab_size, whole_word=True):
  """Params of our model at HF_CONFIG's dimensions, as the trainer initialises them."""
  import flax.linen as nn
  import jax

  from p5jax.models import EncoderDecoderModel, Transformer, config_from_hf

  config = config_from_hf(
      {**HF_CONFIG, 'vocab_size': vocab_size}, whole_word_embedding=whole_word, max_words=8
  )
  model = EncoderDecoderModel(Transformer(config, np.arange(vocab_size) % 2 == 1))
  shapes = {
      k: (1, 4) for k in ('encoder_input_tokens', 'decoder_input_tokens', 'decoder_target_tokens')
  }
  return nn.unbox(model.get_initial_variables(jax.random.key(0), shapes)['params'])


def test_initial_params_from_hf_extend_the_vocabulary_and_keep_the_whole_word_table(tmp_path):
  """P5's start: T5's rows first, appended-token rows and the whole-word table fresh."""
  from p5jax.models.hf_convert import hf_initial_params, is_hf_checkpoint

  state = _state(HF_CONFIG)
  state['shared.weight'] = np.arange(40, dtype=np.float32).reshape(10, 4)
  _write(tmp_path, HF_CONFIG, state)
  assert is_hf_checkpoint(str(tmp_path)) and not is_hf_checkpoint(str(tmp_path / 'x'))
  fresh = _fresh(16)
  params = hf_initial_params(str(tmp_path), fresh)
  table = np.asarray(params['token_embedder']['embedding'])
  np.testing.assert_array_equal(table[:10], state['shared.weight'])
  np.testing.assert_array_equal(table[10:], np.asarray(fresh['token_embedder']['embedding'])[10:])
  np.testing.assert_array_equal(
      params['encoder']['word_embedder']['embedding'],
      fresh['encoder']['word_embedder']['embedding'],
  )
  np.testing.assert_array_equal(params['encoder']['encoder_norm']['scale'], np.ones(4))
  with pytest.raises(ValueError, match='BASE_SPM_MODEL'):
    hf_initial_params(str(tmp_path), _fresh(8))
