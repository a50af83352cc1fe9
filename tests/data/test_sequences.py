import json

import pytest

from p5jax.data.errors import DataFormatError
from p5jax.data.sequences import read_sequences


def _write(tmp_path, lines):
  path = tmp_path / 'sequential_data.txt'
  path.write_text(''.join(line + '\n' for line in lines))
  return str(tmp_path)


def test_reads_users_items_and_order(tmp_path):
  raw = read_sequences(_write(tmp_path, ['1 1 2 3', '2 3 2 4 1']))
  assert raw.sequences['2'] == [('3', 0), ('2', 1), ('4', 2), ('1', 3)]
  assert raw.user_numbers == {'1': 1, '2': 2}
  assert raw.item_numbers == {'1': 1, '2': 2, '3': 3, '4': 4}
  assert raw.reviews == []


def test_datamaps_supply_raw_ids(tmp_path):
  path = _write(tmp_path, ['1 1 2 3', '2 3 2 1'])
  (tmp_path / 'datamaps.json').write_text(
      json.dumps({'id2user': {'1': 'alice', '2': 'bob'}, 'id2item': {'1': 'a', '2': 'b', '3': 'c'}})
  )
  raw = read_sequences(path)
  assert raw.sequences['bob'] == [('c', 0), ('b', 1), ('a', 2)]
  assert raw.item_numbers['c'] == 3


@pytest.mark.parametrize(
    'lines, message',
    [
        ([], 'file is empty'),
        (['1 1 2 3', '1 2 3 1'], "line 2, field 'user': duplicate line for user 1"),
        (['1 1 2 3', '2 1 2'], "line 2, field 'items': user 2 has 2 interactions"),
        (['1 1 2 3', '2 1 2 x'], "line 2: 'x' is not an integer id"),
        (['1 1 2 3', '2 1 2 9'], "line 2, field 'items': unknown item 9"),
        (['1 1 2 3', '3 1 2 3'], 'user 2 has no line'),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, lines, message):
  with pytest.raises(DataFormatError, match='sequential_data.txt') as e:
    read_sequences(_write(tmp_path, lines))
  assert message in str(e.value)


def test_item_unknown_to_datamaps(tmp_path):
  path = _write(tmp_path, ['1 1 2 3'])
  (tmp_path / 'datamaps.json').write_text(
      json.dumps({'id2user': {'1': 'alice'}, 'id2item': {'1': 'a', '2': 'b'}})
  )
  with pytest.raises(DataFormatError, match=r"line 1, field 'items': unknown item 3"):
    read_sequences(path)
