"""Per-task decoding parameters for P5 evaluation (the `task_decoding_params` hook).

`p5_task_decoding_params(task)` reads the task's declared mode (`tasks.task_info`) and returns
the keyword arguments `ModelFns` understands:

- all_items: beam search (K = `num_beams`) constrained to every item ID of the scheme (one
  shared trie, compiled once per dataset context and vocabulary);
- candidates: beam search constrained per example to its `candidates` feature: `constraint_fn`
  builds one trie forest per batch from the host-side `candidates` rows (`example_features`);
- score_yes_no: `score_fn` returns P('yes') among {yes, no} (teacher-forced), so seqio's score
  path hands `tasks.evaluation.yes_no_ranking` P(yes) to rank each user's candidates;
- closed_set: one decode restricted to the task's answers;
- free: one unconstrained decode (greedy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gin
import jax
import jax.numpy as jnp
import numpy as np
import seqio

from p5jax import decoding

Batch = Mapping[str, jnp.ndarray]


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
        min_fanout=max(width, 1),
        pad_to_multiple=bound,
    )

  return build


def yes_score_fn(
    yes: Sequence[int], no: Sequence[int], eos_id: int
) -> Callable[[Any, Any, Batch], jnp.ndarray]:
  """`fn(model, params, batch) -> [B]` P('yes') among {yes, no} of each row.

  Single-token answers (the T5 vocabulary): `p5jax.decoding.yes_probability` at the first
  teacher-forced position. Multi-piece answers (small demo vocabularies): the softmax of the
  two answers' teacher-forced sequence log-likelihoods (EOS included), the same quantity.
  """
  if len(yes) == 1 and len(no) == 1:

    def first_step(model, params, batch):
      return decoding.yes_probability(
          lambda b: model.compute_logits(params, b), batch, yes_id=int(yes[0]), no_id=int(no[0])
      )

    return first_step

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


@gin.configurable
def p5_task_decoding_params(
    task: seqio.Task,
    *,
    num_beams: int = 20,
    alpha: float = 1.0,
    length_penalty: str = 'hf',
    score_mode: str = 'allowed',
    vocab_size: int | None = None,
) -> dict[str, Any]:
  """Decoding kwargs for `ModelFns` of one P5 evaluation task (see module docstring).

  Args:
    task: a task registered by `tasks.register_dataset`.
    num_beams: K for ranking tasks (P5 ranks the top 20).
    alpha, length_penalty, score_mode: passed to `p5jax.decoding.beam_search`.
    vocab_size: the model's output size (bind to %VOCAB_SIZE); None: the vocabulary's size.
  """
  from p5jax import tasks  # registers the task module's datasets

  spec = tasks.task_info(task.name).decoding
  if spec is None:
    raise ValueError(f'{task.name!r} is a training task; it has no evaluation decoding')
  vocabulary = task.output_features['targets'].vocabulary
  eos_id = int(getattr(vocabulary, 'eos_id', None) or 1)
  size = int(vocab_size or vocabulary.vocab_size)
  beam = dict(alpha=alpha, length_penalty=length_penalty, score_mode=score_mode)
  if spec.mode == 'all_items':
    context = tasks.task_info(task.name).context()
    return dict(
        num_decodes=num_beams,
        decoder_params=beam,
        constraint=_all_items_trie(context, vocabulary, eos_id, size),
    )
  if spec.mode == 'candidates':
    context = tasks.task_info(task.name).context()
    fn = candidate_constraint_fn(
        _item_tokens(context, vocabulary, eos_id), vocab_size=size, eos_id=eos_id
    )
    return dict(
        num_decodes=num_beams,
        decoder_params=beam,
        constraint_fn=fn,
        example_features=('candidates',),
    )
  if spec.mode == 'score_yes_no':
    yes, no = spec.answers
    from p5jax.tasks.direct import NUM_NEGATIVES
    # one row per candidate: a user's query is its positive and its negatives (the prepared
    # fixed ones under the corrected protocol, P5's 99 redrawn ones under the original)
    context = tasks.task_info(task.name).context()
    negatives = (
        int(context.dataset.manifest.get('num_negatives', NUM_NEGATIVES))
        if context.corrected
        else NUM_NEGATIVES
    )
    return dict(
        score_fn=yes_score_fn(vocabulary.encode(yes), vocabulary.encode(no), eos_id),
        rows_per_query=1 + negatives,
    )
  if spec.mode == 'closed_set':
    trie = decoding.compile_answer_set(
        spec.answers, vocabulary.encode, vocab_size=size, eos_id=eos_id
    )
    return dict(num_decodes=1, decoder_params=beam, constraint=trie)
  return dict(num_decodes=1)
