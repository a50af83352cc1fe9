"""A restricted unpickler for P5's released `.pkl` files.

A pickle can name any importable global and call it while loading, i.e. run code. The files P5
ships hold only dicts, lists, tuples, strings and numbers, so `load_plain_pickle` admits exactly
those: any GLOBAL/REDUCE request is refused with an error naming the global the file asks for.
"""

from __future__ import annotations

import pickle
from typing import Any

from p5jax.data.errors import DataFormatError

# Globals that plain containers may legitimately reference in protocol-0..5 pickles.
_ALLOWED = {
    ('builtins', 'dict'),
    ('builtins', 'list'),
    ('builtins', 'tuple'),
    ('builtins', 'set'),
    ('builtins', 'frozenset'),
    ('builtins', 'str'),
    ('builtins', 'int'),
    ('builtins', 'float'),
    ('builtins', 'bool'),
    ('builtins', 'bytes'),
    ('collections', 'OrderedDict'),
}


class _PlainUnpickler(pickle.Unpickler):

  def __init__(self, file: Any, path: str):
    super().__init__(file, encoding='latin1')
    self._path = path

  def find_class(self, module: str, name: str) -> Any:
    if (module, name) in _ALLOWED:
      return super().find_class(module, name)
    raise DataFormatError(
        self._path,
        f'pickle asks for global {module}.{name}, which the restricted unpickler '
        'refuses (only plain containers, numbers and strings are admitted)',
    )


def load_plain_pickle(path: str) -> Any:
  """Loads a pickle that may contain only plain containers, numbers and strings."""
  with open(path, 'rb') as f:
    try:
      return _PlainUnpickler(f, path).load()
    except DataFormatError:
      raise
    except Exception as e:  # truncated or corrupt stream
      raise DataFormatError(path, f'unreadable pickle ({type(e).__name__}: {e})') from None
