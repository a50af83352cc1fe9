"""P5 evaluation end to end on a tiny prepared dataset: per-task decoding records, constrained
outputs, P(yes) scoring and the popularity rows of results.json."""

from __future__ import annotations

import functools
import json

import flax.linen as nn
import jax
import numpy as np
import pytest
import seqio

from p5jax import decoding, models, tasks
from p5jax.data.pipeline import prepare
from p5jax.metrics.tables import format_blocks
from p5jax.tasks.eval_decoding import p5_task_decoding
from p5jax.tasks.popularity import popularity_rows
from p5jax.training import DatasetConfig, Partitioner
from p5jax.training.evaluation import EvalSettings, InferenceEvaluator, write_results
from tests.models.fakes import tiny_t5_config

NAME = 'evalp5'
ALL_ITEMS, CANDIDATES = f'p5_{NAME}_sequential_2_1', f'p5_{NAME}_sequential_2_7'
YES_NO, CLOSED = f'p5_{NAME}_direct_5_1', f'p5_{NAME}_sequential_2_11'
MIXTURE = f'p5_{NAME}_mini_eval'
BEAMS = 3
NUM_NEGATIVES = 9  # the prepared fixture's fixed negatives per user


@pytest.fixture(scope='module')
def registered(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('prepared'))
  prepare(
      'demo',
      None,
      path,
      protocol='corrected',
      id_schemes=('sid',),
      demo_scale=0.1,
      num_negatives=NUM_NEGATIVES,
  )
  tasks.register_dataset(
      NAME, path, 'sid', 'corrected', variant='amazon', families_present=('sequential', 'direct')
  )
  if MIXTURE not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add(MIXTURE, [ALL_ITEMS, CANDIDATES, YES_NO, CLOSED], default_rate=1.0)
  return path


def _vocab():
  return seqio.get_mixture_or_task(ALL_ITEMS).output_features['targets'].vocabulary


def _index():
  return tasks.task_info(ALL_ITEMS).context().index


@pytest.fixture(scope='module')
def model(registered):
  vocab = _vocab()
  config = tiny_t5_config(vocab_size=vocab.vocab_size, dropout_rate=0.0)
  return models.EncoderDecoderModel(
      models.Transformer(config), vocab, vocab, decode_fn=decoding.beam_search
  )


@pytest.fixture(scope='module')
def partitioner():
  return Partitioner(num_partitions=1, logical_axis_rules=())


@pytest.fixture(scope='module')
def evaluator(registered, model, partitioner):
  cfg = DatasetConfig(MIXTURE, None, 'test', batch_size=8, shuffle=False)
  hook = functools.partial(p5_task_decoding, num_beams=BEAMS)
  return InferenceEvaluator(
      cfg,
      model,
      partitioner,
      settings=EvalSettings(task_decoding_params=hook, num_examples=12, extra_rows=popularity_rows),
  )


@pytest.fixture(scope='module')
def params(evaluator, model, partitioner):
  shapes = next(iter(evaluator.evaluators.values())).model_feature_shapes
  shapes = {k: (8,) + tuple(v[1:] if len(v) > 1 else v) for k, v in shapes.items()}
  boxed = model.get_initial_variables(jax.random.PRNGKey(0), shapes)['params']
  return jax.device_put(nn.meta.unbox(boxed), partitioner.replicated)


def _record(name, **kw):
  return p5_task_decoding(seqio.get_mixture_or_task(name), num_beams=BEAMS, **kw)


