"""P5's per-task decoding for the trainer's evaluation (the `task_decoding_params` hook).

`p5_task_decoding(task)` reads the task's declared mode (`task_info(...).decoding`) and its
generation settings (`DecodingSettings`: defaults per mode, overridden per mode or per template
in gin, e.g. `runs/p5_eval_original.gin`) and returns the trainer's `TaskDecoding`:

- all_items: beam search constrained to every item ID of the scheme (one shared trie, compiled
  once per dataset context and vocabulary), or Hugging Face's unconstrained beam search;
- candidates: beam search constrained per example to its `candidates` feature (`constraint_fn`
  builds one trie forest per batch from the host-side rows), or unconstrained;
- score_yes_no: `score_fn` returns P('yes') among {yes, no}, which seqio's score path hands to
  `tasks.evaluation.yes_no_ranking`; one query is a user's positive and negatives;
- closed_set: one decode restricted to the task's answers;
- free: Hugging Face's greedy or beam search up to `max_length`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gin
import jax
import jax.numpy as jnp
import numpy as np
import seqio

from p5jax import decoding
from p5jax.tasks import direct
from p5jax.tasks.decoding import DecodingSettings, DecodingSpec, settings_for
from p5jax.tasks.registry import task_info
from p5jax.training.task_decoding import TaskDecoding

Batch = Mapping[str, jnp.ndarray]
DEFAULT_NUM_BEAMS = 20  # P5 ranks the top 20 of its beams


def item_token_table(index: Any, vocabulary: Any, eos_id: int) -> dict[int, list[int]]:
  """item number -> its ID string's output tokens + EOS."""
  return {
      int(item): [int(t) for t in vocabulary.encode(text)] + [eos_id]
      for item, text in zip(index.items(), index.all_id_strings())
  }


# Keyed by (dataset context, vocabulary model file, ...): one compile per dataset and scheme.
_ITEM_TOKENS: dict[tuple, dict[int, list[int]]] = {}
_ALL_ITEMS_TRIES: dict[tuple, Any] = {}


def _item_tokens(context: Any, vocabulary: Any, eos_id: int) -> dict[int, list[int]]:
  key = (id(context), vocabulary.sentencepiece_model_file, eos_id)
  if key not in _ITEM_TOKENS:
    _ITEM_TOKENS[key] = item_token_table(context.index, vocabulary, eos_id)
  return _ITEM_TOKENS[key]


def _all_items_trie(context: Any, vocabulary: Any, eos_id: int, vocab_size: int):
  key = (id(context), vocabulary.sentencepiece_model_file, eos_id, vocab_size)
  if key not in _ALL_ITEMS_TRIES:
    tokens = _item_tokens(context, vocabulary, eos_id)
    _ALL_ITEMS_TRIES[key] = decoding.compile_trie(
        list(tokens.values()), vocab_size=vocab_size, eos_id=eos_id
    )
  return _ALL_ITEMS_TRIES[key]


def candidate_constraint_fn(
    item_tokens: Mapping[int, Sequence[int]], *, vocab_size: int, eos_id: int
) -> Callable[[Mapping[str, np.ndarray]], Any]:
  """`fn({'candidates': int32 [B, C]}) -> ItemTrie` with one root per row (0 = padding).

  Fan-out is bounded by C and node/edge counts are padded to a fixed multiple
  (rows x C x longest ID), so every batch of a task shares one compiled beam search.
  """
  longest = max(len(t) for t in item_tokens.values())

  def build(features: Mapping[str, np.ndarray]):
    cands = np.asarray(features['candidates'])
    if cands.ndim != 2:
      raise ValueError(f'candidates must be [batch, C], got shape {cands.shape}')
    unknown = set(np.unique(cands[cands > 0]).tolist()) - item_tokens.keys()
    if unknown:
      raise ValueError(f'candidates name items outside the index: {sorted(unknown)[:5]}')
    rows, width = cands.shape
    per_row = [[item_tokens[int(i)] for i in row if i > 0] for row in cands]
    bound = rows * max(width, 1) * (longest + 1) + rows + 1
    return decoding.compile_candidate_tries(
        per_row,
        vocab_size=vocab_size,
        eos_id=eos_id,
        layout=decoding.TrieLayout(min_fanout=max(width, 1), pad_to_multiple=bound),
    )

  return build


def yes_score_fn(
    yes: Sequence[int], no: Sequence[int], eos_id: int, p5_step_index: bool = False
) -> Callable[[Any, Any, Batch], jnp.ndarray]:
  """`fn(model, params, batch) -> [B]` P('yes') among {yes, no} of each row.

  Single-token answers (the T5 vocabulary): `p5jax.decoding.yes_probability` at the first
  teacher-forced position, or at P5's step index 1 (`p5_step_index`). Multi-piece answers
  (small demo vocabularies): the softmax of the two answers' teacher-forced sequence
  log-likelihoods (EOS included), the same quantity; P5's step index has no counterpart there.
  """
  if len(yes) == 1 and len(no) == 1:

    def first_step(model, params, batch):
      return decoding.yes_probability(
          lambda b: model.compute_logits(params, b),
          batch,
          yes_id=int(yes[0]),
          no_id=int(no[0]),
          p5_step_index=p5_step_index,
      )

    return first_step

  if p5_step_index:
    logging.warning(
        "p5_step_index needs single-token answers (T5's vocabulary); this vocabulary has "
        '%d / %d pieces for yes / no, so their sequence likelihoods are compared',
        len(yes),
        len(no),
    )
  answers = [list(yes) + [eos_id], list(no) + [eos_id]]

  def sequences(model, params, batch):
    length = max(map(len, answers))  # decoder inputs of the answers' own length
    rows = batch['encoder_input_tokens'].shape[0]
    loglik = []
    for ans in answers:  # two teacher-forced calls, each over the whole batch
      target = (
          jnp.zeros((rows, length), jnp.int32).at[:, : len(ans)].set(jnp.asarray(ans, jnp.int32))
      )
      forced = dict(
          batch,
          decoder_target_tokens=target,
          decoder_input_tokens=jnp.pad(target[:, :-1], ((0, 0), (1, 0))),
          decoder_loss_weights=(target > 0).astype(jnp.float32),
      )
      loglik.append(model.score_batch(params, forced))
    return jax.nn.softmax(jnp.stack(loglik, axis=-1), axis=-1)[:, 0]

  return sequences


