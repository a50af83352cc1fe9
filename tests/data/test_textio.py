"""Raw text files: bad bytes and broken gzip files are named by file and line."""

import gzip

import pytest

from p5jax.data.errors import DataFormatError
from p5jax.data.textio import checked_records, numbered_lines


def _lines(n):
  return ''.join(f'{{"k": {i}, "pad": "{"x" * 40}"}}\n' for i in range(n))


def test_non_utf8_bytes_name_file_line_and_byte(tmp_path):
  path = tmp_path / 'reviews.json'
  path.write_bytes(b'{"a": 1}\n\n{"b": "caf\xe9"}\n')
  with pytest.raises(DataFormatError, match=r'reviews\.json, line 3: byte 0xe9 at column 11'):
    list(numbered_lines(str(path)))


def test_truncated_gzip_names_the_line_it_ends_in(tmp_path):
  path = tmp_path / 'reviews.json.gz'
  path.write_bytes(gzip.compress(_lines(3000).encode()))
  path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
  with pytest.raises(DataFormatError, match=r'json\.gz, line \d+: truncated or corrupt gzip'):
    list(numbered_lines(str(path)))


def test_plain_text_under_a_gz_name(tmp_path):
  path = tmp_path / 'reviews.json.gz'
  path.write_text(_lines(2))
  with pytest.raises(DataFormatError, match=r'json\.gz: not a gzip file .* drop the \.gz'):
    list(numbered_lines(str(path)))


def test_gzip_bytes_without_a_gz_name(tmp_path):
  path = tmp_path / 'reviews.json'
  path.write_bytes(gzip.compress(_lines(2).encode()))
  with pytest.raises(DataFormatError, match=r'line 1: .*gzip-compressed\? then name it \.gz'):
    list(numbered_lines(str(path)))


def test_checked_records_yield_the_required_values_and_name_a_bad_field(tmp_path):
  path = tmp_path / 'reviews.json'
  path.write_text('{"user": "u1", "stars": 4}\n\n{"user": "u2", "stars": true}\n')
  fields = (('user', str), ('stars', (int, float)))
  records = checked_records(str(path), fields)
  assert next(records) == (1, {'user': 'u1', 'stars': 4}, ['u1', 4])
  with pytest.raises(DataFormatError, match=r'reviews\.json, line 3.*stars.*expected int or float'):
    next(records)
