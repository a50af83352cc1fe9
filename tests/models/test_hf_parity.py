"""Parity with Hugging Face `T5ForConditionalGeneration` on random weights (no download)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from p5jax.models import EncoderDecoderModel, Transformer, load_hf_t5

VOCAB = 64
HF_CONFIGS = {
    't5_v1_0': dict(feed_forward_proj='relu', tie_word_embeddings=True),
    't5_v1_1': dict(feed_forward_proj='gated-gelu', tie_word_embeddings=False),
}


def _hf_model(style: str, tmp_path):
  torch.manual_seed(0)
  config = transformers.T5Config(
      vocab_size=VOCAB,
      d_model=32,
      d_kv=8,
      d_ff=48,
      num_layers=2,
      num_decoder_layers=3,
      num_heads=4,
      relative_attention_num_buckets=8,
      relative_attention_max_distance=16,
      dropout_rate=0.0,
      decoder_start_token_id=0,
      pad_token_id=0,
      eos_token_id=1,
      **HF_CONFIGS[style],
  )
  model = transformers.T5ForConditionalGeneration(config).eval()
  # Random init leaves some weights tiny; widen them so the comparison is meaningful.
  with torch.no_grad():
    for p in model.parameters():
      p.normal_(0.0, 0.5)
    if not HF_CONFIGS[style]['tie_word_embeddings']:
      # transformers >= 5 always ties; T5 1.1 checkpoints carry their own lm_head.
      model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight))
  model.save_pretrained(tmp_path)
  return model


def _batch():
  rng = np.random.default_rng(0)
  enc = rng.integers(2, VOCAB, (3, 12))
  enc[0, 9:] = 0
  enc[1, 5:] = 0
  enc[[0, 1, 2], [8, 4, 11]] = 1
  tgt = rng.integers(2, VOCAB, (3, 7))
  tgt[:, -1] = 1
  dec_in = np.concatenate([np.zeros((3, 1), int), tgt[:, :-1]], axis=1)
  return enc, dec_in, tgt


@pytest.fixture(scope='module', params=sorted(HF_CONFIGS))
def converted(request, tmp_path_factory):
  path = tmp_path_factory.mktemp(request.param)
  hf = _hf_model(request.param, path)
  config, params = load_hf_t5(str(path))
  return hf, config, params


def test_config_style(converted):
  hf, config, _ = converted
  v1_0 = hf.config.feed_forward_proj == 'relu'
  assert config.logits_via_embedding == v1_0 == config.scale_decoder_output
  assert config.mlp_activations == (('relu',) if v1_0 else ('gelu', 'linear'))


def test_logits_and_loss_match(converted):
  hf, config, params = converted
  enc, dec_in, tgt = _batch()
  with torch.no_grad():
    out = hf(
        input_ids=torch.tensor(enc),
        attention_mask=torch.tensor(enc > 0),
        decoder_input_ids=torch.tensor(dec_in),
        labels=torch.tensor(tgt),
    )
  ours = Transformer(config).apply(
      {'params': params}, jnp.asarray(enc), jnp.asarray(dec_in), jnp.asarray(tgt)
  )
  diff = np.max(np.abs(np.asarray(ours) - out.logits.numpy()))
  assert diff < 1e-4, diff
  model = EncoderDecoderModel(Transformer(config))
  batch = {
      'encoder_input_tokens': jnp.asarray(enc),
      'decoder_input_tokens': jnp.asarray(dec_in),
      'decoder_target_tokens': jnp.asarray(tgt),
      'decoder_loss_weights': jnp.ones(tgt.shape, jnp.float32),
  }
  loss, _ = model.eval_fn(params, batch)
  np.testing.assert_allclose(float(loss), float(out.loss), rtol=1e-5)


def test_greedy_decode_matches_generate(converted):
  hf, config, params = converted
  enc, _, _ = _batch()
  max_len = 10
  with torch.no_grad():
    gen = hf.generate(
        input_ids=torch.tensor(enc),
        attention_mask=torch.tensor(enc > 0),
        num_beams=1,
        do_sample=False,
        max_new_tokens=max_len,
        min_new_tokens=0,
        use_cache=False,
    ).numpy()[:, 1:]
  model = EncoderDecoderModel(Transformer(config))
  batch = {
      'encoder_input_tokens': jnp.asarray(enc),
      'decoder_input_tokens': jnp.zeros((3, max_len), jnp.int32),
  }
  tokens, aux = jax.jit(model.predict_batch_with_aux)(params, batch)
  tokens = np.asarray(tokens)
  expected = np.zeros_like(tokens)
  expected[:, : gen.shape[1]] = gen
  np.testing.assert_array_equal(tokens, expected)
  assert aux['scores'].shape == (3,)