def test_records_per_mode(registered):
  all_items = _record(ALL_ITEMS)
  assert all_items.num_decodes == all_items.decoder_params['num_beams'] == BEAMS
  assert all_items.decoder_params['mode'] == 'constrained'
  assert isinstance(all_items.constraint, decoding.ItemTrie)
  assert _record(f'p5_{NAME}_sequential_2_2').constraint is all_items.constraint
  longest = max(len(_vocab().encode(s)) for s in _index().all_id_strings())
  assert all_items.max_decode_len == longest + 1  # the longest ID and its EOS
  cands = _record(CANDIDATES)
  assert cands.num_decodes == BEAMS and cands.side_features == ('candidates',)
  trie = cands.constraint_fn({'candidates': np.asarray([[1, 2, 0], [3, 0, 0]])})
  assert trie.roots.shape == (2,)
  yes_no = _record(YES_NO)
  assert yes_no.score_fn is not None and yes_no.rows_per_query == 1 + NUM_NEGATIVES
  closed = _record(CLOSED)
  assert closed.num_decodes == 1 and isinstance(closed.constraint, decoding.ItemTrie)
  with pytest.raises(ValueError, match='training task'):
    _record(f'p5_{NAME}_sequential_train')


def test_p5_original_settings_give_hf_decoding(registered):
  """P5's notebooks: ranking unconstrained, 20 beams, 20 returned, max_length 50; free text
  greedy to max_length 20 (19 tokens); inputs cut at 512; a query cap."""
  settings = {
      'all_items': {
          'mode': 'hf',
          'num_beams': 4,
          'num_return_sequences': 2,
          'max_length': 50,
          'early_stopping': True,
      },
      'candidates': {'mode': 'hf', 'num_beams': 4, 'max_length': 50},
      'score_yes_no': {'p5_step_index': True},
      '2-2': {
          'num_beams': 1,
          'num_return_sequences': 1,
          'max_length': 20,
          'min_length': 10,
          'max_examples': 7,
      },
  }
  ranking = _record(ALL_ITEMS, settings=settings, input_length=512)
  assert ranking.constraint is None and ranking.constraint_fn is None
  assert (ranking.decoder_params['num_beams'], ranking.num_decodes) == (4, 2)
  assert ranking.max_decode_len == 49  # Hugging Face's max_length 50 counts the start token
  assert ranking.decode_fn is decoding.beam_search and ranking.input_length == 512
  assert ranking.decoder_params['mode'] == 'hf' and ranking.decoder_params['early_stopping']
  cands = _record(CANDIDATES, settings=settings)
  assert cands.side_features == () and cands.constraint_fn is None
  greedy = _record(f'p5_{NAME}_sequential_2_2', settings=settings)
  assert greedy.decoder_params['num_beams'] == greedy.num_decodes == 1  # HF greedy
  assert greedy.max_decode_len == 19 and greedy.max_queries == 7
  assert greedy.decoder_params['min_length'] == 10
  assert _record(YES_NO, settings=settings).rows_per_query == 1 + NUM_NEGATIVES


def _decodes(evaluator, params, name):
  fns = evaluator._model_fns(name, jax.tree.map(lambda x: x.sharding, params))
  ds = evaluator.evaluators[name].cached_model_datasets[name]
  indices, tokens, _ = fns._decode_all(params, ds)
  vocab = _vocab()
  return indices, [
      [' '.join(vocab.decode(list(map(int, t))).split()) for t in row] for row in tokens
  ]


def test_all_items_decodes_are_valid_item_ids(evaluator, params):
  index = tasks.task_info(ALL_ITEMS).context().index
  valid = {' '.join(s.split()) for s in index.all_id_strings()}
  _, rows = _decodes(evaluator, params, ALL_ITEMS)
  assert rows and all(len(r) == BEAMS and len(set(r)) == BEAMS for r in rows)
  assert all(d in valid for r in rows for d in r)


def test_candidate_decodes_come_from_each_examples_list(evaluator, params):
  index = tasks.task_info(CANDIDATES).context().index
  examples = evaluator.examples(CANDIDATES, ('candidates',))['candidates']
  indices, rows = _decodes(evaluator, params, CANDIDATES)
  for i, row in zip(indices, rows):
    listed = {' '.join(index.item_to_tokens(int(c)).split()) for c in examples[i] if c}
    assert set(row) <= listed, (row, listed)


