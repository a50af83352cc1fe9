from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_cid_iid_keeps_cluster_prefix_and_item_token():
  data = two_communities()
  cid = build_index('cid', data, seed=0, k=4, n=2)
  iid = build_index('iid', data, seed=0)
  hybrid = build_index('cid+iid', data, seed=0, cid={'k': 4, 'n': 2})
  for i in data.items:
    assert hybrid.item_to_tokens(i) == f'{cid.prefix(i)} {iid.item_to_tokens(i)}'
  assert set(hybrid.new_tokens()) == set(cid.new_tokens()) | set(iid.new_tokens())


def test_flat_first_part_keeps_its_full_id():
  data = two_communities()
  sid, hybrid = build_index('sid', data, seed=2), build_index('sid+iid', data, seed=2)
  iid = build_index('iid', data, seed=2)
  assert hybrid.item_to_tokens(3) == f'{sid.item_to_tokens(3)} {iid.item_to_tokens(3)}'


def test_contid_iid():
  data = two_communities()
  hybrid = build_index('contid+iid', data)
  assert hybrid.item_to_tokens(7).split()[-1].startswith('<item_')
  assert hybrid.item_to_tokens(7).startswith('<cat_')
