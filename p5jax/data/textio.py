"""Reading raw text files: plain or gzip, numbered lines, per-line JSON / Python literals."""

from __future__ import annotations

import ast
import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from p5jax.data.errors import DataFormatError

Kind = type | tuple[type, ...]  # what `required` accepts: a type or a tuple of types
Parse = Callable[[str, int, str], dict[str, Any]]  # (path, line number, line) -> record


def find_file(directory: str, *names: str) -> str | None:
  """The first of `names` (each tried as-is and with `.gz`) that exists in `directory`."""
  for name in names:
    for candidate in (name, name + '.gz'):
      path = os.path.join(directory, candidate)
      if os.path.isfile(path):
        return path
  return None


def require_file(directory: str, *names: str) -> str:
  """`find_file`, or a `DataFormatError` naming the first of `names` when none exists."""
  path = find_file(directory, *names)
  if path is None:
    raise DataFormatError(os.path.join(directory, names[0] + '(.gz)'), 'file not found')
  return path


def numbered_lines(path: str) -> Iterator[tuple[int, str]]:
  """(1-based line number, stripped line) for every non-blank line; empty file -> error.

  Bytes that are not UTF-8, a truncated or corrupt `.gz` and a plain file named `.gz` are
  `DataFormatError`s naming the file and line."""
  seen = False
  number = 0
  try:
    with gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb') as f:
      for number, raw in enumerate(f, start=1):
        line = _decode(path, number, raw).strip()
        if line:
          seen = True
          yield number, line
  except gzip.BadGzipFile as e:
    if number == 0:
      raise DataFormatError(
          path, 'not a gzip file although its name ends in .gz: compress it, or drop the .gz'
      ) from None
    raise DataFormatError(
        path, f'corrupt gzip file ({e}): download or copy it again', line=number
    ) from None
  except (EOFError, zlib.error) as e:
    raise DataFormatError(
        path,
        f'truncated or corrupt gzip file ({e}): download or copy it again',
        line=number + 1,
    ) from None
  if not seen:
    raise DataFormatError(path, 'file is empty')


def _decode(path: str, number: int, raw: bytes) -> str:
  try:
    return raw.decode('utf-8')
  except UnicodeDecodeError as e:
    hint = ' (gzip-compressed? then name it .gz)' if raw.startswith(b'\x1f\x8b') else ''
    raise DataFormatError(
        path,
        f'byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8{hint}; '
        'convert the file to UTF-8',
        line=number,
    ) from None


def parse_json_line(path: str, number: int, line: str) -> dict[str, Any]:
  """One strict-JSON object per line."""
  try:
    record = json.loads(line)
  except json.JSONDecodeError as e:
    raise DataFormatError(path, f'malformed JSON ({e.msg})', line=number) from None
  if not isinstance(record, dict):
    raise DataFormatError(path, 'expected a JSON object', line=number)
  return record


def parse_literal_line(path: str, number: int, line: str) -> dict[str, Any]:
  """One Python-literal dict per line (McAuley 2014 metadata); never `eval`."""
  try:
    record = ast.literal_eval(line)
  except (ValueError, SyntaxError, MemoryError, RecursionError):
    try:  # some metadata dumps are strict JSON
      record = json.loads(line)
    except json.JSONDecodeError:
      raise DataFormatError(
          path, 'malformed record (neither a Python literal nor JSON)', line=number
      ) from None
  if not isinstance(record, dict):
    raise DataFormatError(path, 'expected a dict', line=number)
  return record


def required(path: str, number: int, record: dict[str, Any], field: str, kind: Kind) -> Any:
  """record[field], checked present and of `kind` (bool never counts as a number)."""
  if field not in record or record[field] is None:
    raise DataFormatError(path, 'missing required field', line=number, field=field)
  value = record[field]
  if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
    raise DataFormatError(
        path, f'expected {_kind_name(kind)}, got {type(value).__name__}', line=number, field=field
    )
  return value


def checked_records(
    path: str, fields: Sequence[tuple[str, Kind]], parse: Parse = parse_json_line
) -> Iterator[tuple[int, dict[str, Any], list[Any]]]:
  """(line number, record, the `required` values of `fields`) for every record of `path`: a
  reader's required (field, kind) pairs stated once, as a table."""
  for number, line in numbered_lines(path):
    record = parse(path, number, line)
    yield number, record, [required(path, number, record, field, kind) for field, kind in fields]


def optional_str(record: dict[str, Any], field: str) -> str | None:
  value = record.get(field)
  return None if value is None else str(value)


def _kind_name(kind: Kind) -> str:
  kinds = kind if isinstance(kind, tuple) else (kind,)
  return ' or '.join(k.__name__ for k in kinds)