def test_yes_no_scores_are_p_yes(evaluator, params, model):
  fns = evaluator._model_fns(YES_NO, jax.tree.map(lambda x: x.sharding, params))
  ds = evaluator.evaluators[YES_NO].cached_model_datasets[YES_NO]
  scores = dict(fns.score(params, ds))
  assert scores and all(0.0 < s < 1.0 for s in scores.values())
  # P(yes) = softmax of the two answers' sequence log-likelihoods, computed independently.
  vocab, batch = _vocab(), next(ds.batch(4).as_numpy_iterator())[1]
  liks = []
  for answer in ('yes', 'no'):
    ids = list(vocab.encode(answer)) + [1]
    tgt = np.zeros_like(batch['decoder_target_tokens'])
    tgt[:, : len(ids)] = ids
    forced = dict(
        batch,
        decoder_target_tokens=tgt,
        decoder_input_tokens=np.pad(tgt[:, :-1], ((0, 0), (1, 0))),
        decoder_loss_weights=(tgt > 0).astype(np.float32),
    )
    liks.append(np.asarray(model.score_batch(params, forced)))
  expected = 1.0 / (1.0 + np.exp(liks[1] - liks[0]))
  np.testing.assert_allclose([scores[i] for i in range(4)], expected, rtol=1e-4)


def test_results_have_popularity_rows_next_to_tasks(evaluator, params, tmp_path):
  results = evaluator.evaluate(params, step=0)
  popularity = evaluator.extra_rows()
  assert set(popularity) == {f'popularity/{t}' for t in (ALL_ITEMS, CANDIDATES, YES_NO)}
  assert all(0.0 <= v <= 1.0 for r in popularity.values() for v in r.values())
  assert set(popularity[f'popularity/{ALL_ITEMS}']) == set(results[ALL_ITEMS])
  assert set(popularity[f'popularity/{YES_NO}']) == set(results[YES_NO])
  results.update(popularity)
  stored = json.loads(open(write_results(results, str(tmp_path))).read())
  assert stored == results
  table = format_blocks(results).splitlines()
  rows = [line.split('|')[1].strip() for line in table if line.startswith('|')]
  assert rows[rows.index('2-1') + 1] == '2-1 popularity'  # sequential 2-1 (ALL_ITEMS)
  assert rows[rows.index('5-1') + 1] == '5-1 popularity'  # direct 5-1 (YES_NO)


def test_num_examples_counts_users_for_yes_no_tasks(evaluator):
  """`num_examples=12` keeps 12 queries: 12 examples, or 12 users' candidate rows."""

  def rows(task):
    return sum(1 for _ in evaluator.evaluators[task].cached_task_datasets[task])

  assert rows(ALL_ITEMS) == 12
  assert rows(YES_NO) == 12 * (1 + NUM_NEGATIVES)


def test_p5_original_ranking_decodes_unconstrained(registered, model, partitioner, params):
  """Hugging Face beam search (mode 'hf'): K beams, the best N returned, no constraint."""
  cfg = DatasetConfig(MIXTURE, None, 'test', batch_size=8, shuffle=False)
  settings = {
      'all_items': {
          'mode': 'hf',
          'num_beams': 4,
          'num_return_sequences': 2,
          'max_length': 6,
          'early_stopping': True,
      }
  }
  hook = functools.partial(p5_task_decoding, num_beams=BEAMS, settings=settings)
  settings = EvalSettings(task_decoding_params=hook, num_examples=8)
  evaluator = InferenceEvaluator(cfg, model, partitioner, settings=settings)
  fns = evaluator._model_fns(ALL_ITEMS, jax.tree.map(lambda x: x.sharding, params))
  ds = evaluator.evaluators[ALL_ITEMS].cached_model_datasets[ALL_ITEMS]
  _, tokens, _ = fns._decode_all(params, ds)
  # 8 queries, the 2 best of 4 beams each, at most max_length - 1 = 5 tokens (EOS included)
  assert np.asarray(tokens).shape == (8, 2, 5)
