from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_tid_uses_title_words_and_disambiguates():
  data = two_communities()
  data.items[1]['title'] = 'Rose, water: toner!'
  data.items[2]['title'] = None
  index = build_index('tid', data, seed=0, max_words=3)
  assert index.item_to_tokens(1) == 'Rose water toner'
  assert index.item_to_tokens(2).startswith('item # ')
  same = [
      index.item_to_tokens(i)
      for i in data.items
      if data.items[i]['title'] == data.items[3]['title']
  ]
  assert len(same) > 1 and all(s.startswith('Shade 3 lip # ') for s in same)
