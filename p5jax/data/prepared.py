"""The prepared-dataset directory (docs/CONTRACTS.md §3): writer and `PreparedDataset.load`.

Every file is written deterministically (fixed key order, sorted ids), so preparing the same
input twice gives byte-identical directories.

SeqIO exposure: tasks read a prepared directory through `PreparedDataset` and wrap it in a
`seqio.FunctionDataSource` (built in `tasks/`), not a TFDS builder: the records are small,
the tasks need random access (histories, negatives, item metadata) rather than a fixed
example stream, and no TFDS download/manual_dir machinery is needed for the demo.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from typing import Any

from p5jax.data.errors import DataFormatError

FORMAT_VERSION = 1


def _dump(record: Any) -> str:
  return json.dumps(record, ensure_ascii=False, separators=(', ', ': '))


def write_jsonl(path: str, records: Iterable[dict[str, Any]]) -> None:
  with open(path, 'w', encoding='utf-8') as f:
    for record in records:
      f.write(_dump(record) + '\n')


def read_jsonl(path: str) -> list[dict[str, Any]]:
  out = []
  with open(path, encoding='utf-8') as f:
    for number, line in enumerate(f, start=1):
      try:
        out.append(json.loads(line))
      except json.JSONDecodeError as e:
        raise DataFormatError(path, f'malformed JSON ({e.msg})', line=number) from None
  return out


def write_manifest(path: str, manifest: dict[str, Any]) -> None:
  with open(path, 'w', encoding='utf-8') as f:
    json.dump(manifest, f, ensure_ascii=False, indent=2, sort_keys=True)
    f.write('\n')


@dataclasses.dataclass
class PreparedDataset:
  """A prepared directory in memory. Ids are ints 1..U / 1..I; see CONTRACTS §3."""

  path: str
  manifest: dict[str, Any]
  users: dict[int, dict[str, Any]]
  items: dict[int, dict[str, Any]]
  sequences: dict[int, list[int]]
  times: dict[int, list[int]]
  reviews: list[dict[str, Any]]
  negatives: dict[int, dict[str, list[int]]]

  @classmethod
  def load(cls, path: str) -> PreparedDataset:
    manifest_path = os.path.join(path, 'manifest.json')
    if not os.path.isfile(manifest_path):
      raise DataFormatError(manifest_path, 'not a prepared dataset (no manifest.json)')
    with open(manifest_path, encoding='utf-8') as f:
      manifest = json.load(f)
    version = manifest.get('format_version')
    if version != FORMAT_VERSION:
      raise DataFormatError(
          manifest_path,
          f'format_version {version} is not supported '
          f'(this p5jax reads {FORMAT_VERSION}); prepare the data again',
          field='format_version',
      )

    def join(name: str) -> str:
      return os.path.join(path, name)

    seq_records = read_jsonl(join('sequences.jsonl'))
    reviews_path = join('reviews.jsonl')
    return cls(
        path=path,
        manifest=manifest,
        users={r['user']: r for r in read_jsonl(join('users.jsonl'))},
        items={r['item']: r for r in read_jsonl(join('items.jsonl'))},
        sequences={r['user']: r['items'] for r in seq_records},
        times={r['user']: r['times'] for r in seq_records},
        reviews=read_jsonl(reviews_path) if os.path.isfile(reviews_path) else [],
        negatives={
            r['user']: {'val': r['val'], 'test': r['test']}
            for r in read_jsonl(join('negatives.jsonl'))
        },
    )

  def train_sequence(self, user: int) -> list[int]:
    """The leave-one-out training part: every item but the last two."""
    return self.sequences[user][:-2]

  def val_item(self, user: int) -> int:
    return self.sequences[user][-2]

  def test_item(self, user: int) -> int:
    return self.sequences[user][-1]

  def reviews_in(self, split: str) -> list[dict[str, Any]]:
    if split not in ('train', 'val', 'test'):
      raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    return [r for r in self.reviews if r['split'] == split]
