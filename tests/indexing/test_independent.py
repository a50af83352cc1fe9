from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_iid_adds_exactly_one_token_per_item():
  data = two_communities()
  index = build_index('iid', data, seed=1)
  assert len(index.new_tokens()) == len(set(index.new_tokens())) == len(data.items)
  assert sorted(index.all_id_strings()) == sorted(index.new_tokens())
  numbers = sorted(int(t[len('<item_') : -1]) for t in index.new_tokens())
  assert numbers == list(range(1, len(data.items) + 1))
  assert [index.item_to_tokens(i) for i in data.items] != [f'<item_{i}>' for i in data.items]
