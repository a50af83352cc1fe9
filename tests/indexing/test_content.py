from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_contid_follows_category_paths():
  data = two_communities()
  data.items[5]['categories'] = []
  index = build_index('contid', data, seed=0)
  makeup = {index.prefix(i) for i in data.items if i % 2 and i != 5}
  skin = {index.prefix(i) for i in data.items if i % 2 == 0}
  assert len(makeup) == 1 and len(skin) == 1 and makeup != skin
  assert index.prefix(1).split('>')[0] == index.prefix(2).split('>')[0]  # shared "Beauty"
  assert index.prefix(5) == ''
  assert len(index.new_tokens()) == 3
