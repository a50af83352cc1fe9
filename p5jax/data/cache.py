"""`demo_prepared_dir`: the demo prepared dataset, built once per cache directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence

from p5jax.data.demo import DEMO_VERSION
from p5jax.data.prepared import FORMAT_VERSION


def default_cache_dir() -> str:
  return os.environ.get('P5JAX_CACHE') or os.path.join(os.path.expanduser('~'), '.cache', 'p5jax')


def demo_cache_name(protocol: str = 'corrected') -> str:
  """The cache directory's name: versioned (generator and directory format), so data of an
  older generator or format is never reused."""
  return f'demo-v{DEMO_VERSION}-f{FORMAT_VERSION}' + (
      '' if protocol == 'corrected' else f'_{protocol}'
  )


def demo_prepared_dir(
    cache_dir: str | None = None, protocol: str = 'corrected', id_schemes: Sequence[str] = ()
) -> str:
  """Path of the prepared demo dataset under `cache_dir` (default `$P5JAX_CACHE` or
  `~/.cache/p5jax`), building it if absent: `<cache>/demo-v<DEMO_VERSION>`, with the item
  indexes of `id_schemes` (added to an existing cache that lacks them).

  Race-safe: it is built in a private temporary directory and renamed into place atomically;
  a process that loses the race discards its copy and uses the winner's."""
  from p5jax.data.pipeline import prepare

  root = cache_dir or default_cache_dir()
  name = demo_cache_name(protocol)
  target = os.path.join(root, name)
  if os.path.isfile(os.path.join(target, 'manifest.json')):
    _add_missing_schemes(target, id_schemes)
    return target
  os.makedirs(root, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=f'.{name}-', dir=root)
  try:
    prepare('demo', None, tmp, protocol=protocol, id_schemes=tuple(id_schemes))
    os.rename(tmp, target)
  except OSError:
    if not os.path.isfile(os.path.join(target, 'manifest.json')):
      raise
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  _add_missing_schemes(target, id_schemes)  # the race's winner may have built other schemes
  return target


def _add_missing_schemes(prepared_dir: str, id_schemes: Sequence[str]) -> None:
  """Builds into the demo cache (p5jax's own directory) the schemes it lacks."""
  from p5jax.data.prepared import PreparedDataset, read_manifest
  from p5jax.indexing.build import add_scheme

  missing = [s for s in id_schemes if s not in read_manifest(prepared_dir).get('id_schemes', [])]
  if missing:
    dataset = PreparedDataset.load(prepared_dir)
    for scheme in missing:
      add_scheme(prepared_dir, scheme, dataset)
