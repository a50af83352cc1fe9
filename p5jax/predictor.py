"""`Predictor`: generate, score and recommend from Python with a trained p5jax model or a
Hugging Face T5 checkpoint.

    from p5jax import Predictor
    p = Predictor.from_model_dir('runs/demo')
    p.generate(['Given the following purchase history of user_1 : ...'], num_beams=5,
               num_return_sequences=5, max_length=30)
    p.recommend(['A1YJEY40YUW4SE'], k=10)

Decoding is jitted and batched (`batch_size` prompts per call, inputs padded to a multiple of
64 pieces, so prompts of similar length share one compiled search). Without a constraint
`generate` has Hugging Face `generate(num_beams, num_return_sequences, max_length,
early_stopping=True, length_penalty=1.0)` semantics (`p5jax.decoding.beam_search(mode='hf')`);
with one it runs p5jax's exact constrained search, whose strings are always allowed ones and
distinct (fewer than `num_return_sequences` come back when fewer exist).
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from p5jax.decoding import compile_trie
from p5jax.models import EncoderDecoderModel, Transformer, load_hf_t5

_LENGTH_BUCKET = 64
_SEQUENTIAL = ('2-1', '2-2', '2-3', '2-4', '2-5', '2-6', '2-13')  # history -> any item


class Predictor:
  """A model, its params and vocabulary, with jitted batched `generate` / `score` /
  `recommend`.

  Args:
    model: the `EncoderDecoderModel` (its `input_vocabulary` encodes prompts).
    params: its parameters.
    context: the prepared dataset the model was trained on (`p5jax.tasks`' `DatasetContext`;
      None for `from_hf`), for `constraint='items'` and `recommend`.
    batch_size: prompts per jitted call.
  """

  def __init__(
      self,
      model: EncoderDecoderModel,
      params: Any,
      *,
      context: Any = None,
      batch_size: int = 16,
  ):
    if model.input_vocabulary is None:
      raise ValueError('Predictor needs a model with an input_vocabulary')
    self.model, self.params, self.context, self.batch_size = model, params, context, batch_size
    self.vocabulary = model.input_vocabulary
    self.eos_id = model.eos_id
    self._jitted: dict[tuple, Any] = {}
    self._tries: dict[tuple, Any] = {}

  # --- construction ---------------------------------------------------------------------
  @classmethod
  def from_model_dir(
      cls, model_dir: str, *, prepared_dir: str | None = None, batch_size: int = 16
  ) -> Predictor:
    """The model of a p5jax MODEL_DIR: its `config.gin`, vocabulary and latest checkpoint.

    `prepared_dir` overrides the dataset directory the run was configured with (e.g. when
    the run used a relative path from another working directory). gin's global
    configuration holds the run's while loading and is cleared afterwards.
    """
    import gin

    from p5jax.launch.gin_flags import parse_gin
    from p5jax.tasks import eval_decoding, popularity  # noqa: F401  (configurables, before parsing)
    from p5jax.training.checkpoints import RestoreCheckpointConfig, restore_params
    from p5jax.training.partitioning import Partitioner
    from p5jax.training.trainer import abstract_params

    config_path = os.path.join(model_dir, 'config.gin')
    if not os.path.exists(config_path):
      raise FileNotFoundError(f'{model_dir}: no config.gin (not a p5jax MODEL_DIR)')
    gin.clear_config()
    try:
      bindings = [f'PREPARED_DIR = {prepared_dir!r}'] if prepared_dir else []
      parse_gin([config_path], bindings)
      from p5jax.tasks.from_gin import register_from_gin

      register_from_gin()
      model = copy.deepcopy(gin.query_parameter('%MODEL'))
      try:
        name = gin.query_parameter('p5jax.tasks.from_gin.dataset_vocabulary.name')
      except ValueError:
        name = None
    finally:
      gin.clear_config()  # the run's bindings must not leak into the caller's gin use
    context = _dataset_context(name) if name else None
    shapes = {k: (1, 8) for k in ('encoder_input_tokens', 'decoder_input_tokens')}
    shapes['decoder_target_tokens'] = (1, 8)
    params = restore_params(
        RestoreCheckpointConfig(path=model_dir), abstract_params(model, Partitioner(), shapes)
    )
    return cls(model, params, context=context, batch_size=batch_size)

  @classmethod
  def from_hf(cls, hf_dir: str, vocabulary: str, *, batch_size: int = 16) -> Predictor:
    """A local Hugging Face T5 (or P5) directory (`load_hf_t5`) and its SentencePiece model
    file (e.g. T5's `spiece.model`); prompts are encoded with it plus EOS."""
    from p5jax.vocab import load_vocabulary

    config, params = load_hf_t5(hf_dir, dropout_rate=0.0)
    vocab = load_vocabulary(vocabulary)
    model = EncoderDecoderModel(Transformer(config), vocab, vocab)
    return cls(model, jax.tree.map(jnp.asarray, params), batch_size=batch_size)

  # --- public API -----------------------------------------------------------------------
  def generate(
      self,
      prompts: Sequence[str],
      *,
      num_beams: int = 1,
      num_return_sequences: int = 1,
      max_length: int = 20,
      constraint: str | Sequence[str] | None = None,
  ) -> list[list[str]]:
    """The decoded strings of each prompt, best first.

    `max_length` counts the decoder start token (Hugging Face's meaning). `constraint`:
    None (Hugging Face `generate` semantics, greedy for one beam), `"items"` (every item ID of
    the model's dataset) or a list of allowed strings.
    """
    if not 1 <= num_return_sequences <= num_beams:
      raise ValueError(
          f'need 1 <= num_return_sequences ({num_return_sequences}) <= num_beams ({num_beams})'
      )
    if max_length < 2:
      raise ValueError(f'max_length counts the decoder start token: >= 2, got {max_length}')
    if constraint is None:
      settings = dict(mode='hf', num_beams=num_beams, max_length=max_length)
      trie = None
    else:
      trie = self._trie(constraint)
      settings = dict(mode='constrained', num_beams=num_beams, max_length=max_length)
    decoded = self._decode(self._encode(prompts), num_return_sequences, settings, trie)
    return [[self._text(t) for t in rows] for rows in decoded]

  def score(self, prompts: Sequence[str], targets: Sequence[str]) -> list[float]:
    """log p(target | prompt) of each pair (the target's pieces and EOS), in float32."""
    if len(prompts) != len(targets):
      raise ValueError(f'{len(prompts)} prompts but {len(targets)} targets')
    inputs, outputs = self._encode(prompts), self._encode(targets)
    fn = self._jit(('score',), lambda p, b: self.model.score_batch(p, b))
    out = []
    for rows in _chunks(range(len(inputs)), self.batch_size):
      enc = _pad_rows([inputs[i] for i in rows], self.batch_size)
      tgt = _pad_rows([outputs[i] for i in rows], self.batch_size)
      batch = {
          'encoder_input_tokens': enc,
          'decoder_input_tokens': np.pad(tgt[:, :-1], ((0, 0), (1, 0))),
          'decoder_target_tokens': tgt,
          'decoder_loss_weights': (tgt > 0).astype(np.float32),
      }
      out.extend(np.asarray(fn(self.params, batch))[: len(rows)].tolist())
    return out

  def recommend(
      self,
      user_ids: Sequence[str],
      *,
      k: int = 10,
      template: str = '2-13',
      histories: Sequence[Sequence[str]] | None = None,
  ) -> list[list[str]]:
    """The `k` items each user is most likely to buy next, as raw item ids, best first.

    Renders the sequential prompt `template` (one of 2-1..2-6, 2-13) from the user's whole
    history in the model's dataset, or from `histories` (raw item ids, oldest first), and
    decodes with the item constraint (p5jax's constrained search: valid, distinct items).
    `user_ids` are the dataset's raw user ids.
    """
    ctx = self._require_context('recommend')
    if template not in _SEQUENTIAL:
      raise ValueError(f'template must be one of {_SEQUENTIAL}, got {template!r}')
    if histories is not None and len(histories) != len(user_ids):
      raise ValueError(f'{len(user_ids)} users but {len(histories)} histories')
    prompts = [
        _render(ctx, template, self._user(u), self._history(u, histories, i))
        for i, u in enumerate(user_ids)
    ]
    table = self._item_tokens()
    longest = max(len(t) for t in table.values())
    trie = self._trie('items')
    settings = dict(mode='constrained', num_beams=k, max_length=longest + 1)
    decoded = self._decode(self._encode(prompts), k, settings, trie)
    by_tokens = {tuple(t): item for item, t in table.items()}
    items = ctx.dataset.items
    return [
        [str(items[by_tokens[tuple(_strip(t, self.eos_id))]]['raw_id']) for t in rows]
        for rows in decoded
    ]

  # --- helpers --------------------------------------------------------------------------
  def _jit(self, key: tuple, fn) -> Any:
    if key not in self._jitted:
      self._jitted[key] = jax.jit(fn)
    return self._jitted[key]

  def _encode(self, texts: Sequence[str]) -> list[list[int]]:
    if isinstance(texts, str):
      raise TypeError('pass a list of strings, not one string')
    return [[int(t) for t in self.vocabulary.encode(text)] + [self.eos_id] for text in texts]

  def _text(self, tokens: Sequence[int]) -> str:
    return self.vocabulary.decode(_strip(tokens, self.eos_id))

  def _decode(
      self, inputs: list[list[int]], num_decodes: int, settings: dict, trie: Any
  ) -> list[list[list[int]]]:
    """Per prompt, the valid decodes (token lists ending with EOS or cut), best first."""
    key = ('decode', num_decodes, tuple(sorted(settings.items())))

    def predict(params, batch, constraint):
      return self.model.predict_batch_with_aux(
          params,
          batch,
          num_decodes=num_decodes,
          return_all_decodes=True,
          decoder_params=settings,
          constraint=constraint,
      )

    fn = self._jit(key, predict)
    out = []
    for rows in _chunks(range(len(inputs)), self.batch_size):
      enc = _pad_rows([inputs[i] for i in rows], self.batch_size)
      batch = {
          'encoder_input_tokens': enc,
          'decoder_input_tokens': np.zeros((enc.shape[0], 1), np.int32),
      }
      seqs, aux = fn(self.params, batch, trie)
      seqs, scores = np.asarray(seqs), np.asarray(aux['scores'])
      for r in range(len(rows)):
        out.append([list(s) for s, sc in zip(seqs[r], scores[r]) if np.isfinite(sc)])
    return out

  def _require_context(self, what: str) -> Any:
    if self.context is None:
      raise ValueError(
          f'{what} needs the prepared dataset the model was trained on: load the model with '
          'Predictor.from_model_dir'
      )
    return self.context

  def _item_tokens(self) -> dict[int, list[int]]:
    from p5jax.tasks.eval_decoding import item_token_table

    if 'items' not in self._tries:
      index = self._require_context("constraint='items'").index
      self._tries['items'] = item_token_table(index, self.vocabulary, self.eos_id)
    return self._tries['items']

  def _trie(self, constraint: str | Sequence[str]) -> Any:
    if isinstance(constraint, str):
      if constraint != 'items':
        raise ValueError(
            f"constraint must be None, 'items' or a list of strings, got {constraint!r}"
        )
      sequences = list(self._item_tokens().values())
    else:
      sequences = self._encode(list(constraint))
      if not sequences:
        raise ValueError('constraint: an empty list allows nothing')
    key = ('trie', tuple(map(tuple, sequences)))
    if key not in self._tries:
      vocab_size = self.model.config.vocab_size
      self._tries[key] = compile_trie(sequences, vocab_size=vocab_size, eos_id=self.eos_id)
    return self._tries[key]

  @functools.cached_property
  def _users(self) -> dict[str, int]:
    return {str(r.get('raw_id', u)): u for u, r in self.context.dataset.users.items()}

  @functools.cached_property
  def _items(self) -> dict[str, int]:
    return {str(r.get('raw_id', i)): i for i, r in self.context.dataset.items.items()}

  def _user(self, raw_id: str) -> int:
    if str(raw_id) not in self._users:
      known = ', '.join(list(self._users)[:3])
      raise KeyError(f'unknown user {raw_id!r}: not in the dataset (raw user ids, e.g. {known})')
    return self._users[str(raw_id)]

  def _history(self, raw_user: str, histories: Any, i: int) -> list[int]:
    if histories is None:
      return list(self.context.dataset.sequences[self._user(raw_user)])
    unknown = [h for h in histories[i] if str(h) not in self._items]
    if unknown:
      raise KeyError(f'unknown items in the history of user {raw_user!r}: {unknown[:5]}')
    if not histories[i]:
      raise ValueError(f'the history of user {raw_user!r} is empty')
    return [self._items[str(h)] for h in histories[i]]


def _dataset_context(name: str) -> Any:
  from p5jax import tasks

  return tasks.task_info(f'p5_{name}_sequential_train').context()


def _render(ctx: Any, template_id: str, user: int, history: list[int]) -> str:
  """The sequential prompt of `template_id` for `user` and `history` (P5's test rendering;
  the separator is drawn per user)."""
  from p5jax import prompts
  from p5jax.tasks import sequential

  template = prompts.templates(ctx.variant)[template_id]
  rng = np.random.default_rng(user)
  return sequential.build(ctx, template, user, history, history[-1], rng, 'test')['inputs']


def _strip(tokens: Sequence[int], eos_id: int) -> list[int]:
  """Tokens up to and including the first EOS (all of them when a decode was cut)."""
  tokens = [int(t) for t in tokens]
  return tokens[: tokens.index(eos_id) + 1] if eos_id in tokens else tokens


def _chunks(rows: range, size: int) -> Iterator[list[int]]:
  for start in range(0, len(rows), size):
    yield list(rows[start : start + size])


def _pad_rows(rows: list[list[int]], batch_size: int) -> np.ndarray:
  """int32 [batch_size, L]: the rows right-padded with 0 to a multiple of 64 pieces."""
  width = -(-max(len(r) for r in rows) // _LENGTH_BUCKET) * _LENGTH_BUCKET
  out = np.zeros((batch_size, width), np.int32)
  for i, r in enumerate(rows):
    out[i, : len(r)] = r
  return out
