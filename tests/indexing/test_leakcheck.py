import json

import pytest

from p5jax.data.prepared import FORMAT_VERSION
from p5jax.indexing import build_from_inputs, leakcheck
from p5jax.indexing.build import add_scheme
from p5jax.indexing.leakcheck import leak_check, natural_key
from tests.indexing.fakes import FakeDataset, inputs_of, item_record, leaky_sequences


def test_natural_key_reads_spaced_digits_as_numbers():
  assert sorted(['1 0', '9', '<c1> 2', '<c1> 1 0'], key=natural_key) == [
      '9',
      '1 0',
      '<c1> 2',
      '<c1> 1 0',
  ]


@pytest.fixture(scope='module')
def sequences():
  return leaky_sequences()


def test_flags_original_numbering(sequences):
  result = leak_check(build_from_inputs('original', inputs_of(sequences)), sequences)
  assert result['leak'] is True
  assert result['rule_hr@5'] > 1.5 * result['popularity_hr@5']


@pytest.mark.parametrize('scheme,params', [('sid', {}), ('rid', {}), ('cid', {'k': 50, 'n': 8})])
def test_passes_corrected_schemes(sequences, scheme, params):
  inputs = inputs_of(sequences, protocol='corrected')
  result = leak_check(build_from_inputs(scheme, inputs, seed=0, **params), sequences)
  assert result['leak'] is False
  assert result['rule_hr@5'] < result['popularity_hr@5']


def test_check_prepared_reads_saved_index(tmp_path, monkeypatch, sequences):
  import p5jax.data

  items = {i: item_record(i, f't{i}', []) for s in sequences.values() for i in s}
  data = FakeDataset(sequences, items, protocol='original')
  monkeypatch.setattr(
      p5jax.data,
      'PreparedDataset',
      type('P', (), {'load': staticmethod(lambda path: data)}),
      raising=False,
  )
  data.manifest['format_version'] = FORMAT_VERSION
  data.write_manifest(tmp_path)
  add_scheme(str(tmp_path), 'original', data)
  result = leakcheck.check_prepared(str(tmp_path), 'original')
  assert result['leak'] is True and result['scheme'] == 'original'
  assert leakcheck.check_prepared(str(tmp_path), 'sid')['leak'] is False  # built in memory
  json.dumps(result)


def _first_appearance_file(path, sequences):
  """A `sequential_data.txt` whose users are 1..U and items numbered by first appearance."""
  numbers: dict[int, int] = {}
  with open(path, 'w') as f:
    for user, items in enumerate(sequences.values(), start=1):
      row = [numbers.setdefault(i, len(numbers) + 1) for i in items]
      f.write(' '.join(map(str, [user] + row)) + '\n')


@pytest.mark.parametrize(
    'protocol,schemes', [('corrected', ('rid', 'sid', 'cid')), ('original', ('original',))]
)
def test_numeric_first_appearance_source(tmp_path, sequences, protocol, schemes):
  """`--dataset=sequences` on P5-style numbers: corrected schemes carry none of the source's
  first-appearance numbering (rid once drew the corrected item permutation's own stream and
  reproduced it exactly); `original` keeps it and is flagged."""
  from p5jax.data.pipeline import prepare

  raw = tmp_path / 'raw'
  raw.mkdir()
  _first_appearance_file(raw / 'sequential_data.txt', sequences)
  out = str(tmp_path / protocol)
  prepare('sequences', str(raw), out, protocol=protocol, id_schemes=schemes, seed=0)
  for scheme in schemes:
    result = leakcheck.check_prepared(out, scheme)
    assert result['leak'] is (scheme == 'original'), result
