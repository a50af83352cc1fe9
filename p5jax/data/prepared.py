"""The prepared-dataset directory (docs/CONTRACTS.md §3): writer and `PreparedDataset.load`.

Every file is written deterministically (fixed key order, sorted ids), so preparing the same
input twice gives byte-identical directories.

Trust: `manifest.json` is written last and lists every file of the dataset with the sha256 of
its content (`files`: `{"users.jsonl": "<hex>", "indexes/sid.json": "<hex>", ...}`).
`PreparedDataset.load` refuses a directory where a listed file is missing or differs, or where
a file is not listed (left by another preparation, or copied in), and names that file. Item
indexes added later (`p5jax.indexing.build`) are recorded the same way (`record_index`), and
loaded only through `load_item_index`, which checks them against the manifest. Not covered:
`vocab/`, a cache the first training run writes (`p5jax.vocab`); each cached model is keyed by
the sha256 of the index it was built from and carries its own sha256 in `vocab/<scheme>.json`.
Hidden files (names starting with `.`, e.g. the temporary files of an interrupted write) are
ignored. Paths may be local or `gs://...` (`p5jax.paths`).

`building(out_dir)` gives `prepare` a temporary sibling directory that is renamed onto
`out_dir` only when complete, so a failure midway leaves no directory that loads.

SeqIO exposure: tasks read a prepared directory through `PreparedDataset` and wrap it in a
`seqio.FunctionDataSource` (built in `tasks/`), not a TFDS builder: the records are small,
the tasks need random access (histories, negatives, item metadata) rather than a fixed
example stream, and no TFDS download/manual_dir machinery is needed for the demo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from etils import epath

from p5jax import paths
from p5jax.data.errors import DataFormatError
from p5jax.errors import UserError

FORMAT_VERSION = 2  # 2: the manifest lists every file with its sha256
MANIFEST = 'manifest.json'
CACHE_DIRS = ('vocab',)  # written lazily by training runs, outside the manifest


def _dump(record: Any) -> str:
  return json.dumps(record, ensure_ascii=False, separators=(', ', ': '))


def write_jsonl(path: paths.PathLike, records: Iterable[dict[str, Any]]) -> None:
  with paths.path(path).open('w', encoding='utf-8') as f:
    for record in records:
      f.write(_dump(record) + '\n')


def parse_jsonl(path: paths.PathLike, data: bytes) -> list[dict[str, Any]]:
  """The records of a JSON-lines file's bytes; errors name the file and line."""
  out = []
  for number, line in enumerate(data.split(b'\n'), start=1):
    if not line.strip():
      continue
    try:
      out.append(json.loads(line))
    except json.JSONDecodeError as e:
      raise DataFormatError(path, f'malformed JSON ({e.msg})', line=number) from None
    except UnicodeDecodeError:
      raise DataFormatError(path, 'not UTF-8', line=number) from None
  return out


def read_jsonl(path: paths.PathLike) -> list[dict[str, Any]]:
  return parse_jsonl(path, paths.read_bytes(path))


def write_manifest(path: paths.PathLike, manifest: dict[str, Any]) -> None:
  """Writes `manifest` atomically (readers see the old or the new one, never a part)."""
  text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + '\n'
  paths.write_text_atomic(path, text)


def read_manifest(prepared_dir: paths.PathLike) -> dict[str, Any]:
  """The manifest of `prepared_dir`; a `UserError` saying how to make one when it is absent."""
  root = paths.path(prepared_dir)
  if not root.exists():
    raise UserError(
        f'prepared dataset {root} does not exist: create it with '
        f'p5jax-prepare --dataset=... --out_dir={root} (or fix PREPARED_DIR)'
    )
  if not root.is_dir():
    raise UserError(f'prepared dataset {root} is a file, not a directory (fix PREPARED_DIR)')
  path = root / MANIFEST
  if not path.exists():
    raise DataFormatError(
        path, f'not a prepared dataset (no {MANIFEST}); run p5jax-prepare --out_dir={root}'
    )
  try:
    manifest = json.loads(path.read_bytes())
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise DataFormatError(path, f'malformed JSON ({e}); prepare the data again') from None
  version = manifest.get('format_version') if isinstance(manifest, dict) else None
  if version != FORMAT_VERSION:
    raise DataFormatError(
        path,
        f'format_version {version} is not supported '
        f'(this p5jax reads {FORMAT_VERSION}); prepare the data again '
        '(p5jax-prepare ... --overwrite)',
        field='format_version',
    )
  return manifest


