"""Load a Hugging Face T5 checkpoint directory (`config.json` + `model.safetensors`, sharded
safetensors, or `pytorch_model.bin`) as a `T5Config` and Flax params for `Transformer`.

P5 checkpoints saved with `save_pretrained` load too: their
`encoder.whole_word_embeddings.weight` turns `whole_word_embedding` on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from p5jax.models.config import T5Config

_FEED_FORWARD = {
    'relu': ('relu',),
    'gated-gelu': ('gelu', 'linear'),
    'gated-relu': ('relu', 'linear'),
    'gated-silu': ('silu', 'linear'),
    'gelu': ('gelu_exact',),
    'silu': ('silu',),
}


def config_from_hf(
    hf: dict[str, Any],
    *,
    tied: bool | None = None,
    whole_word_embedding: bool = False,
    max_words: int = 512,
) -> T5Config:
  """`T5Config` from the fields of a Hugging Face T5 `config.json`.

  `tied` (output projection = token embedding) defaults to `tie_word_embeddings`. The decoder
  output scaling follows `scale_decoder_outputs` (transformers >= 5, which always writes
  `tie_word_embeddings: true`), else `tie_word_embeddings` (older files: False for T5 1.1).
  """
  proj = hf.get('feed_forward_proj', 'relu')
  if proj not in _FEED_FORWARD:
    raise ValueError(
        f'config.json: feed_forward_proj={proj!r} is not supported; '
        f'known: {sorted(_FEED_FORWARD)}'
    )
  legacy_tied = bool(hf.get('tie_word_embeddings', True))
  tied = legacy_tied if tied is None else tied
  scale = bool(hf.get('scale_decoder_outputs', legacy_tied))
  return T5Config(
      vocab_size=hf['vocab_size'],
      emb_dim=hf['d_model'],
      num_heads=hf['num_heads'],
      num_encoder_layers=hf['num_layers'],
      num_decoder_layers=hf.get('num_decoder_layers') or hf['num_layers'],
      head_dim=hf['d_kv'],
      mlp_dim=hf['d_ff'],
      mlp_activations=_FEED_FORWARD[proj],
      dropout_rate=hf.get('dropout_rate', 0.1),
      logits_via_embedding=tied,
      scale_decoder_output=scale,
      relative_attention_num_buckets=hf.get('relative_attention_num_buckets', 32),
      relative_attention_max_distance=hf.get('relative_attention_max_distance', 128),
      layer_norm_epsilon=hf.get('layer_norm_epsilon', 1e-6),
      whole_word_embedding=whole_word_embedding,
      max_words=max_words,
  )


def _read_state_dict(path: str) -> dict[str, np.ndarray]:
  """The checkpoint's tensors: `model.safetensors`, a sharded `model.safetensors.index.json`
  (both read with safetensors and numpy only) or, failing those, `pytorch_model.bin` (torch)."""
  from safetensors.numpy import load_file

  single = os.path.join(path, 'model.safetensors')
  if os.path.exists(single):
    return dict(load_file(single))
  index = os.path.join(path, 'model.safetensors.index.json')
  if os.path.exists(index):
    with open(index) as f:
      shards = sorted(set(json.load(f)['weight_map'].values()))
    state: dict[str, np.ndarray] = {}
    for shard in shards:
      state.update(load_file(os.path.join(path, shard)))
    return state
  torch_bin = os.path.join(path, 'pytorch_model.bin')
  if os.path.exists(torch_bin):
    import torch

    state = torch.load(torch_bin, map_location='cpu', weights_only=True)
    return {k: v.float().numpy() for k, v in state.items()}
  raise FileNotFoundError(
      f'{path}: no model.safetensors, model.safetensors.index.json or pytorch_model.bin'
  )


def _params_from_state(state: dict[str, np.ndarray], cfg: T5Config) -> dict[str, Any]:
  """Map Hugging Face names to our tree, checking each shape against `cfg`."""
  h, d, e = cfg.num_heads, cfg.head_dim, cfg.emb_dim
  used: set[str] = set()

  def take(
      name: str, expected: tuple[int, ...], fn: Callable[[np.ndarray], np.ndarray] = lambda w: w
  ) -> np.ndarray:
    if name not in state:
      raise KeyError(f'checkpoint has no parameter {name!r}')
    w = np.asarray(state[name], np.float32)
    if w.shape != expected:
      raise ValueError(
          f'checkpoint parameter {name!r} has shape {tuple(w.shape)}, '
          f'but the config expects {expected}'
      )
    used.add(name)
    return fn(w)

  def attention(prefix: str) -> dict[str, Any]:
    heads_in = lambda w: w.T.reshape(e, h, d)  # noqa: E731
    return {
        'query': {'kernel': take(f'{prefix}.q.weight', (h * d, e), heads_in)},
        'key': {'kernel': take(f'{prefix}.k.weight', (h * d, e), heads_in)},
        'value': {'kernel': take(f'{prefix}.v.weight', (h * d, e), heads_in)},
        'out': {'kernel': take(f'{prefix}.o.weight', (e, h * d), lambda w: w.T.reshape(h, d, e))},
    }

  def mlp(prefix: str) -> dict[str, Any]:
    names = (
        ['wi']
        if len(cfg.mlp_activations) == 1
        else [f'wi_{i}' for i in range(len(cfg.mlp_activations))]
    )
    out = {n: take(f'{prefix}.{n}.weight', (cfg.mlp_dim, e), np.transpose) for n in names}
    out['wo'] = take(f'{prefix}.wo.weight', (e, cfg.mlp_dim), np.transpose)
    return out

  def norm(name: str) -> dict[str, Any]:
    return {'scale': take(name, (e,))}

  # Each layer's parts: (our name, converter, Hugging Face name under `<side>.block.<i>.layer`).
  layer_parts = {
      'encoder': (
          ('pre_attention_layer_norm', norm, '0.layer_norm.weight'),
          ('attention', attention, '0.SelfAttention'),
          ('pre_mlp_layer_norm', norm, '1.layer_norm.weight'),
          ('mlp', mlp, '1.DenseReluDense'),
      ),
      'decoder': (
          ('pre_self_attention_layer_norm', norm, '0.layer_norm.weight'),
          ('self_attention', attention, '0.SelfAttention'),
          ('pre_cross_attention_layer_norm', norm, '1.layer_norm.weight'),
          ('encoder_decoder_attention', attention, '1.EncDecAttention'),
          ('pre_mlp_layer_norm', norm, '2.layer_norm.weight'),
          ('mlp', mlp, '2.DenseReluDense'),
      ),
  }
  relpos = (cfg.relative_attention_num_buckets, h)

  def stack(side: str, num_layers: int) -> dict[str, Any]:
    """The encoder or decoder: its shared relative-position table, final norm and layers."""
    table = take(f'{side}.block.0.layer.0.SelfAttention.relative_attention_bias.weight', relpos)
    out = {
        'relpos_bias': {'rel_embedding': table},
        f'{side}_norm': norm(f'{side}.final_layer_norm.weight'),
    }
    for i in range(num_layers):
      p = f'{side}.block.{i}.layer'
      out[f'layers_{i}'] = {name: part(f'{p}.{hf}') for name, part, hf in layer_parts[side]}
    return out

  encoder = stack('encoder', cfg.num_encoder_layers)
  if cfg.whole_word_embedding:
    encoder['word_embedder'] = {
        'embedding': take('encoder.whole_word_embeddings.weight', (cfg.max_words, e))
    }
  decoder = stack('decoder', cfg.num_decoder_layers)
  if not cfg.logits_via_embedding:
    decoder['logits_dense'] = take('lm_head.weight', (cfg.vocab_size, e), np.transpose)
  params = {
      'token_embedder': {'embedding': take('shared.weight', (cfg.vocab_size, e))},
      'encoder': encoder,
      'decoder': decoder,
  }
  aliases = {'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'}
  unused = sorted(set(state) - used - aliases)
  if unused:
    raise ValueError(
        f"checkpoint parameters not used by the config: {unused[:8]}"
        f"{' ...' if len(unused) > 8 else ''} (layer counts too small?)"
    )
  return params


def load_hf_t5(path: str, **config_overrides: Any) -> tuple[T5Config, dict[str, Any]]:
  """`(config, params)` from a Hugging Face T5 / P5 checkpoint directory.

  `config_overrides` replace fields of the derived config (e.g. `dropout_rate=0.0`,
  `dtype='bfloat16'`); every checkpoint shape is checked against the final config and a
  mismatch names the parameter and both shapes.
  """
  config_path = os.path.join(path, 'config.json')
  if not os.path.exists(config_path):
    raise FileNotFoundError(f'{path}: no config.json')
  with open(config_path) as f:
    hf = json.load(f)
  state = _read_state_dict(path)
  wwe = state.get('encoder.whole_word_embeddings.weight')
  # The weights decide tying: a separate, different lm_head means an untied output layer.
  lm_head, shared = state.get('lm_head.weight'), state.get('shared.weight')
  tied = lm_head is None or (
      shared is not None and lm_head.shape == shared.shape and np.array_equal(lm_head, shared)
  )
  config = config_from_hf(
      hf,
      tied=tied,
      whole_word_embedding=wwe is not None,
      max_words=wwe.shape[0] if wwe is not None else 512,
  )
  if config_overrides:
    config = T5Config(**{**config.__dict__, **config_overrides})
  return config, _params_from_state(state, config)


HF_CONFIG_FILE = 'config.json'
HF_WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin')
# Parameters a Hugging Face T5 lacks and P5 initialises fresh: the whole-word embedding.
_NEW_IN_P5 = ('word_embedder',)
# Parameters with a vocabulary axis (path suffix -> axis): entries beyond the checkpoint's keep
# their fresh initialisation.
_VOCAB_AXIS = {"['token_embedder']['embedding']": 0, "['logits_dense']['kernel']": 1}


def is_hf_checkpoint(path: str | None) -> bool:
  """Whether `path` is a Hugging Face T5 directory (config.json and a weights file)."""
  return (
      path is not None
      and os.path.isfile(os.path.join(path, HF_CONFIG_FILE))
      and any(os.path.isfile(os.path.join(path, f)) for f in HF_WEIGHT_FILES)
  )


def hf_initial_params(path: str, fresh_params: Any, *, fallback_to_scratch: bool = False) -> Any:
  """Params shaped and placed like `fresh_params`, taken from a Hugging Face T5 directory.

  This is P5's start: `from_pretrained('t5-small')` with the vocabulary resized. The
  checkpoint's token rows fill the first rows of the embedding (the model's vocabulary must
  extend the checkpoint's, e.g. T5's `spiece.model` plus appended ID tokens); further rows and
  P5's whole-word embedding keep their fresh initialisation. Any other parameter the checkpoint
  lacks is an error unless `fallback_to_scratch`; a shape that does not fit always is.
  """
  from p5jax.models.param_tree import fill_params  # imports jax, which the rest does not need

  _, stored = load_hf_t5(path)

  def fit(key: str, value: np.ndarray, fresh: Any) -> np.ndarray:
    """The checkpoint's vocabulary rows, then the fresh ones beyond them."""
    axis = next((a for k, a in _VOCAB_AXIS.items() if key.endswith(k)), None)
    if axis is not None and value.ndim == 2 and value.shape[1 - axis] == fresh.shape[1 - axis]:
      if value.shape[axis] > fresh.shape[axis]:
        raise ValueError(
            f'{path}: the checkpoint has {value.shape[axis]} vocabulary rows but the model only '
            f"{fresh.shape[axis]}: build the vocabulary from the checkpoint's SentencePiece "
            'model (BASE_SPM_MODEL) so that token ids match'
        )
      rest = np.take(np.asarray(fresh), np.arange(value.shape[axis], fresh.shape[axis]), axis)
      value = np.concatenate([value, rest.astype(value.dtype)], axis=axis)
    return value

  def mismatch(message: str) -> ValueError:
    return ValueError(
        f"{path}: {message} (model dimensions differ from the checkpoint's config.json)"
    )

  params, missing = fill_params(fresh_params, stored, mismatch, fit)
  missing = [k for k in missing if not any(f"['{name}']" in k for name in _NEW_IN_P5)]
  if missing and not fallback_to_scratch:
    raise ValueError(f'{path} lacks params {missing[:5]}; the model does not match this checkpoint')
  return params
