"""PromptExamplesSource: per-epoch shuffled training stream, sharding, cacheable eval splits."""

import seqio

from p5jax import prompts
from p5jax.tasks import source

SEEN = prompts.family_templates('amazon', 'sequential', seen=True)


def texts(ds, n=None):
  rows = ds.take(n) if n else ds
  return [e['inputs'].decode() for e in rows.as_numpy_iterator()]


def make_source(make_context, **kwargs):
  ctx = make_context(sequential_cut='p5')
  return source.PromptExamplesSource(
      lambda: ctx, 'sequential', SEEN, ('train', 'validation', 'test'), name='t', **kwargs
  )


def test_training_stream_is_the_seeded_epoch_order(make_context):
  src = make_source(make_context, train_epochs=2)
  order = src.train_order(seed=5)
  shuffled = texts(src.get_dataset('train', shuffle=True, seed=5))
  assert len(shuffled) == 2 * order.epoch_size
  assert shuffled[:40] == [order.example(p)['inputs'] for p in range(40)]
  assert shuffled[:40] == texts(src.get_dataset('train', shuffle=True, seed=5), 40)
  assert shuffled[:40] != texts(src.get_dataset('train', shuffle=True, seed=6), 40)
  plain = texts(src.get_dataset('train', shuffle=False))
  assert sorted(plain) == sorted(shuffled) and plain != shuffled
  family = src.train_family()
  assert plain[: family.size] == [family.example(0, i)['inputs'] for i in range(family.size)]


def test_hosts_read_disjoint_shares_of_the_stream(make_context):
  src = make_source(make_context, train_epochs=1)
  whole = texts(src.get_dataset('train', seed=1))
  shards = [
      texts(src.get_dataset('train', seed=1, shard_info=seqio.ShardInfo(i, 3))) for i in range(3)
  ]
  assert [shards[p % 3][p // 3] for p in range(len(whole))] == whole


def test_eval_splits_are_cacheable_in_shards(make_context):
  src = make_source(make_context)
  assert src.caching_permitted is False  # the training stream is endless and seeded
  evaluation = source.PromptExamplesSource(
      src._context, 'sequential', SEEN[:1], ('validation', 'test')
  )
  assert evaluation.caching_permitted
  names = evaluation.list_shards('test')
  assert len(names) == source.EVAL_SHARDS
  # What seqio's cache_tasks_main does: each listed shard once, with the shard's own seed.
  cached = [
      e
      for i in range(len(names))
      for e in texts(
          evaluation.get_dataset(
              'test', shuffle=False, seed=100 + i, shard_info=seqio.ShardInfo(i, len(names))
          )
      )
  ]
  assert sorted(cached) == sorted(texts(evaluation.get_dataset('test', shuffle=False)))
