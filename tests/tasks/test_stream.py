"""The trainer's P5 example stream: seqio's bytes, P5's epoch, O(1) exact resume."""

from __future__ import annotations

import collections
import dataclasses
import time

import numpy as np
import pytest

from p5jax import tasks
from p5jax.tasks import epochs
from p5jax.tasks import stream as p5_stream
from p5jax.training.data import DatasetConfig, get_dataset, resumable_batches
from p5jax.training.partitioning import DataLayout
from tests.models.fakes import tiny_t5_config
from tests.tasks.fakes import make_dataset, write_prepared_dir
from tests.training.fakes import tiny_t5

LENGTHS = {'inputs': 512, 'targets': 64}
MODEL = tiny_t5()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
  path = write_prepared_dir(str(tmp_path_factory.mktemp('prepared')), make_dataset())
  tasks.register_dataset('stream', path, 'sid', seed=0)
  return 'stream'


def config(name, pack=False, rows=4, lengths=LENGTHS, **kw):
  return DatasetConfig(name, lengths, 'train', rows, shuffle=True, seed=3, pack=pack, **kw)


def take(batches, n):
  return [next(batches) for _ in range(n)]


def assert_same(a, b):
  assert len(a) == len(b)
  for x, y in zip(a, b):
    assert x.keys() == y.keys()
    for k in x:
      np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_a_task_gives_the_seqio_paths_bytes(dataset):
  cfg = config(f'p5_{dataset}_sequential_train')
  fast = get_dataset(cfg, DataLayout(4, 0, 1), MODEL)
  assert isinstance(fast, p5_stream.P5Stream)
  slow = get_dataset(dataclasses.replace(cfg, example_stream=False), DataLayout(4, 0, 1), MODEL)
  assert_same(take(resumable_batches(fast, 0), 8), take(resumable_batches(slow, 0), 8))


