"""`EncoderDecoderModel`: the T5X-style wrapper that the trainer, evaluator and decoders use."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from p5jax.decoding import StepFn, beam_search
from p5jax.models.losses import chunked_logits_cross_entropy, cross_entropy_terms, target_is_top
from p5jax.models.network import Transformer

Batch = Mapping[str, jnp.ndarray]
LOSS_NORMALIZATIONS = ('token_mean', 'per_example_mean')
_MODULE_KEYS = (
    'encoder_input_tokens',
    'decoder_input_tokens',
    'decoder_target_tokens',
    'encoder_segment_ids',
    'decoder_segment_ids',
    'encoder_positions',
    'decoder_positions',
)


def padded_word_start_table(vocabulary: Any, vocab_size: int) -> np.ndarray:
  """`p5jax.vocab.word_start_table(vocabulary)` padded with False to the model's vocab size
  (T5 pads 32100 pieces to a 32128-row embedding)."""
  from p5jax.vocab import word_start_table

  table = np.asarray(word_start_table(vocabulary), bool)
  if table.shape[0] > vocab_size:
    raise ValueError(
        f"vocabulary has {table.shape[0]} ids but the model's vocab_size is " f"{vocab_size}"
    )
  return np.pad(table, (0, vocab_size - table.shape[0]))


def token_log_likelihood(logits: jnp.ndarray, targets: jnp.ndarray) -> jnp.ndarray:
  """log p(target) per position, `[B, L]`, in float32."""
  return cross_entropy_terms(logits, targets)[2]


def _decoder_step(module: Transformer, *args, **kwargs) -> jnp.ndarray:
  """`module.decoder.step` as an `apply` method: one cached decode step (needs
  `mutable=['cache']`, see `Decoder.step`)."""
  return module.decoder.step(*args, **kwargs)


class EncoderDecoderModel:
  """Loss, scoring and decoding around a `Transformer` (T5X `EncoderDecoderModel` surface).

  Args:
    module: the Flax `Transformer`. With `whole_word_embedding` and no `word_start_table`,
      the table is derived from `input_vocabulary` (pieces starting with `▁`).
    input_vocabulary, output_vocabulary: seqio vocabularies (may be None in code-only use).
    loss_normalization: 'token_mean' (T5X: mean over all target tokens in the batch) or
      'per_example_mean' (P5: each example's token mean, then the mean over examples; packed
      segments count as examples).
    z_loss: weight of `log(Z)**2` (T5X's auxiliary loss), 0 disables it.
    label_smoothing: mass spread uniformly over the other tokens.
    loss_chunk_size: when set, the training/eval loss walks the vocabulary in chunks of
      this many rows (`losses.chunked_logits_cross_entropy`) instead of materialising
      `[B, L, vocab]` logits; same values and gradients. None keeps the full logits.
    loss_positions: when set, the loss computes logits only for the real target positions
      (`decoder_loss_weights > 0`), gathered into this many slots per batch, instead of for
      every `[B, L]` position; same values and gradients. Packed or padded rows are mostly
      padding on the decoder side (a few target pieces per example), so this skips most of
      the `[positions, vocab]` work. A batch with more real positions than slots takes the
      full-logits path instead (a `lax.cond`, no host sync), so it is never wrong, only slower.
      None computes every position.
    decode_fn: `fn(step_fn, cache, *, batch_size, num_decodes, max_decode_len, eos_id,
      constraint, **decoder_params) -> (seqs [B, K, L], scores [B, K])`, best first.
      Default: `p5jax.decoding.beam_search` with `mode='hf'` (Hugging Face `generate`:
      greedy for one decode); gin binds `@decoding.beam_search` (p5jax's constrained search
      unless `decoder_params` say `mode='hf'`).
  """

  def __init__(
      self,
      module: Transformer,
      input_vocabulary: Any = None,
      output_vocabulary: Any = None,
      *,
      loss_normalization: str = 'token_mean',
      z_loss: float = 0.0,
      label_smoothing: float = 0.0,
      loss_chunk_size: int | None = None,
      loss_positions: int | None = None,
      decode_fn: Callable[..., tuple[jnp.ndarray, jnp.ndarray]] | None = None,
  ):
    if loss_normalization not in LOSS_NORMALIZATIONS:
      raise ValueError(
          f'loss_normalization must be one of {LOSS_NORMALIZATIONS}, got ' f'{loss_normalization!r}'
      )
    if not 0.0 <= label_smoothing < 1.0:
      raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
    if loss_chunk_size is not None and loss_chunk_size <= 0:
      raise ValueError(f'loss_chunk_size must be positive or None, got {loss_chunk_size}')
    if loss_positions is not None and loss_positions <= 0:
      raise ValueError(f'loss_positions must be positive or None, got {loss_positions}')
    if loss_positions is not None and loss_chunk_size is not None:
      raise ValueError('set at most one of loss_positions and loss_chunk_size')
    cfg = module.config
    if (
        cfg.whole_word_embedding
        and module.word_start_table is None
        and input_vocabulary is not None
    ):
      module = module.clone(
          word_start_table=padded_word_start_table(input_vocabulary, cfg.vocab_size)
      )
    self.module = module
    self.config = cfg
    self.input_vocabulary = input_vocabulary
    self.output_vocabulary = output_vocabulary
    self.loss_normalization = loss_normalization
    self.z_loss = z_loss
    self.label_smoothing = label_smoothing
    self.loss_chunk_size = loss_chunk_size
    self.loss_positions = loss_positions
    self.decode_fn = decode_fn or functools.partial(beam_search, mode='hf')
    self.eos_id = getattr(output_vocabulary, 'eos_id', None) or 1

  # --- init / forward -------------------------------------------------------------------
  def get_initial_variables(
      self,
      rng: jax.Array,
      input_shapes: Mapping[str, tuple],
      input_types: Mapping[str, Any] | None = None,
  ) -> dict:
    """Variables (params boxed with their logical axis names) for inputs of these shapes."""
    input_types = input_types or {}

    def dummy(key: str) -> jnp.ndarray | None:
      if key not in input_shapes:
        return None
      return jnp.ones(input_shapes[key], input_types.get(key, jnp.int32))

    return self.module.init(
        {'params': rng, 'dropout': rng}, *[dummy(k) for k in _MODULE_KEYS], enable_dropout=False
    )

  def _apply(
      self, params: Any, batch: Batch, dropout_rng: jax.Array | None, return_hidden: bool = False
  ):
    """Teacher-forced module output: logits, or (output states, output table)."""
    rngs = {'dropout': dropout_rng} if dropout_rng is not None else None
    return self.module.apply(
        {'params': params},
        *[batch.get(k) for k in _MODULE_KEYS],
        enable_dropout=dropout_rng is not None,
        rngs=rngs,
        return_hidden=return_hidden,
    )

  @staticmethod
  def _loss_weights(batch: Batch) -> jnp.ndarray:
    weights = batch.get('decoder_loss_weights')
    if weights is None:
      weights = batch['decoder_target_tokens'] > 0
    return weights.astype(jnp.float32)

  # --- loss -----------------------------------------------------------------------------
  def _normalise(
      self, values: jnp.ndarray, weights: jnp.ndarray, segment_ids: jnp.ndarray | None
  ) -> jnp.ndarray:
    if self.loss_normalization == 'token_mean':
      return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)
    rows, length = values.shape
    if segment_ids is None:
      segment_ids = jnp.ones((rows, length), jnp.int32)
    example = (jnp.arange(rows)[:, None] * (length + 1) + segment_ids).reshape(-1)
    num = rows * (length + 1)
    sums = jax.ops.segment_sum((values * weights).reshape(-1), example, num)
    counts = jax.ops.segment_sum(weights.reshape(-1), example, num)
    present = counts > 0
    per_example = jnp.where(present, sums / jnp.maximum(counts, 1.0), 0.0)
    return jnp.sum(per_example) / jnp.maximum(jnp.sum(present), 1)

  def loss_fn(
      self, params: Any, batch: Batch, dropout_rng: jax.Array | None
  ) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
    """Training loss (dropout on when `dropout_rng` is given) and scalar metrics."""
    targets = batch['decoder_target_tokens']
    weights = self._loss_weights(batch)
    if self.loss_chunk_size:
      hidden, table = self._apply(params, batch, dropout_rng, return_hidden=True)
      cross_ent, z_loss, target_lp, predicted = chunked_logits_cross_entropy(
          hidden, table, targets, self.loss_chunk_size, self.label_smoothing, self.z_loss
      )
      hit = predicted == targets
    elif self.loss_positions:
      hidden, table = self._apply(params, batch, dropout_rng, return_hidden=True)
      cross_ent, z_loss, target_lp, hit = self._real_position_terms(hidden, table, targets, weights)
    else:
      logits = self._apply(params, batch, dropout_rng)
      cross_ent, z_loss, target_lp = cross_entropy_terms(
          logits, targets, self.label_smoothing, self.z_loss
      )
      hit = target_is_top(logits, targets)
    segments = batch.get('decoder_segment_ids')
    ce = self._normalise(cross_ent, weights, segments)
    zl = self._normalise(z_loss, weights, segments)
    num_tokens = jnp.sum(weights)
    correct = hit.astype(jnp.float32)
    metrics = {
        'loss': ce + zl,
        'cross_ent_loss': ce,
        'z_loss': zl,
        'accuracy': jnp.sum(correct * weights) / jnp.maximum(num_tokens, 1.0),
        'num_tokens': num_tokens,
        'log_likelihood': jnp.sum(target_lp * weights) / jnp.maximum(num_tokens, 1.0),
    }
    return ce + zl, metrics

  def _real_position_terms(
      self, hidden: jnp.ndarray, table: jnp.ndarray, targets: jnp.ndarray, weights: jnp.ndarray
  ) -> tuple[jnp.ndarray, ...]:
    """(cross-entropy, z-loss term, log p(target), target is top) per `[B, L]` position, with logits
    only for the positions of nonzero weight (`loss_positions` slots; zeros elsewhere)."""
    shape = targets.shape
    flat_h = hidden.reshape(-1, hidden.shape[-1])
    flat_t = targets.reshape(-1)
    real = weights.reshape(-1) > 0
    size = flat_t.shape[0]
    slots = min(self.loss_positions, size)

    def terms(h, t):
      logits = jnp.einsum('ne,ve->nv', h, table)
      return (
          *cross_entropy_terms(logits, t, self.label_smoothing, self.z_loss),
          target_is_top(logits, t),
      )

    def gathered(flat_h):
      # positions of the real targets, in order; unused slots point past the end (dropped)
      index = jnp.nonzero(real, size=slots, fill_value=size)[0]
      h = flat_h.at[index].get(mode='fill', fill_value=0)
      t = flat_t.at[index].get(mode='fill', fill_value=0)
      return tuple(jnp.zeros((size,), x.dtype).at[index].set(x, mode='drop') for x in terms(h, t))

    def everywhere(flat_h):
      return terms(flat_h, flat_t)

    out = jax.lax.cond(jnp.sum(real) <= slots, gathered, everywhere, flat_h)
    return tuple(x.reshape(shape) for x in out)

  def eval_fn(self, params: Any, batch: Batch) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
    """`loss_fn` without dropout."""
    return self.loss_fn(params, batch, None)

  def score_batch(self, params: Any, batch: Batch, return_intermediates: bool = False):
    """Sum log-likelihood of each row's targets `[B]`, weighted by `decoder_loss_weights`.

    With `return_intermediates`, also returns `{'token_scores': [B, L]}`.
    """
    logits = self._apply(params, batch, None)
    token_scores = token_log_likelihood(
        logits, batch['decoder_target_tokens']
    ) * self._loss_weights(batch)
    scores = jnp.sum(token_scores, axis=-1)
    if return_intermediates:
      return scores, {'token_scores': token_scores}
    return scores

  # --- decoding -------------------------------------------------------------------------
  def compute_logits(self, params: Any, batch: Batch) -> jnp.ndarray:
    """Teacher-forced logits `[B, L, vocab]` of a seqio batch, without dropout."""
    return self._apply(params, batch, None)

  def make_step_fn(
      self, params: Any, batch: Batch, num_beams: int, max_decode_len: int
  ) -> tuple[StepFn, Any]:
    """Encode `batch` once and return `(step_fn, initial_cache)` (`p5jax.decoding.StepFn`).

    `step_fn(token_ids [B*K], cache, vocab_subset=None | [B*K, F]) -> (logits, cache)`;
    rows are beam-major (`b*K + k`, K = `num_beams`). The encoder keys/values
    `[B, L_enc, H, D]` are computed here once per user and shared by its K beams inside the
    step.
    """
    tokens = batch['encoder_input_tokens']
    variables = {'params': params}
    encoded = self.module.apply(
        variables,
        tokens,
        batch.get('encoder_segment_ids'),
        enable_dropout=False,
        method=Transformer.encode,
    )
    cross_kv = self.module.apply(variables, encoded, method=Transformer.cross_kv)
    encoder_mask = tokens > 0
    rows = tokens.shape[0] * num_beams

    def step_fn(
        token_ids: jnp.ndarray, cache: Any, vocab_subset: jnp.ndarray | None = None
    ) -> tuple[jnp.ndarray, Any]:
      logits, state = self.module.apply(
          {'params': params, 'cache': cache},
          token_ids,
          cross_kv,
          encoder_mask,
          max_decode_len=max_decode_len,
          vocab_subset=vocab_subset,
          method=_decoder_step,
          mutable=['cache'],
      )
      return logits.astype(jnp.float32), state['cache']

    def cache_shapes():
      return self.module.apply(
          {'params': params},
          jnp.zeros((rows,), jnp.int32),
          cross_kv,
          encoder_mask,
          max_decode_len=max_decode_len,
          method=_decoder_step,
          mutable=['cache'],
      )[1]['cache']

    cache = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(cache_shapes))
    return step_fn, cache

  def predict_batch(self, params: Any, batch: Batch, rng: jax.Array | None = None, **kwargs):
    """The decoded tokens of `predict_batch_with_aux` (T5X's surface)."""
    return self.predict_batch_with_aux(params, batch, rng, **kwargs)[0]

  def predict_batch_with_aux(
      self,
      params: Any,
      batch: Batch,
      rng: jax.Array | None = None,
      num_decodes: int = 1,
      return_all_decodes: bool = False,
      decoder_params: Mapping[str, Any] | None = None,
      constraint: Any = None,
  ) -> tuple[jnp.ndarray, dict]:
    """Decode with `decode_fn`, passing `decoder_params` on as keywords.

    `decoder_params` holds the decoding settings (`p5jax.decoding.beam_search`: `mode`,
    `num_beams`, `min_length`, ...) plus `max_length`, Hugging Face's decode length counting
    the decoder start token: at most `max_length - 1` tokens are generated (default: up to
    `decoder_input_tokens.shape[1]`). Returns tokens `[B, L]` (best decode) or `[B, K, L]`
    with `return_all_decodes` (K = `num_decodes`), and `aux['scores']` `[B]` / `[B, K]`.
    Unlike T5X, decodes are ordered best first.
    """
    del rng  # decoding here is deterministic
    decoder_params = dict(decoder_params or {})
    max_length = decoder_params.pop('max_length', None)
    if max_length is not None and max_length < 2:
      raise ValueError(f'max_length counts the decoder start token: >= 2, got {max_length}')
    batch_size = batch['encoder_input_tokens'].shape[0]
    max_decode_len = (
        batch['decoder_input_tokens'].shape[1] if max_length is None else max_length - 1
    )
    num_beams = decoder_params.get('num_beams') or num_decodes
    step_fn, cache = self.make_step_fn(params, batch, num_beams, max_decode_len)
    seqs, scores = self.decode_fn(
        step_fn,
        cache,
        batch_size=batch_size,
        num_decodes=num_decodes,
        max_decode_len=max_decode_len,
        eos_id=self.eos_id,
        constraint=constraint,
        **decoder_params,
    )
    if return_all_decodes:
      return seqs, {'scores': scores}
    return seqs[:, 0], {'scores': scores[:, 0]}
