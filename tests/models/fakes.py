"""The tiny T5 every model-backed test builds on."""

from p5jax.models import T5Config

TINY_T5 = dict(
    vocab_size=64,
    emb_dim=16,
    num_heads=2,
    head_dim=8,
    mlp_dim=32,
    num_encoder_layers=1,
    num_decoder_layers=1,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=16,
)


def tiny_t5_config(**overrides) -> T5Config:
  """T5 1.0 / P5 (ReLU, tied and scaled output), 1+1 layers of width 16, 2 heads of 8, MLP 32,
  8 relative-position buckets, vocab 64; `overrides` replace any of these."""
  return T5Config(**{**TINY_T5, **overrides})