def decoder_params(s: DecodingSettings, *, score_mode: str = 'allowed') -> dict[str, Any]:
  """`p5jax.decoding.beam_search` keywords for settings `s` (Hugging Face's defaults are left
  out, so each mode gets only the settings it accepts)."""
  params: dict[str, Any] = dict(mode=s.mode, num_beams=s.num_beams, alpha=s.length_penalty)
  if s.mode == 'hf':
    params['early_stopping'] = s.early_stopping
  else:
    params['score_mode'] = score_mode
  defaults = dict(min_length=0, repetition_penalty=1.0, num_beam_groups=1, diversity_penalty=0.0)
  params.update({k: getattr(s, k) for k, v in defaults.items() if getattr(s, k) != v})
  return params


def _max_decode_len(s: DecodingSettings, longest_answer: int | None) -> int | None:
  """Tokens to decode (EOS included): Hugging Face's `max_length` less the start token; for a
  constrained task without one, its longest valid answer."""
  if s.max_length is not None:
    return s.max_length - 1
  return longest_answer if s.mode == 'constrained' else None


@gin.configurable
def p5_task_decoding(
    task: seqio.Task,
    *,
    num_beams: int = DEFAULT_NUM_BEAMS,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    input_length: int | None = None,
    score_mode: str = 'allowed',
    vocab_size: int | None = None,
) -> TaskDecoding:
  """The `TaskDecoding` of one P5 evaluation task (see module docstring).

  Args:
    task: a task registered by `tasks.register_dataset`.
    num_beams: beams (and ranked items) of ranking tasks by default (P5 ranks the top 20).
    settings: `DecodingSettings` fields per mode ('all_items', 'free', ...) or per template
      ('3-9'); `tasks.decoding.settings_for` merges them over the defaults.
    input_length: inputs cut to this many pieces, EOS included (P5: 512); None: no cut.
    score_mode: how constrained beams normalise ('allowed' tokens only, or the 'full'
      vocabulary), see `p5jax.decoding.beam_search`.
    vocab_size: the model's output size (bind to %VOCAB_SIZE); None: the vocabulary's size.
  """
  info = task_info(task.name)
  spec: DecodingSpec | None = info.decoding
  if spec is None:
    raise ValueError(f'{task.name!r} is a training task; it has no evaluation decoding')
  s = settings_for(info.template, spec, num_beams, settings)
  vocabulary = task.output_features['targets'].vocabulary
  eos_id = int(getattr(vocabulary, 'eos_id', None) or 1)
  size = int(vocab_size or vocabulary.vocab_size)
  common = dict(input_length=input_length, max_queries=s.max_examples)
  if spec.mode == 'score_yes_no':
    yes, no = spec.answers
    return TaskDecoding(
        score_fn=yes_score_fn(
            vocabulary.encode(yes), vocabulary.encode(no), eos_id, s.p5_step_index
        ),
        rows_per_query=1 + direct.num_negatives(info.context()),
        **common,
    )
  params = decoder_params(s, score_mode=score_mode)
  beams = dict(num_decodes=s.num_return_sequences, decode_fn=decoding.beam_search)
  constrained = s.mode == 'constrained'
  if spec.mode in ('all_items', 'candidates'):
    tokens = _item_tokens(info.context(), vocabulary, eos_id)
    longest = max(map(len, tokens.values()))
    beams.update(max_decode_len=_max_decode_len(s, longest), decoder_params=params, **common)
    if not constrained:
      return TaskDecoding(**beams)
    if spec.mode == 'all_items':
      trie = _all_items_trie(info.context(), vocabulary, eos_id, size)
      return TaskDecoding(constraint=trie, **beams)
    fn = candidate_constraint_fn(tokens, vocab_size=size, eos_id=eos_id)
    return TaskDecoding(constraint_fn=fn, side_features=('candidates',), **beams)
  if spec.mode == 'closed_set' and constrained:
    answers = [list(vocabulary.encode(a)) + [eos_id] for a in spec.answers]
    trie = decoding.compile_answer_set(
        spec.answers, vocabulary.encode, vocab_size=size, eos_id=eos_id
    )
    return TaskDecoding(
        constraint=trie,
        decoder_params=params,
        max_decode_len=_max_decode_len(s, max(map(len, answers))),
        **beams,
        **common,
    )
  return TaskDecoding(
      decoder_params=params, max_decode_len=_max_decode_len(s, None), **beams, **common
  )
