"""Parity with Hugging Face `T5ForConditionalGeneration` on random weights (no download): the
converted model, its greedy decode, and `Predictor.from_hf(...).generate` on P5 prompts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from p5jax import Predictor, prompts, vocab
from p5jax.models import EncoderDecoderModel, Transformer, load_hf_t5
from p5jax.vocab import load_vocabulary

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


# --- Predictor.from_hf vs generate on P5 prompts ------------------------------------------


def _p5_prompts(count: int) -> list[str]:
  """P5 prompts of every family and template, slots filled with synthetic values."""
  rng = np.random.default_rng(1)
  words = ['soft', 'cream', 'lovely', 'smell', 'brush', 'great', 'price', 'skin', 'nail', 'red']

  def value(slot):
    if slot in ('purchase_history', 'candidates', 'groundtruth_item_ids'):
      return ' , '.join(str(i) for i in rng.integers(1, 3000, int(rng.integers(2, 8))))
    if slot.endswith('_id') or slot in ('star_rating', 'price'):
      return str(int(rng.integers(1, 3000)))
    return ' '.join(rng.choice(words, int(rng.integers(1, 5))))

  templates = list(prompts.templates('amazon').values())
  out = []
  for i in range(count):
    template = templates[i % len(templates)]
    out.append(template.render({s: value(s) for s in template.slots})[0])
  return out


@pytest.fixture(scope='module')
def p5_parity(tmp_path_factory):
  """A random HF T5 1.0 (saved as safetensors), a SentencePiece model trained on P5's
  templates, the Predictor over both, and rendered P5 prompts."""
  path = tmp_path_factory.mktemp('p5_parity')
  spm = path / 'spm.model'
  spm.write_bytes(vocab.train_sentencepiece(vocab.template_sentences(), [], vocab_size=300))
  pieces = load_vocabulary(str(spm)).vocab_size
  torch.manual_seed(1)
  config = transformers.T5Config(
      vocab_size=-(-pieces // 64) * 64,
      d_model=32,
      d_kv=8,
      d_ff=64,
      num_layers=2,
      num_decoder_layers=2,
      num_heads=4,
      dropout_rate=0.0,
      decoder_start_token_id=0,
      pad_token_id=0,
      eos_token_id=1,
      feed_forward_proj='relu',
      tie_word_embeddings=True,
  )
  hf = transformers.T5ForConditionalGeneration(config).eval()
  with torch.no_grad():
    for p in hf.parameters():
      p.normal_(0.0, 0.5)
    hf.shared.weight[1] *= 2.5  # EOS wins at varied steps
  hf.save_pretrained(path / 'hf', safe_serialization=True)
  predictor = Predictor.from_hf(str(path / 'hf'), vocabulary=str(spm))
  return hf, predictor, _p5_prompts(32)


def _hf_generate(hf, predictor, texts, **kwargs) -> list[list[str]]:
  ids = [predictor.vocabulary.encode(t) + [1] for t in texts]
  enc = np.zeros((len(ids), max(map(len, ids))), np.int64)
  for i, row in enumerate(ids):
    enc[i, : len(row)] = row
  with torch.no_grad():
    out = hf.generate(
        input_ids=torch.tensor(enc),
        attention_mask=torch.tensor(enc > 0),
        do_sample=False,
        early_stopping=True,
        length_penalty=1.0,
        **kwargs,
    ).numpy()[:, 1:]
  per = kwargs.get('num_return_sequences', 1)
  strings = [predictor.vocabulary.decode(_until_eos(row)) for row in out]
  return [strings[i * per : (i + 1) * per] for i in range(len(texts))]


def _until_eos(row) -> list[int]:
  row = [int(t) for t in row]
  return row[: row.index(1) + 1] if 1 in row else row


@pytest.mark.slow
@pytest.mark.parametrize(
    'num_beams,num_return_sequences,max_length,rate',
    [(1, 1, 20, 1.0), (20, 20, 12, 0.95), (5, 5, 30, 0.95)],
)
def test_predictor_generate_equals_hf_generate(
    p5_parity, num_beams, num_return_sequences, max_length, rate
):
  hf, predictor, texts = p5_parity
  settings = dict(
      num_beams=num_beams, num_return_sequences=num_return_sequences, max_length=max_length
  )
  want = _hf_generate(hf, predictor, texts, **settings)
  got = predictor.generate(texts, **settings)
  same = [g == w for g, w in zip(got, want)]
  print(f'{settings}: {sum(same)}/{len(same)} prompts give exactly the HF lists')
  assert np.mean(same) >= rate, [(g, w) for g, w, s in zip(got, want, same) if not s][:2]


@pytest.mark.slow
@pytest.mark.parametrize(
    'num_beams,settings',
    [
        (1, dict(min_length=6, repetition_penalty=1.4)),
        (4, dict(min_length=5, repetition_penalty=0.7, early_stopping=False)),
        (4, dict(repetition_penalty=1.3, length_penalty=2.0, early_stopping=True)),
    ],
)
def test_min_length_and_repetition_penalty_equal_hf(p5_parity, num_beams, settings):
  hf, predictor, texts = p5_parity
  texts, max_length = texts[:8], 12
  ids = [predictor.vocabulary.encode(t) + [1] for t in texts]
  enc = np.zeros((len(ids), 64), np.int64)
  for i, row in enumerate(ids):
    enc[i, : len(row)] = row
  with torch.no_grad():
    want = hf.generate(
        input_ids=torch.tensor(enc),
        attention_mask=torch.tensor(enc > 0),
        do_sample=False,
        num_beams=num_beams,
        max_length=max_length,
        **settings,
    ).numpy()[:, 1:]
  ours = dict(settings, mode='hf', num_beams=num_beams, max_length=max_length)
  ours['alpha'] = ours.pop('length_penalty', 1.0)
  batch = {
      'encoder_input_tokens': jnp.asarray(enc, jnp.int32),
      'decoder_input_tokens': jnp.zeros((len(ids), 1), jnp.int32),
  }
  got, _ = jax.jit(lambda p, b: predictor.model.predict_batch_with_aux(p, b, decoder_params=ours))(
      predictor.params, batch
  )
  assert [_until_eos(r) for r in np.asarray(got)] == [_until_eos(r) for r in want]