def content_files(prepared_dir: paths.PathLike) -> list[str]:
  """Relative paths of the files a manifest must list: all but the manifest, hidden files and
  the cache directories."""
  root = paths.path(prepared_dir)
  found = []
  for directory, subdirs, files in root.walk():
    relative = directory.relative_to(root)
    top = relative.parts[0] if relative.parts else None
    if top in CACHE_DIRS or any(p.startswith('.') for p in relative.parts):
      subdirs[:] = []
      continue
    for name in files:
      rel = str(relative / name) if relative.parts else name
      if not name.startswith('.') and rel != MANIFEST:
        found.append(rel)
  return sorted(found)


def seal(prepared_dir: paths.PathLike, manifest: dict[str, Any]) -> dict[str, Any]:
  """Records the sha256 of every content file in `manifest['files']` and writes the manifest
  (last, so a directory without it is not a dataset). Returns the manifest."""
  root = paths.path(prepared_dir)
  manifest['files'] = {rel: paths.sha256_file(root / rel) for rel in content_files(root)}
  write_manifest(root / MANIFEST, manifest)
  return manifest


def read_verified(prepared_dir: paths.PathLike, rel: str, manifest: dict[str, Any]) -> bytes:
  """The bytes of `prepared_dir/rel`, checked against the manifest's sha256 for it."""
  path = paths.path(prepared_dir) / rel
  expected = manifest.get('files', {}).get(rel)
  if expected is None:
    raise DataFormatError(
        path, f'not listed in {MANIFEST}: it does not belong to this prepared dataset'
    )
  if not path.exists():
    raise DataFormatError(
        path, f'missing, but listed in {MANIFEST}; prepare the data again (--overwrite)'
    )
  data = path.read_bytes()
  if paths.sha256_bytes(data) != expected:
    raise DataFormatError(
        path,
        f'content differs from the sha256 in {MANIFEST} (changed or damaged after it was '
        'prepared); prepare the data again (p5jax-prepare ... --overwrite)',
    )
  return data


def verify(prepared_dir: paths.PathLike, manifest: dict[str, Any]) -> dict[str, bytes]:
  """The bytes of every file the manifest lists, each checked against its sha256, after
  checking that every content file is listed. Errors name the file and what to do."""
  listed = manifest.get('files', {})
  for rel in content_files(prepared_dir):
    if rel not in listed:
      raise DataFormatError(
          paths.path(prepared_dir) / rel,
          f'not listed in {MANIFEST}: it does not belong to this prepared dataset (left by '
          'another preparation or copied in); remove it, or prepare again with --overwrite',
      )
  return {rel: read_verified(prepared_dir, rel, manifest) for rel in listed}


def index_file(scheme: str) -> str:
  return f'indexes/{scheme}.json'


def build_command(prepared_dir: paths.PathLike, scheme: str) -> str:
  return f'python -m p5jax.indexing.build --prepared_dir={prepared_dir} --scheme={scheme}'


def check_scheme_name(scheme: str) -> None:
  """A `UserError` when `scheme` is not a p5jax.indexing scheme (a base name or `a+b`)."""
  from p5jax.indexing.registry import BASE_SCHEMES, SCHEMES

  parts = scheme.split('+')
  if len(parts) > 2 or any(part not in BASE_SCHEMES for part in parts):
    raise UserError(
        f"unknown ID scheme {scheme!r}: use one of {', '.join(SCHEMES)} or any 'a+b' of "
        f"{', '.join(BASE_SCHEMES)}"
    )


def require_index(prepared_dir: paths.PathLike, scheme: str, manifest: dict[str, Any]) -> None:
  """A `UserError` with the command to run when `scheme` is unknown or was not built here."""
  check_scheme_name(scheme)
  if index_file(scheme) not in manifest.get('files', {}):
    raise UserError(
        f'ID scheme {scheme!r} was not built in the prepared dataset {prepared_dir}; build it '
        f'there with: {build_command(prepared_dir, scheme)} '
        f'(or prepare with p5jax-prepare ... --id_schemes=...,{scheme})'
    )


