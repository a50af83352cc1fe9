import os
import pickle

import pytest

from p5jax.data.errors import DataFormatError
from p5jax.data.safe_pickle import load_plain_pickle


class _Evil:

  def __reduce__(self):
    return (os.system, ('echo pwned',))


def test_loads_plain_containers(tmp_path):
  value = {'train': [{'a': 1, 'b': 2.5, 'c': ('x', None)}], 'n': [1, 2]}
  path = tmp_path / 'ok.pkl'
  path.write_bytes(pickle.dumps(value, protocol=2))
  assert load_plain_pickle(str(path)) == value


def test_refuses_globals_and_names_them(tmp_path):
  path = tmp_path / 'evil.pkl'
  path.write_bytes(pickle.dumps([_Evil()]))
  with pytest.raises(DataFormatError, match=r'evil.pkl.*asks for global (posix|nt)\.system'):
    load_plain_pickle(str(path))


def test_truncated_pickle(tmp_path):
  path = tmp_path / 'cut.pkl'
  path.write_bytes(pickle.dumps(list(range(100)))[:20])
  with pytest.raises(DataFormatError, match='unreadable pickle'):
    load_plain_pickle(str(path))
