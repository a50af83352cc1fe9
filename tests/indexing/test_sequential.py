from p5jax.indexing import IndexInputs, build_from_inputs, build_index
from tests.indexing.fakes import FakeDataset, item_record


def _number(index, item):
  return int(index.item_to_tokens(item).replace(' ', ''))


def test_sid_numbers_train_items_first_in_appearance_order():
  inputs = IndexInputs(tuple(range(1, 8)), {1: [5, 3, 5], 2: [3, 1]})
  index = build_from_inputs('sid', inputs, seed=0)
  train_numbers = sorted(_number(index, i) for i in (1, 3, 5))
  assert train_numbers == [1, 2, 3]
  order = sorted((1, 3, 5), key=lambda i: _number(index, i))
  assert order in ([5, 3, 1], [3, 1, 5])  # user 1 walked first, or user 2
  assert sorted(_number(index, i) for i in (2, 4, 6, 7)) == [4, 5, 6, 7]


def test_sid_ignores_validation_and_test_items():
  items = {i: item_record(i, f't{i}', []) for i in range(1, 10)}
  a = FakeDataset({1: [1, 2, 3, 7, 8], 2: [2, 4, 9, 5]}, items)
  b = FakeDataset({1: [1, 2, 3, 8, 7], 2: [2, 4, 6, 5]}, items)  # only val/test differ
  index_a, index_b = build_index('sid', a, seed=1), build_index('sid', b, seed=1)
  train = (1, 2, 3, 4)
  assert [index_a.item_to_tokens(i) for i in train] == [index_b.item_to_tokens(i) for i in train]
  held_out = (5, 6, 7, 8, 9)
  assert min(_number(index_a, i) for i in held_out) > max(_number(index_a, i) for i in train)