def load_item_index(prepared_dir: paths.PathLike, scheme: str) -> Any:
  """The `ItemIndex` of `scheme` built into `prepared_dir`, checked against the manifest; a
  `UserError` with the build command when it was not built (never built here in memory)."""
  from p5jax.indexing.item_index import ItemIndex

  manifest = read_manifest(prepared_dir)
  require_index(prepared_dir, scheme, manifest)
  rel = index_file(scheme)
  data = read_verified(prepared_dir, rel, manifest)
  try:
    obj = json.loads(data)
  except json.JSONDecodeError as e:
    raise DataFormatError(paths.path(prepared_dir) / rel, f'not valid JSON ({e})') from None
  return ItemIndex.from_json(obj, source=str(paths.path(prepared_dir) / rel))


def index_bytes(index: Any) -> bytes:
  """An `ItemIndex` as the JSON bytes `ItemIndex.save` writes."""
  return json.dumps(index.to_json(), ensure_ascii=False).encode('utf-8')


def record_index(prepared_dir: paths.PathLike, scheme: str, data: bytes) -> None:
  """Writes `indexes/<scheme>.json` and records it (sha256, `id_schemes`) in the manifest.
  The index is written first: an interrupted call leaves a file the manifest does not list,
  which `load` names, never an unlisted change to a listed file's content."""
  root = paths.path(prepared_dir)
  manifest_path = root / MANIFEST
  manifest = json.loads(manifest_path.read_bytes())
  paths.write_bytes_atomic(root / index_file(scheme), data)
  manifest.setdefault('files', {})[index_file(scheme)] = paths.sha256_bytes(data)
  schemes = list(manifest.get('id_schemes', []))
  if scheme not in schemes:
    manifest['id_schemes'] = schemes + [scheme]
  write_manifest(manifest_path, manifest)


@contextlib.contextmanager
def building(out_dir: paths.PathLike, overwrite: bool = False) -> Iterator[epath.Path]:
  """A new temporary sibling of `out_dir` to write a dataset into, renamed onto `out_dir` when
  the block completes and removed when it fails. A non-empty `out_dir` is refused unless
  `overwrite` (then it is replaced whole, only once the new dataset is complete)."""
  target = paths.path(out_dir)
  if target.exists():
    if not target.is_dir():
      raise UserError(f'--out_dir {target} is a file, not a directory')
    if not overwrite and any(True for _ in target.iterdir()):
      raise UserError(
          f'--out_dir {target} is not empty: give a new or empty directory, or pass '
          '--overwrite to replace it (only once the new dataset is complete)'
      )
  paths.ensure_dir(target.parent, f'the parent directory of --out_dir {target}')
  tag = uuid.uuid4().hex[:8]
  tmp = target.parent / f'.{target.name}.tmp-{tag}'
  tmp.mkdir()
  try:
    yield tmp
    if target.exists():
      old = target.parent / f'.{target.name}.old-{tag}'
      target.rename(old)
      tmp.rename(target)
      old.rmtree()
    else:
      tmp.rename(target)
  finally:
    if tmp.exists():
      tmp.rmtree()


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
    """Reads a prepared directory, checking every file against the manifest (see above)."""
    manifest = read_manifest(path)
    contents = verify(path, manifest)

    def rows(name: str) -> list[dict[str, Any]]:
      if name not in contents:
        raise DataFormatError(paths.path(path) / name, f'missing from {MANIFEST}')
      return parse_jsonl(paths.path(path) / name, contents[name])

    seq_records = rows('sequences.jsonl')
    return cls(
        path=str(path),
        manifest=manifest,
        users={r['user']: r for r in rows('users.jsonl')},
        items={r['item']: r for r in rows('items.jsonl')},
        sequences={r['user']: r['items'] for r in seq_records},
        times={r['user']: r['times'] for r in seq_records},
        reviews=rows('reviews.jsonl') if 'reviews.jsonl' in contents else [],
        negatives={
            r['user']: {'val': r['val'], 'test': r['test']} for r in rows('negatives.jsonl')
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