def test_the_pretrain_epoch_is_every_familys_epoch_once(dataset):
  stream = get_dataset(config(f'p5_{dataset}_pretrain'), DataLayout(4, 0, 1), MODEL)
  build = p5_stream.builder(stream.spec)
  shares = build.order.family_shares()
  seen = collections.Counter()
  for p in range(build.order.epoch_size):
    part, epoch, index = build.order.locate(p)
    assert epoch == 0
    seen[(build.order.names[part], index)] += 1
  assert set(seen.values()) == {1}
  assert collections.Counter(name for name, _ in seen) == shares
  head = collections.Counter(
      build.order.names[build.order.locate(p)[0]] for p in range(build.order.epoch_size // 5)
  )
  assert len(head) == len(shares)  # families interleaved from the start


@pytest.mark.parametrize('pack', [False, True])
def test_resume_at_the_stored_position_continues_exactly(dataset, pack):
  cfg = config(f'p5_{dataset}_pretrain', pack=pack)
  straight = take(resumable_batches(get_dataset(cfg, DataLayout(4, 0, 1), MODEL), 0), 7)
  first = resumable_batches(get_dataset(cfg, DataLayout(4, 0, 1), MODEL), 0)
  take(first, 3)
  state = first.input_state()
  assert state == {p5_stream.STATE_KEY: [first.position]} and first.position > 0
  resumed = resumable_batches(get_dataset(cfg, DataLayout(4, 0, 1), MODEL), 3, state)
  assert_same(straight[3:], take(resumed, 4))
  replayed = resumable_batches(get_dataset(cfg, DataLayout(4, 0, 1), MODEL), 3)  # no position
  assert_same(straight[3:5], take(replayed, 2))
  if pack:
    assert straight[0]['encoder_segment_ids'].max() > 1


def test_resume_cost_does_not_grow_with_the_step(dataset):
  stream = get_dataset(config(f'p5_{dataset}_pretrain'), DataLayout(4, 0, 1), MODEL)

  def first_batch_seconds(step):
    times = []
    for _ in range(5):
      epochs.permutation.cache_clear()
      start = time.perf_counter()
      batches = resumable_batches(stream, step, {p5_stream.STATE_KEY: [4 * step]})
      next(batches)
      times.append(time.perf_counter() - start)
      batches.close()
    return min(times)

  early, late = first_batch_seconds(10), first_batch_seconds(10_000)
  assert late < 2 * early + 0.01, (early, late)


def test_hosts_read_interleaved_shares(dataset):
  cfg = config(f'p5_{dataset}_pretrain', rows=4)
  whole = p5_stream.builder(get_dataset(cfg, DataLayout(4, 0, 1), MODEL).spec)
  hosts = [get_dataset(cfg, DataLayout(4, h, 2), MODEL) for h in range(2)]
  for h, stream in enumerate(hosts):
    assert stream.rows == 2 and stream.spec.shard_index == h
    local = p5_stream.builder(stream.spec)
    for p in range(5):
      assert local.raw(p)['inputs'] == whole.raw(2 * p + h)['inputs']
  with pytest.raises(ValueError, match='resume with 1 hosts'):
    resumable_batches(hosts[0], 1, {p5_stream.STATE_KEY: [5]})


def test_histories_fit_the_trained_length(dataset):
  cfg = config(f'p5_{dataset}_sequential_train', lengths={'inputs': 40, 'targets': 8})
  build = p5_stream.builder(get_dataset(cfg, DataLayout(4, 0, 1), MODEL).spec)
  assert {t.id for t in build.order.families[0].templates} == {
      '2-1',
      '2-2',
      '2-3',
      '2-4',
      '2-5',
      '2-6',
      '2-7',
      '2-8',
      '2-9',
      '2-10',
      '2-11',
      '2-12',
  }  # 'warn': candidate templates are kept (and reported)
  encoder = build.spec.parts[0].context.encoder()
  for p in range(60):
    example = build.raw(p)
    if example['template'] not in {'2-7', '2-8', '2-9', '2-10'}:
      assert encoder.count(example['inputs']) + 1 <= 40


@pytest.mark.slow
def test_worker_processes_give_the_same_batches(dataset):
  cfg = config(f'p5_{dataset}_pretrain', pack=True)
  local = take(resumable_batches(get_dataset(cfg, DataLayout(4, 0, 1), MODEL), 0), 4)
  workers = get_dataset(dataclasses.replace(cfg, num_workers=2), DataLayout(4, 0, 1), MODEL)
  batches = resumable_batches(workers, 0)
  assert_same(local, take(batches, 4))
  batches.close()


@pytest.mark.slow
def test_training_resumes_bit_identically_on_the_p5_stream(dataset, tmp_path, monkeypatch):
  import jax
  import seqio

  from p5jax import models
  from p5jax.training import (
      CheckpointConfig,
      Partitioner,
      SaveCheckpointConfig,
      p5_adamw,
      train,
      train_lib,
  )

  vocab_size = tasks.task_info(f'p5_{dataset}_sequential_train').context.vocabulary().vocab_size
  t5_config = tiny_t5_config(vocab_size=-(-vocab_size // 8) * 8)
  vocab = seqio.PassThroughVocabulary(t5_config.vocab_size, eos_id=1)
  model = models.EncoderDecoderModel(models.Transformer(t5_config), vocab, vocab)
  cfg = DatasetConfig(
      f'p5_{dataset}_pretrain', {'inputs': 64, 'targets': 16}, 'train', 8, True, pack=True
  )
  losses = {}

  def run(model_dir, steps=6):
    return train(
        model=model,
        train_dataset_cfg=cfg,
        model_dir=str(model_dir),
        total_steps=steps,
        partitioner=Partitioner(),
        optimizer=p5_adamw(total_steps=6, learning_rate=1e-2),
        checkpoint_cfg=CheckpointConfig(save=SaveCheckpointConfig(period=100)),
        stats_period=1,
        random_seed=7,
    )

  real_step = train_lib.Trainer.train_step

  def recording(name):
    def step(self, state, batch, rng):
      new_state, metrics = real_step(self, state, batch, rng)
      losses.setdefault(name, []).append(float(metrics['loss']))
      return new_state, metrics

    return step

  monkeypatch.setattr(train_lib.Trainer, 'train_step', recording('straight'))
  _, straight = run(tmp_path / 'a')
  monkeypatch.setattr(train_lib.Trainer, 'train_step', recording('resumed'))
  run(tmp_path / 'b', steps=3)
  _, resumed = run(tmp_path / 'b')
  assert losses['straight'] == losses['resumed']
  jax.tree.map(
      lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)),
      straight.params,
      resumed.params,
  )
