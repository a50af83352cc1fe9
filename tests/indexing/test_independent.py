from p5jax.indexing import build_index

from tests.indexing.fakes import two_communities


def test_iid_adds_exactly_one_token_per_item():
  data = two_communities()
  index = build_index("iid", data)
  assert len(index.new_tokens()) == len(set(index.new_tokens())) == len(data.items)
  assert all(index.item_to_tokens(i) == f"<item_{i}>" for i in data.items)
