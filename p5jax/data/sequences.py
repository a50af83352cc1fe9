"""Reader for plain sequence files (`sequential_data.txt`, the S3-Rec / P5 format).

One line per user: `user item item ...` in time order, integer ids. Times are the positions.
A `datamaps.json` next to the file (P5's `id2user` / `id2item`) supplies raw ids; without it
the numbers themselves are the raw ids. Reviews are absent: only the sequential and direct
families can be built from such a dataset.
"""

from __future__ import annotations

import collections
import json
import os

from p5jax.data.errors import DataFormatError
from p5jax.data.records import RawDataset, RawItem
from p5jax.data.textio import numbered_lines

MIN_INTERACTIONS = 3  # leave-one-out needs >= 1 train item besides validation and test


def parse_sequence_file(path: str) -> dict[int, tuple[int, list[int]]]:
  """user number -> (line number, item numbers); validates ids, duplicates and lengths."""
  out: dict[int, tuple[int, list[int]]] = {}
  for number, line in numbered_lines(path):
    fields = line.split()
    try:
      ids = [int(f) for f in fields]
    except ValueError:
      bad = next(f for f in fields if not f.lstrip('-').isdigit())
      raise DataFormatError(path, f'{bad!r} is not an integer id', line=number) from None
    if any(i < 1 for i in ids):
      raise DataFormatError(path, 'ids must be positive integers', line=number)
    user, items = ids[0], ids[1:]
    if user in out:
      raise DataFormatError(
          path,
          f'duplicate line for user {user} (first on line ' f'{out[user][0]})',
          line=number,
          field='user',
      )
    if len(items) < MIN_INTERACTIONS:
      raise DataFormatError(
          path,
          f'user {user} has {len(items)} interactions; leave-one-out '
          f'needs at least {MIN_INTERACTIONS}',
          line=number,
          field='items',
      )
    out[user] = (number, items)
  _check_contiguous(path, out)
  return out


def _check_contiguous(path: str, parsed: dict[int, tuple[int, list[int]]]) -> None:
  """Ids must be 1..N without gaps, so a number outside that range is an unknown id."""
  users = sorted(parsed)
  if users != list(range(1, len(users) + 1)):
    missing = next(u for u in range(1, len(users) + 1) if u not in parsed)
    raise DataFormatError(
        path, f'user ids must be 1..{len(users)} without gaps; ' f'user {missing} has no line'
    )
  items = {i for _, seq in parsed.values() for i in seq}
  for number, seq in sorted(parsed.values()):
    for i in seq:
      if i > len(items):
        raise DataFormatError(
            path,
            f'unknown item {i}: item ids must be 1..{len(items)} '
            f'without gaps ({len(items)} distinct items)',
            line=number,
            field='items',
        )


def read_datamaps(path: str) -> tuple[dict[str, str], dict[str, str]]:
  """(id2user, id2item) from P5's `datamaps.json`."""
  try:
    with open(path, encoding='utf-8') as f:
      maps = json.load(f)
  except json.JSONDecodeError as e:
    raise DataFormatError(path, f'malformed JSON ({e.msg})', line=e.lineno) from None
  for field in ('id2user', 'id2item'):
    if not isinstance(maps.get(field), dict):
      raise DataFormatError(path, 'missing or not an object', field=field)
  return maps['id2user'], maps['id2item']


def read_sequences(
    raw_dir: str, name: str = 'sequences', filename: str = 'sequential_data.txt'
) -> RawDataset:
  path = os.path.join(raw_dir, filename)
  if not os.path.isfile(path):
    raise DataFormatError(path, 'file not found')
  parsed = parse_sequence_file(path)
  report: collections.Counter = collections.Counter()
  maps_path = os.path.join(raw_dir, 'datamaps.json')
  if os.path.isfile(maps_path):
    id2user, id2item = read_datamaps(maps_path)
    for user, (number, items) in parsed.items():
      if str(user) not in id2user:
        raise DataFormatError(path, f'user {user} is not in {maps_path} id2user', line=number)
      unknown = [i for i in items if str(i) not in id2item]
      if unknown:
        raise DataFormatError(
            path,
            f'unknown item {unknown[0]} (not in {maps_path} id2item)',
            line=number,
            field='items',
        )
  else:
    id2user = id2item = None
    report["no datamaps.json (raw ids are the file's numbers)"] += 1
  user_raw = (lambda u: id2user[str(u)]) if id2user else str
  item_raw = (lambda i: id2item[str(i)]) if id2item else str
  users, sequences, items = {}, {}, {}
  user_numbers, item_numbers = {}, {}
  for user, (_, seq) in parsed.items():
    raw_user = user_raw(user)
    users[raw_user] = raw_user
    user_numbers[raw_user] = user
    sequences[raw_user] = [(item_raw(i), t) for t, i in enumerate(seq)]
    for i in seq:
      raw_item = item_raw(i)
      if raw_item not in items:
        items[raw_item] = RawItem()
        item_numbers[raw_item] = i
  return RawDataset(
      name,
      path,
      users,
      items,
      sequences,
      user_numbers=user_numbers,
      item_numbers=item_numbers,
      report=report,
  )
