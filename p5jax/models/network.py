"""The T5 encoder-decoder (`Transformer`) with P5's whole-word embedding.

`Transformer.__call__` keeps T5X's signature. For incremental decoding, `cross_kv` projects the
encoder output once per user and `Decoder.step` (through `Transformer.decoder`) runs one token
through the decoder, reading and writing the `cache` collection.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from p5jax.models.attention import NEG_INF, CrossAttention, SelfAttention
from p5jax.models.config import T5Config
from p5jax.models.dropout import Dropout
from p5jax.models.layers import Embed, MlpBlock, RMSNorm, kernel_init
from p5jax.models.relative_position import RelativePositionBias
from p5jax.models.whole_word import whole_word_ids

KV = tuple[jnp.ndarray, jnp.ndarray]


def _mask_bias(mask: jnp.ndarray) -> jnp.ndarray:
  return jnp.where(mask, 0.0, NEG_INF).astype(jnp.float32)


def _key_mask(
    key_tokens: jnp.ndarray, query_segments: jnp.ndarray | None, key_segments: jnp.ndarray | None
) -> jnp.ndarray:
  """`[B, 1, Q or 1, K]` mask: keys that are not padding (and in the query's segment)."""
  mask = (key_tokens > 0)[:, None, None, :]
  if query_segments is not None and key_segments is not None:
    mask = mask & (query_segments[:, None, :, None] == key_segments[:, None, None, :])
  return mask


class EncoderLayer(nn.Module):
  """Pre-norm self-attention and feed-forward, each with dropout and a residual."""

  config: T5Config

  @nn.compact
  def __call__(self, x: jnp.ndarray, bias: jnp.ndarray, deterministic: bool) -> jnp.ndarray:
    cfg = self.config
    h = RMSNorm(cfg, name='pre_attention_layer_norm')(x)
    h = SelfAttention(cfg, name='attention')(h, bias, deterministic)
    x = x + Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
    h = RMSNorm(cfg, name='pre_mlp_layer_norm')(x)
    h = MlpBlock(cfg, name='mlp')(h, deterministic)
    x = x + Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
    return nn.with_logical_constraint(x, ('batch', 'length', 'embed'))


class DecoderLayer(nn.Module):
  """Pre-norm causal self-attention, cross-attention and feed-forward."""

  config: T5Config

  def setup(self):
    cfg = self.config
    self.pre_self_attention_layer_norm = RMSNorm(cfg)
    self.self_attention = SelfAttention(cfg)
    self.pre_cross_attention_layer_norm = RMSNorm(cfg)
    self.encoder_decoder_attention = CrossAttention(cfg)
    self.pre_mlp_layer_norm = RMSNorm(cfg)
    self.mlp = MlpBlock(cfg)
    self.dropout = Dropout(cfg.dropout_rate)

  def project_kv(self, encoded: jnp.ndarray, decode: bool = False) -> KV:
    return self.encoder_decoder_attention.project_kv(encoded, decode)

  def __call__(
      self,
      x: jnp.ndarray,
      kv: KV,
      self_bias: jnp.ndarray,
      cross_bias: jnp.ndarray,
      deterministic: bool,
      *,
      num_groups: int = 1,
      decode: bool = False,
      decode_position: jnp.ndarray | None = None,
      max_decode_len: int | None = None,
  ) -> jnp.ndarray:
    h = self.pre_self_attention_layer_norm(x)
    h = self.self_attention(
        h,
        self_bias,
        deterministic,
        decode=decode,
        decode_position=decode_position,
        max_decode_len=max_decode_len,
    )
    x = x + self.dropout(h, deterministic=deterministic)
    h = self.pre_cross_attention_layer_norm(x)
    h = self.encoder_decoder_attention(
        h, kv, cross_bias, deterministic, num_groups=num_groups, decode=decode
    )
    x = x + self.dropout(h, deterministic=deterministic)
    h = self.mlp(self.pre_mlp_layer_norm(x), deterministic)
    x = x + self.dropout(h, deterministic=deterministic)
    return nn.with_logical_constraint(x, ('batch', 'length', 'embed'))


def _stack_parts(cfg: T5Config, layer: type[nn.Module], num_layers: int, bidirectional: bool):
  """What an encoder or decoder stack holds besides its embeddings: the shared
  relative-position bias, the layers, the final norm and the dropout. Called from `setup`, so
  the parts take the attribute names (and checkpoint paths) they are assigned to."""
  return (
      RelativePositionBias(cfg, bidirectional=bidirectional),
      [layer(cfg) for _ in range(num_layers)],
      RMSNorm(cfg),
      Dropout(cfg.dropout_rate),
  )


class Encoder(nn.Module):
  """Token (+ whole-word) embedding, dropout, T5 layers sharing one relative-position bias."""

  config: T5Config
  shared_embedding: Embed
  word_start_table: np.ndarray | None = None

  def setup(self):
    cfg = self.config
    self.relpos_bias, self.layers, self.encoder_norm, self.dropout = _stack_parts(
        cfg, EncoderLayer, cfg.num_encoder_layers, bidirectional=True
    )
    if cfg.whole_word_embedding:
      # N(0, 1) init, as PyTorch's nn.Embedding default that P5 used.
      self.word_embedder = Embed(cfg.max_words, cfg.emb_dim, cfg.dtype, axes=(None, 'embed'))

  def __call__(
      self,
      tokens: jnp.ndarray,
      segment_ids: jnp.ndarray | None = None,
      enable_dropout: bool = False,
  ) -> jnp.ndarray:
    cfg = self.config
    deterministic = not enable_dropout
    x = self.shared_embedding(tokens)
    if cfg.whole_word_embedding and (enable_dropout or cfg.whole_word_at_inference):
      word_ids = whole_word_ids(
          tokens, jnp.asarray(self.word_start_table), segment_ids, max_words=cfg.max_words
      )
      x = x + self.word_embedder(word_ids)
    elif cfg.whole_word_embedding and self.is_initializing():
      self.word_embedder(tokens[:, :1])  # create the table: training uses it (P5's original)
    x = nn.with_logical_constraint(x, ('batch', 'length', 'embed'))
    x = self.dropout(x, deterministic=deterministic)
    positions = jnp.arange(tokens.shape[1])
    bias = self.relpos_bias(positions, positions) + _mask_bias(
        _key_mask(tokens, segment_ids, segment_ids)
    )
    for layer in self.layers:
      x = layer(x, bias, deterministic)
    x = self.encoder_norm(x)
    return self.dropout(x, deterministic=deterministic)


class DecodePosition(nn.Module):
  """The decode step's position, a scalar in the cache shared by all rows; advances by one
  per call."""

  @nn.compact
  def __call__(self) -> jnp.ndarray:
    position = self.variable('cache', 'position', lambda: jnp.zeros((), jnp.int32))
    current = position.value
    position.value = current + 1
    return current


class Decoder(nn.Module):
  """Causal T5 decoder with cross-attention and tied or untied output logits."""

  config: T5Config
  shared_embedding: Embed

  def setup(self):
    cfg = self.config
    self.relpos_bias, self.layers, self.decoder_norm, self.dropout = _stack_parts(
        cfg, DecoderLayer, cfg.num_decoder_layers, bidirectional=False
    )
    self.decode_position = DecodePosition()
    if not cfg.logits_via_embedding:
      self.logits_dense = self.param(
          'logits_dense',
          nn.with_logical_partitioning(kernel_init(), ('embed', 'vocab')),
          (cfg.emb_dim, cfg.vocab_size),
          jnp.float32,
      )

  def cross_kv(self, encoded: jnp.ndarray, decode: bool = False) -> list[KV]:
    """Per-layer encoder keys/values `[B, L_enc, heads, head_dim]` (`decode`: in the decode
    step's layouts, see `CrossAttention.project_kv`)."""
    return [layer.project_kv(encoded, decode) for layer in self.layers]

  def _output_states(self, y: jnp.ndarray, deterministic: bool) -> jnp.ndarray:
    """Final norm, dropout and (T5 1.0) scaling: what the output projection multiplies."""
    y = self.dropout(self.decoder_norm(y), deterministic=deterministic)
    if self.config.scale_decoder_output:
      y = y * self.config.emb_dim**-0.5
    return y

  def output_table(self) -> jnp.ndarray:
    """The output projection as a `[vocab, embed]` table (tied embedding or dense.T)."""
    if self.config.logits_via_embedding:
      return self.shared_embedding.table()
    return self.logits_dense.astype(jnp.dtype(self.config.dtype)).T

  def _logits(
      self, y: jnp.ndarray, deterministic: bool, vocab_subset: jnp.ndarray | None = None
  ) -> jnp.ndarray:
    cfg = self.config
    y = self._output_states(y, deterministic)
    if cfg.logits_via_embedding:
      if vocab_subset is not None:
        return self.shared_embedding.attend_subset(y, vocab_subset)
      logits = self.shared_embedding.attend(y)
    else:
      kernel = self.logits_dense.astype(jnp.dtype(cfg.dtype))
      if vocab_subset is not None:
        return jnp.einsum('ne,enf->nf', y, jnp.take(kernel, vocab_subset, axis=1))
      logits = jnp.einsum('...e,ev->...v', y, kernel)
    # A decode step's logits are [B*K, V]; teacher-forced ones [B, L, V].
    axes = ('batch', 'vocab') if logits.ndim == 2 else ('batch', 'length', 'vocab')
    return nn.with_logical_constraint(logits, axes)

  def __call__(
      self,
      encoded: jnp.ndarray,
      cross_mask: jnp.ndarray,
      decoder_input_tokens: jnp.ndarray,
      decoder_target_tokens: jnp.ndarray,
      decoder_segment_ids: jnp.ndarray | None,
      *,
      enable_dropout: bool,
      return_hidden: bool,
  ) -> jnp.ndarray | tuple[jnp.ndarray, jnp.ndarray]:
    """Teacher-forced logits `[B, L_dec, vocab]`; with `return_hidden`, the output states
    `[B, L_dec, embed]` and the `[vocab, embed]` output table instead (for a loss that
    never materialises the logits, `losses.chunked_logits_cross_entropy`).

    `cross_mask [B, 1, L_dec or 1, L_enc]` says which encoder positions each decoder
    position may attend to.
    """
    deterministic = not enable_dropout
    length = decoder_input_tokens.shape[1]
    positions = jnp.arange(length)
    causal = positions[None, :] <= positions[:, None]
    self_mask = causal[None, None] & _key_mask(
        decoder_target_tokens, decoder_segment_ids, decoder_segment_ids
    )
    self_bias = self.relpos_bias(positions, positions) + _mask_bias(self_mask)
    cross_bias = _mask_bias(cross_mask)
    x = self.dropout(self.shared_embedding(decoder_input_tokens), deterministic=deterministic)
    for layer, kv in zip(self.layers, self.cross_kv(encoded)):
      x = layer(x, kv, self_bias, cross_bias, deterministic)
    if return_hidden:
      return self._output_states(x, deterministic), self.output_table()
    return self._logits(x, deterministic)

  def step(
      self,
      token_ids: jnp.ndarray,
      cross_kv: Sequence[KV],
      encoder_mask: jnp.ndarray,
      *,
      max_decode_len: int,
      vocab_subset: jnp.ndarray | None = None,
  ) -> jnp.ndarray:
    """One cached decode step for `token_ids [B*K]` (rows beam-major over B users).

    `encoder_mask [B, L_enc]` marks real encoder tokens; logits are `[B*K, V]`, or
    `[B*K, F]` for the ids in `vocab_subset [B*K, F]`.
    """
    num_groups = token_ids.shape[0] // encoder_mask.shape[0]
    position = self.decode_position()
    keys = jnp.arange(max_decode_len)
    self_bias = (
        self.relpos_bias(position[None], keys) + _mask_bias(keys <= position)[None, None, None, :]
    )
    cross_bias = _mask_bias(encoder_mask)[:, None, None, :]
    x = self.shared_embedding(token_ids[:, None])
    for layer, kv in zip(self.layers, cross_kv):
      x = layer(
          x,
          kv,
          self_bias,
          cross_bias,
          True,
          num_groups=num_groups,
          decode=True,
          decode_position=position,
          max_decode_len=max_decode_len,
      )
    return self._logits(x[:, 0], True, vocab_subset)


class Transformer(nn.Module):
  """T5 encoder-decoder with T5X's call signature.

  Attributes:
    config: the `T5Config`.
    word_start_table: bool `[vocab_size]`, True where a piece starts a word; required when
      `config.whole_word_embedding`.
  """

  config: T5Config
  word_start_table: np.ndarray | None = None

  def setup(self):
    cfg = self.config
    if cfg.whole_word_embedding:
      if self.word_start_table is None:
        raise ValueError(
            'T5Config.whole_word_embedding=True needs word_start_table '
            '(bool [vocab_size], see p5jax.vocab.word_start_table)'
        )
      shape = np.shape(self.word_start_table)
      if shape != (cfg.vocab_size,):
        raise ValueError(
            f'word_start_table has shape {shape}, expected '
            f'({cfg.vocab_size},) = (config.vocab_size,)'
        )
    self.token_embedder = Embed(cfg.vocab_size, cfg.emb_dim, cfg.dtype)
    self.encoder = Encoder(cfg, self.token_embedder, self.word_start_table)
    self.decoder = Decoder(cfg, self.token_embedder)

  def encode(
      self,
      encoder_input_tokens: jnp.ndarray,
      encoder_segment_ids: jnp.ndarray | None = None,
      encoder_positions: jnp.ndarray | None = None,
      enable_dropout: bool = False,
  ) -> jnp.ndarray:
    """Encoder output `[B, L_enc, emb_dim]` (positions are implied by the segments)."""
    del encoder_positions
    return self.encoder(encoder_input_tokens, encoder_segment_ids, enable_dropout)

  def __call__(
      self,
      encoder_input_tokens: jnp.ndarray,
      decoder_input_tokens: jnp.ndarray,
      decoder_target_tokens: jnp.ndarray,
      encoder_segment_ids: jnp.ndarray | None = None,
      decoder_segment_ids: jnp.ndarray | None = None,
      encoder_positions: jnp.ndarray | None = None,
      decoder_positions: jnp.ndarray | None = None,
      enable_dropout: bool = False,
      return_hidden: bool = False,
  ):
    """Teacher-forced logits `[B, L_dec, vocab]` (see `Decoder` for `return_hidden`);
    positions are implied by the segments."""
    del decoder_positions
    encoded = self.encode(
        encoder_input_tokens, encoder_segment_ids, encoder_positions, enable_dropout
    )
    cross_mask = _key_mask(encoder_input_tokens, decoder_segment_ids, encoder_segment_ids)
    return self.decoder(
        encoded,
        cross_mask,
        decoder_input_tokens,
        decoder_target_tokens,
        decoder_segment_ids,
        enable_dropout=enable_dropout,
        return_hidden=return_hidden,
    )

  def cross_kv(self, encoded: jnp.ndarray) -> list[KV]:
    """Per-decoder-layer cross-attention keys/values for `Decoder.step`, computed once per
    user."""
    return self.decoder.cross_kv(encoded, decode=True)
