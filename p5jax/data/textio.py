"""Reading raw text files: plain or gzip, numbered lines, per-line JSON / Python literals."""

from __future__ import annotations

import ast
import gzip
import json
import os
from collections.abc import Iterator
from typing import Any

from p5jax.data.errors import DataFormatError


def find_file(directory: str, *names: str) -> str | None:
  """The first of `names` (each tried as-is and with `.gz`) that exists in `directory`."""
  for name in names:
    for candidate in (name, name + '.gz'):
      path = os.path.join(directory, candidate)
      if os.path.isfile(path):
        return path
  return None


def numbered_lines(path: str) -> Iterator[tuple[int, str]]:
  """(1-based line number, stripped line) for every non-blank line; empty file -> error."""
  opener = gzip.open if path.endswith('.gz') else open
  seen = False
  with opener(path, 'rt', encoding='utf-8') as f:
    for number, line in enumerate(f, start=1):
      line = line.strip()
      if line:
        seen = True
        yield number, line
  if not seen:
    raise DataFormatError(path, 'file is empty')


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


def required(
    path: str, number: int, record: dict[str, Any], field: str, kind: type | tuple[type, ...]
) -> Any:
  """record[field], checked present and of `kind` (bool never counts as a number)."""
  if field not in record or record[field] is None:
    raise DataFormatError(path, 'missing required field', line=number, field=field)
  value = record[field]
  if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
    raise DataFormatError(
        path, f'expected {_kind_name(kind)}, got {type(value).__name__}', line=number, field=field
    )
  return value


def optional_str(record: dict[str, Any], field: str) -> str | None:
  value = record.get(field)
  return None if value is None else str(value)


def _kind_name(kind: type | tuple[type, ...]) -> str:
  kinds = kind if isinstance(kind, tuple) else (kind,)
  return ' or '.join(k.__name__ for k in kinds)
