"""`ItemIndex`: the bijection between item ids and the token strings that name them.

An ID string is a whitespace-separated sequence of words. Each word is either a new vocabulary
token the scheme adds (e.g. `<c12>`, `<item_523>`, possibly several glued together such as
`<c12><c3>`) or ordinary text (digits, title words). Numbers are written one digit per word
(`1 0 0 4`) unless a scheme documents otherwise (see `numbering.py`).

An ID is split into a *prefix* (the structural part: cluster or category tokens, empty for flat
schemes) and a *leaf* (what makes it unique within its prefix). Hybrids keep the prefix of one
scheme and replace the leaf with another scheme's ID (`hybrid.py`).

IDs need not be prefix-free as token sequences: a target ends with EOS, so a decoding trie built
over `all_id_strings()` + EOS is unambiguous (`'<c1> 4'` and `'<c1> 4 9'` can coexist).
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from p5jax.errors import one_line

FORMAT_VERSION = 1


def normalize_id_string(text: str) -> str:
  """Collapses runs of whitespace (including newlines) so lookups ignore spacing differences."""
  return one_line(text)


class ItemIndex:
  """Item id <-> ID string map for one scheme, with the vocabulary tokens it needs."""

  def __init__(
      self,
      scheme: str,
      prefixes: Mapping[int, str],
      leaves: Mapping[int, str],
      new_tokens: Sequence[str],
      *,
      params: Mapping[str, Any] | None = None,
      seed: int = 0,
  ):
    if set(prefixes) != set(leaves):
      raise ValueError(f'{scheme}: prefixes and leaves cover different items')
    self.scheme = scheme
    self.params = dict(params or {})
    self.seed = int(seed)
    self._items = sorted(int(i) for i in leaves)
    self._prefix = {int(i): normalize_id_string(prefixes[i]) for i in prefixes}
    self._leaf = {int(i): normalize_id_string(leaves[i]) for i in leaves}
    self._ids = {i: _join(self._prefix[i], self._leaf[i]) for i in self._items}
    self._by_string: dict[str, int] = {}
    for item, text in self._ids.items():
      if not text:
        raise ValueError(f'{scheme}: item {item} has an empty ID string')
      other = self._by_string.setdefault(text, item)
      if other != item:
        raise ValueError(f'{scheme}: items {other} and {item} share the ID string {text!r}')
    self._new_tokens = list(dict.fromkeys(new_tokens))

  def __len__(self) -> int:
    return len(self._items)

  def __eq__(self, other: object) -> bool:
    return isinstance(other, ItemIndex) and self.to_json() == other.to_json()

  def items(self) -> list[int]:
    """Item ids in ascending order; `all_id_strings()` is aligned with this list."""
    return list(self._items)

  def item_to_tokens(self, item: int) -> str:
    try:
      return self._ids[int(item)]
    except KeyError:
      raise KeyError(f'{self.scheme}: item {item} is not in the index') from None

  def tokens_to_item(self, text: str) -> int | None:
    """The item named by `text` (whitespace-insensitive), or None if it names no item."""
    return self._by_string.get(normalize_id_string(text))

  def prefix(self, item: int) -> str:
    """The structural part of the item's ID ('' for flat schemes)."""
    return self._prefix[int(item)]

  def leaf(self, item: int) -> str:
    return self._leaf[int(item)]

  def all_id_strings(self) -> list[str]:
    return [self._ids[i] for i in self._items]

  def new_tokens(self) -> list[str]:
    """Tokens that must be single pieces of the vocabulary (user-defined symbols)."""
    return list(self._new_tokens)

  def to_json(self) -> dict[str, Any]:
    return {
        'format_version': FORMAT_VERSION,
        'scheme': self.scheme,
        'params': self.params,
        'seed': self.seed,
        'new_tokens': self._new_tokens,
        'items': [[i, self._prefix[i], self._leaf[i]] for i in self._items],
    }

  @classmethod
  def from_json(cls, obj: Mapping[str, Any], source: str = '<json>') -> ItemIndex:
    for key in ('format_version', 'scheme', 'params', 'seed', 'new_tokens', 'items'):
      if key not in obj:
        raise ValueError(f'{source}: item index is missing the field {key!r}')
    if obj['format_version'] != FORMAT_VERSION:
      raise ValueError(
          f"{source}: format_version {obj['format_version']} is not " f"{FORMAT_VERSION}"
      )
    prefixes, leaves = {}, {}
    for row, entry in enumerate(obj['items']):
      if not (isinstance(entry, list) and len(entry) == 3):
        raise ValueError(f'{source}: items[{row}] must be [item, prefix, leaf], got {entry!r}')
      prefixes[int(entry[0])], leaves[int(entry[0])] = entry[1], entry[2]
    return cls(
        obj['scheme'], prefixes, leaves, obj['new_tokens'], params=obj['params'], seed=obj['seed']
    )

  def save(self, path: str | os.PathLike) -> None:
    """Writes the index as JSON atomically (a temp file renamed into place)."""
    atomic_write_bytes(path, json.dumps(self.to_json(), ensure_ascii=False).encode('utf-8'))

  def __repr__(self) -> str:
    return (
        f'ItemIndex(scheme={self.scheme!r}, items={len(self)}, params={self.params}, '
        f'seed={self.seed}, new_tokens={len(self._new_tokens)})'
    )


def load_index(path: str | os.PathLike) -> ItemIndex:
  with open(path, encoding='utf-8') as f:
    try:
      obj = json.load(f)
    except json.JSONDecodeError as e:
      raise ValueError(f'{path}: not valid JSON ({e})') from None
  return ItemIndex.from_json(obj, source=str(path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
  """Writes `data` to `path` so readers never see a partial file."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
  try:
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def _join(prefix: str, leaf: str) -> str:
  if not prefix:
    return leaf
  if not leaf:
    return prefix
  return f'{prefix} {leaf}'
