"""Checkpoint integrity: `checkpoint_<step>/p5jax-checksums.json` holds the sha256 of every file
of a checkpoint, written by process 0 before orbax commits the directory and checked before any
restore (see `p5jax.training.checkpoints`)."""

from __future__ import annotations

import json

from etils import epath

from p5jax import paths
from p5jax.errors import UserError

CHECKSUMS = 'p5jax-checksums.json'
_ORBAX_STEP_METADATA = '_CHECKPOINT_METADATA'  # orbax updates it at commit: not checksummed


class CheckpointError(UserError, RuntimeError):
  """A checkpoint could not be used; the message names its path."""


class DamagedCheckpointError(CheckpointError):
  """A checkpoint's files fail their checksums or cannot be read (an earlier one may do)."""


def write_checksums(step_dir: str | epath.Path) -> None:
  """Writes `step_dir/p5jax-checksums.json`: the sha256 of every file under `step_dir` but
  orbax's step metadata (which orbax rewrites when it commits)."""
  root = paths.path(step_dir)
  files = {}
  for directory, _, names in root.walk():
    for name in names:
      file = directory / name
      rel = str(file.relative_to(root))
      if rel not in (CHECKSUMS, _ORBAX_STEP_METADATA):
        files[rel] = paths.sha256_file(file)
  text = json.dumps({'format': 1, 'files': dict(sorted(files.items()))}, indent=1)
  paths.write_text_atomic(root / CHECKSUMS, text + '\n')


def verify_checksums(step_dir: str | epath.Path) -> bool:
  """True when every file listed in `step_dir`'s checksums matches; False when the checkpoint
  has no checksums (unverified); a `CheckpointError` naming the first file that differs."""
  root = paths.path(step_dir)
  sums = root / CHECKSUMS
  if not sums.exists():
    return False
  try:
    listed = json.loads(sums.read_bytes())['files']
  except (ValueError, KeyError, TypeError):
    raise DamagedCheckpointError(
        f'checkpoint {root} is damaged: {CHECKSUMS} is unreadable'
    ) from None
  for rel, digest in listed.items():
    file = root / rel
    if not file.exists():
      raise DamagedCheckpointError(f'checkpoint {root} is damaged: {rel} is missing')
    if paths.sha256_file(file) != digest:
      raise DamagedCheckpointError(
          f'checkpoint {root} is damaged: {rel} differs from the checksum written when it was '
          'saved'
      )
  return True
