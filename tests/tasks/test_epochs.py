"""ExampleOrder: every epoch a seeded permutation of the union of its families' examples."""

import collections

import numpy as np
import pytest

from p5jax import prompts
from p5jax.tasks import epochs, families


def parts(ctx, rates=None):
  rates = rates or {}
  return [
      (
          f,
          families.TrainFamily(ctx, f, prompts.family_templates('amazon', f, seen=True)),
          rates.get(f),
      )
      for f in ('sequential', 'direct', 'rating')
  ]


def test_an_epoch_is_a_permutation_of_the_union(make_context):
  ctx = make_context()
  order = epochs.ExampleOrder(parts(ctx), seed=3)
  sizes = {name: f.size for name, f, _ in parts(ctx)}
  assert order.epoch_size == sum(sizes.values()) and order.family_shares() == sizes
  for epoch in (0, 1):
    located = [order.locate(epoch * order.epoch_size + p) for p in range(order.epoch_size)]
    assert {e for _, e, _ in located} == {epoch}
    assert sorted((part, i) for part, _, i in located) == sorted(
        (part, i) for part, n in enumerate(sizes.values()) for i in range(n)
    )
  first = [order.locate(p) for p in range(order.epoch_size)]
  second = [order.locate(order.epoch_size + p)[::2] for p in range(order.epoch_size)]
  assert [x[::2] for x in first] != second  # each epoch its own order
  again = epochs.ExampleOrder(parts(ctx), seed=3)
  assert [again.locate(p) for p in range(50)] == first[:50]
  other = epochs.ExampleOrder(parts(ctx), seed=4)
  assert [other.locate(p) for p in range(50)] != first[:50]


def test_families_are_interleaved_from_the_start(make_context):
  ctx = make_context()
  order = epochs.ExampleOrder(parts(ctx), seed=0)
  head = [order.names[order.locate(p)[0]] for p in range(order.epoch_size // 4)]
  shares = collections.Counter(head)
  for name, size in order.family_shares().items():
    assert abs(shares[name] / len(head) - size / order.epoch_size) < 0.12
  users = [int(order.example(p)['user']) for p in range(30)]
  assert len(set(users)) == len(ctx.users)  # not one user after another


def test_unshuffled_order_is_index_order(make_context):
  ctx = make_context()
  order = epochs.ExampleOrder(parts(ctx), seed=0, shuffle=False)
  assert [order.locate(p) for p in range(3)] == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]


def test_rates_resize_families_without_repeats_within_their_epoch(make_context):
  ctx = make_context()
  sizes = {name: f.size for name, f, _ in parts(ctx)}
  total = sum(sizes.values())
  order = epochs.ExampleOrder(parts(ctx, {'sequential': 1.0, 'direct': 1.0, 'rating': 2.0}), 0)
  shares = order.family_shares()
  assert shares == {'sequential': round(total / 4), 'direct': round(total / 4), 'rating': total / 2}
  # The up-sampled rating family runs through its own epochs: no record twice before all once.
  drawn = [order.locate(p)[1:] for p in range(3 * order.epoch_size) if order.locate(p)[0] == 2]
  per_epoch = collections.defaultdict(list)
  for family_epoch, index in drawn:
    per_epoch[family_epoch].append(index)
  complete = [e for e in per_epoch if len(per_epoch[e]) == sizes['rating']]
  assert complete and all(sorted(per_epoch[e]) == list(range(sizes['rating'])) for e in complete)
  with pytest.raises(ValueError, match='rates'):
    epochs.ExampleOrder(parts(ctx, {'sequential': -1.0}), 0)


def test_permutation_depends_only_on_its_key():
  a = epochs.permutation(1, 2, 'x', 100)
  assert sorted(a.tolist()) == list(range(100))
  assert np.array_equal(a, epochs.permutation(1, 2, 'x', 100))
  assert not np.array_equal(a, epochs.permutation(1, 3, 'x', 100))
  assert not np.array_equal(a, epochs.permutation(1, 2, 'y', 100))
