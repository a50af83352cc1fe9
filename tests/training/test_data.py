"""Per-host sharding, skip-ahead resume and task-name errors of the input pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from p5jax.training.data import DatasetConfig, get_dataset, resolve_task, resumable_batches
from p5jax.training.partitioning import DataLayout
from tests.training import seqio_fixtures
from tests.training.fakes import tiny_t5


def _cfg(shuffle=True, seed=5):
  return DatasetConfig(
      seqio_fixtures.register(),
      seqio_fixtures.FEATURE_LENGTHS,
      'train',
      8,
      shuffle=shuffle,
      seed=seed,
  )


MODEL = tiny_t5()


def test_skip_ahead_resumes_the_same_stream():
  ds = get_dataset(_cfg(), DataLayout(8, 0, 1), MODEL)
  straight = [b['encoder_input_tokens'] for b, _ in zip(resumable_batches(ds, 0), range(10))]
  again = get_dataset(_cfg(), DataLayout(8, 0, 1), MODEL)
  resumed = [b['encoder_input_tokens'] for b, _ in zip(resumable_batches(again, 4), range(6))]
  for a, b in zip(straight[4:], resumed):
    np.testing.assert_array_equal(a, b)
  other = get_dataset(_cfg(seed=6), DataLayout(8, 0, 1), MODEL)
  assert not np.array_equal(next(resumable_batches(other, 0))['encoder_input_tokens'], straight[0])


def test_hosts_read_disjoint_shards():
  rows = []
  for host in range(2):
    ds = get_dataset(_cfg(shuffle=False), DataLayout(8, host, 2), MODEL, num_epochs=1)
    batches = list(ds.as_numpy_iterator())
    assert all(b['encoder_input_tokens'].shape[0] == 4 for b in batches)
    rows.append({tuple(r) for b in batches for r in b['encoder_input_tokens']})
  assert rows[0] and rows[1] and not rows[0] & rows[1]
  assert len(rows[0] | rows[1]) == 64


def test_unknown_task_is_named():
  with pytest.raises(ValueError, match="'p5_nosuch_pretrain' is not a registered"):
    resolve_task(DatasetConfig('p5_nosuch_pretrain', None, 'train', 8, False))


def test_an_extra_shuffle_buffer_reorders_reproducibly():
  def first_rows(**kw):
    cfg = dataclasses.replace(_cfg(), **kw)
    ds = get_dataset(cfg, DataLayout(8, 0, 1), MODEL)
    return [
        tuple(r)
        for b, _ in zip(resumable_batches(ds, 0), range(4))
        for r in b['encoder_input_tokens']
    ]

  plain, buffered = first_rows(), first_rows(shuffle_buffer_size=64)
  assert buffered == first_rows(shuffle_buffer_size=64) and buffered != plain
  assert buffered != first_rows(shuffle_buffer_size=64, seed=9)
