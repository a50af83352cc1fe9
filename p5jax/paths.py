"""One path abstraction for every MODEL_DIR, PREPARED_DIR and output path: `etils.epath`.

orbax and TensorFlow (`tf.io.gfile`, which seqio, TensorBoard and SentencePiece loading use)
already read `gs://bucket/...` this way, so a run keeps everything in a bucket when its paths
say so: nothing here calls `os.makedirs`, `open` or `os.path.abspath` on a path that may be a
URI (that would create a local folder named `gs:`). Local paths are made absolute; `file://`
URIs become local paths.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from etils import epath

from p5jax.errors import UserError

PathLike = str | os.PathLike
_CHUNK = 1 << 22


def is_uri(path: PathLike) -> bool:
  """True for a remote URI (`gs://...`, `s3://...`); False for local paths and `file://`."""
  text = os.fspath(path)
  return '://' in text and not text.startswith('file://')


def path(value: PathLike) -> epath.Path:
  """`value` as an `epath.Path`: remote URIs as they are, local paths absolute."""
  if isinstance(value, epath.Path) and is_uri(value):
    return value
  text = os.fspath(value)
  if text.startswith('file://'):
    text = text[len('file://') :]
  if is_uri(text):
    try:
      return epath.Path(text)
    except (KeyError, NotImplementedError):
      scheme = text.split('://', 1)[0]
      raise UserError(
          f'{text}: unsupported path scheme {scheme}:// (use a local path, file://, gs:// or s3://)'
      ) from None
  return epath.Path(os.path.abspath(os.path.expanduser(text)))


def as_str(value: PathLike) -> str:
  """The normalised path as a string, for libraries that take strings (orbax, clu, seqio)."""
  return os.fspath(path(value))


def join(base: PathLike, *parts: str) -> str:
  """`base/part/...` as a string (URIs kept)."""
  return os.fspath(path(base).joinpath(*parts))


def ensure_dir(value: PathLike, what: str) -> epath.Path:
  """Creates the directory `value` (with parents). A `UserError` naming `what` (e.g.
  'MODEL_DIR') when it, or a parent, is a file."""
  directory = path(value)
  if directory.exists() and not directory.is_dir():
    raise UserError(f'{what} {directory} is a file, not a directory: give a directory path')
  try:
    directory.mkdir(parents=True, exist_ok=True)
  except (FileExistsError, NotADirectoryError):
    raise UserError(
        f'{what} {directory} cannot be created: a parent path is a file; give a directory path'
    ) from None
  except PermissionError:
    raise UserError(f'{what} {directory} cannot be created: permission denied') from None
  return directory


def output_file(value: PathLike, what: str) -> epath.Path:
  """The path of a file about to be written: its directory exists; `value` is not a directory."""
  file = path(value)
  if file.is_dir():
    raise UserError(f'{what} {file} is a directory: remove it or choose another output path')
  ensure_dir(file.parent, f'the directory of {what}')
  return file


def read_bytes(value: PathLike) -> bytes:
  return path(value).read_bytes()


def write_bytes_atomic(value: PathLike, data: bytes) -> None:
  """Writes `data` so readers never see a partial file: locally a temporary sibling renamed
  into place; on object stores (gs://, s3://) the object appears only once fully uploaded."""
  target = path(value)
  ensure_dir(target.parent, f'the directory of {target.name}')
  if is_uri(target):
    target.write_bytes(data)
    return
  fd, tmp = tempfile.mkstemp(dir=os.fspath(target.parent), prefix=f'.{target.name}.', suffix='.tmp')
  try:
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
    os.replace(tmp, os.fspath(target))
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def write_text_atomic(value: PathLike, text: str) -> None:
  write_bytes_atomic(value, text.encode('utf-8'))


def sha256_bytes(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def sha256_file(value: PathLike) -> str:
  """The hex sha256 of a file's content, read in chunks."""
  digest = hashlib.sha256()
  with path(value).open('rb') as f:
    while chunk := f.read(_CHUNK):
      digest.update(chunk)
  return digest.hexdigest()
