"""numpy feature conversion: seqio's layout, and packing keeps the per-example loss."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import seqio
import tensorflow as tf

from p5jax.training.packing import RowPacker, pad_rows
from tests.models.fakes import tiny_t5_config

LENGTHS = {'inputs': 16, 'targets': 8}


def random_examples(seed, n, max_in=7, max_tgt=4, vocab=64):
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(n):
    inputs = rng.integers(3, vocab, int(rng.integers(1, max_in))).astype(np.int32)
    targets = rng.integers(3, vocab, int(rng.integers(1, max_tgt))).astype(np.int32)
    out.append((np.append(inputs, 1).astype(np.int32), np.append(targets, 1).astype(np.int32)))
  return out


def seqio_features(examples, pack):
  ds = tf.data.Dataset.from_generator(
      lambda: ({'inputs': i, 'targets': t} for i, t in examples),
      output_signature={k: tf.TensorSpec([None], tf.int32) for k in ('inputs', 'targets')},
  )
  out = seqio.EncDecFeatureConverter(pack=pack)(ds, LENGTHS)
  rows = list(out.as_numpy_iterator())
  return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def test_padded_rows_are_seqios():
  examples = random_examples(0, 5)
  ours, theirs = pad_rows(examples, 16, 8), seqio_features(examples, pack=False)
  assert ours.keys() == theirs.keys()
  for k in ours:
    np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)


def test_a_packed_row_is_seqios():
  examples = [(np.array([5, 6, 1]), np.array([3, 1])), (np.array([7, 1]), np.array([4, 4, 1]))]
  examples.append((np.array([8, 9, 10, 1]), np.array([2, 1])))
  packer = RowPacker(1, 16, 8)
  assert all(packer.add(e) for e in examples)
  ours, theirs = packer.features(), seqio_features(examples, pack=True)
  assert ours.keys() == theirs.keys()
  for k in ours:
    np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)


def test_first_fit_in_order_until_an_example_fits_no_row():
  packer = RowPacker(2, 16, 8)
  big = (np.arange(3, 13, dtype=np.int32), np.array([3, 1], np.int32))  # 10 input pieces
  small = (np.array([5, 1], np.int32), np.array([3, 1], np.int32))
  assert packer.add(big) and packer.add(big) and packer.add(small) and packer.add(small)
  assert not packer.add(big) and packer.count == 4
  features = packer.features()
  assert features['encoder_segment_ids'][:, :14].tolist() == [
      [1] * 10 + [2, 2, 3, 3],
      [1] * 10 + [0] * 4,
  ]
  with pytest.raises(ValueError, match='exceeds'):
    packer.add((np.ones(17, np.int32), np.ones(1, np.int32)))


@pytest.mark.parametrize('normalization', ['per_example_mean', 'token_mean'])
def test_packed_and_padded_batches_give_the_same_loss(normalization):
  """Whole-word embeddings, attention and the loss see each packed segment alone."""
  from p5jax import models

  vocab = 64
  table = np.zeros(vocab, bool)
  table[3::2] = True  # odd ids start words
  config = tiny_t5_config(
      vocab_size=vocab, dropout_rate=0.0, whole_word_embedding=True, max_words=16
  )
  model = models.EncoderDecoderModel(
      models.Transformer(config, word_start_table=table), loss_normalization=normalization
  )
  examples = random_examples(1, 6)
  padded = pad_rows(examples, 16, 8)
  packer = RowPacker(3, 16, 8)
  assert all(packer.add(e) for e in examples)
  packed = packer.features()
  assert packed['encoder_segment_ids'].max() > 1  # really packed
  shapes = {k: v.shape for k, v in padded.items()}
  params = jax.jit(lambda key: model.get_initial_variables(key, shapes))(jax.random.key(0))[
      'params'
  ]
  loss = jax.jit(lambda batch: model.loss_fn(params, batch, None)[0])
  loss_padded, loss_packed = float(loss(padded)), float(loss(packed))
  assert loss_packed == pytest.approx(loss_padded, rel=1e-5)
