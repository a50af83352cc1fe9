import pytest

from p5jax.indexing import ItemIndex, load_index


def _index():
  return ItemIndex(
      'x', {1: '<a>', 2: '<a>', 3: ''}, {1: '1', 2: '2', 3: '1 0'}, ['<a>'], params={'k': 3}, seed=7
  )


def test_round_trip_and_alignment():
  index = _index()
  assert index.all_id_strings() == ['<a> 1', '<a> 2', '1 0']
  assert index.items() == [1, 2, 3]
  for item, text in zip(index.items(), index.all_id_strings()):
    assert index.item_to_tokens(item) == text
    assert index.tokens_to_item(text) == item
  assert index.tokens_to_item('  <a>\n 2 ') == 2
  assert index.tokens_to_item('<a> 3') is None


def test_save_load(tmp_path):
  index = _index()
  index.save(tmp_path / 'sub' / 'x.json')
  loaded = load_index(tmp_path / 'sub' / 'x.json')
  assert loaded == index
  assert (loaded.scheme, loaded.params, loaded.seed, loaded.new_tokens()) == (
      'x',
      {'k': 3},
      7,
      ['<a>'],
  )


def test_duplicate_ids_rejected():
  with pytest.raises(ValueError, match='share the ID string'):
    ItemIndex('x', {1: '', 2: ''}, {1: '5', 2: ' 5'}, [])


def test_bad_file_names_field(tmp_path):
  (tmp_path / 'bad.json').write_text('{"scheme": "x"}')
  with pytest.raises(ValueError, match='bad.json.*format_version'):
    load_index(tmp_path / 'bad.json')


def test_unknown_item_raises():
  with pytest.raises(KeyError, match='item 9'):
    _index().item_to_tokens(9)
