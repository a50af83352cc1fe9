from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_rid_is_a_permutation_of_numbers():
  data = two_communities()
  index = build_index('rid', data, seed=4)
  numbers = sorted(int(s.replace(' ', '')) for s in index.all_id_strings())
  assert numbers == list(range(1, len(data.items) + 1))
  assert index.new_tokens() == []
