"""`T5Config`: the hyper-parameters of a T5 encoder-decoder, validated on construction."""

from __future__ import annotations

import dataclasses

ACTIVATIONS = ('relu', 'gelu', 'gelu_exact', 'silu', 'linear')
DTYPES = ('float32', 'bfloat16', 'float16')


@dataclasses.dataclass(frozen=True)
class T5Config:
  """Sizes and switches of a T5 1.0 (P5) or T5 1.1 model.

  `mlp_activations` has one entry per input projection of the feed-forward block:
  `('relu',)` is T5 1.0, `('gelu', 'linear')` is T5 1.1's gated GELU (tanh approximation, as
  Hugging Face's `gelu_new`). `logits_via_embedding` ties the output projection to the token
  embedding; `scale_decoder_output` multiplies the decoder output by `emb_dim**-0.5` before it
  (T5 1.0 with tied embeddings). `whole_word_embedding` adds P5's `[max_words, emb_dim]` table
  to the encoder input; `whole_word_at_inference=False` skips it whenever dropout is off, which
  reproduces P5's train/inference mismatch.
  """

  vocab_size: int = 32128
  emb_dim: int = 512
  num_heads: int = 8
  num_encoder_layers: int = 6
  num_decoder_layers: int = 6
  head_dim: int = 64
  mlp_dim: int = 2048
  mlp_activations: tuple[str, ...] = ('relu',)
  dropout_rate: float = 0.1
  logits_via_embedding: bool = True
  scale_decoder_output: bool = True
  relative_attention_num_buckets: int = 32
  relative_attention_max_distance: int = 128
  layer_norm_epsilon: float = 1e-6
  dtype: str = 'float32'
  whole_word_embedding: bool = False
  max_words: int = 512
  whole_word_at_inference: bool = True

  def __post_init__(self):
    object.__setattr__(self, 'mlp_activations', tuple(self.mlp_activations))
    for name in (
        'vocab_size',
        'emb_dim',
        'num_heads',
        'num_encoder_layers',
        'num_decoder_layers',
        'head_dim',
        'mlp_dim',
        'relative_attention_num_buckets',
        'relative_attention_max_distance',
        'max_words',
    ):
      value = getattr(self, name)
      if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f'T5Config.{name} must be a positive int, got {value!r}')
    if not self.mlp_activations:
      raise ValueError('T5Config.mlp_activations must name at least one activation')
    unknown = [a for a in self.mlp_activations if a not in ACTIVATIONS]
    if unknown:
      raise ValueError(
          f'T5Config.mlp_activations has unknown activation(s) {unknown}; ' f'known: {ACTIVATIONS}'
      )
    if not 0.0 <= self.dropout_rate < 1.0:
      raise ValueError(f'T5Config.dropout_rate must be in [0, 1), got {self.dropout_rate}')
    if self.layer_norm_epsilon <= 0:
      raise ValueError('T5Config.layer_norm_epsilon must be > 0, got ' f'{self.layer_norm_epsilon}')
    if self.dtype not in DTYPES:
      raise ValueError(f'T5Config.dtype must be one of {DTYPES}, got {self.dtype!r}')
    if self.relative_attention_num_buckets < 2:
      raise ValueError(
          'T5Config.relative_attention_num_buckets must be >= 2 (half of '
          'them are exact offsets, half logarithmic)'
      )
    if self.scale_decoder_output and not self.logits_via_embedding:
      raise ValueError(
          'T5Config.scale_decoder_output applies to tied embeddings only; '
          'set logits_via_embedding=True or scale_decoder_output=False'
      )

  @property
  def attention_dim(self) -> int:
    """`num_heads * head_dim`, the width of the joined query/key/value projections."""
    return self.num_heads * self.head_dim

  @classmethod
  def t5_v1_0(cls, **overrides) -> T5Config:
    """T5 1.0 / P5 style: ReLU feed-forward, tied and scaled output embedding."""
    return cls(
        **{
            'mlp_activations': ('relu',),
            'logits_via_embedding': True,
            'scale_decoder_output': True,
            **overrides,
        }
    )

  @classmethod
  def t5_v1_1(cls, **overrides) -> T5Config:
    """T5 1.1 style: gated GELU feed-forward, untied output projection."""
    return cls(
        **{
            'mlp_activations': ('gelu', 'linear'),
            'logits_via_embedding': False,
            'scale_decoder_output': False,
            **overrides,
        }
    )
