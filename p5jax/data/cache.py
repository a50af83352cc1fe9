"""`demo_prepared_dir`: the demo prepared dataset, built once per cache directory."""

from __future__ import annotations

import os
import shutil
import tempfile

from p5jax.data.demo import DEMO_VERSION


def default_cache_dir() -> str:
  return os.environ.get('P5JAX_CACHE') or os.path.join(os.path.expanduser('~'), '.cache', 'p5jax')


def demo_cache_name(protocol: str = 'corrected') -> str:
  """The cache directory's name: versioned, so an older generator's data is never reused."""
  return f'demo-v{DEMO_VERSION}' + ('' if protocol == 'corrected' else f'_{protocol}')


def demo_prepared_dir(cache_dir: str | None = None, protocol: str = 'corrected') -> str:
  """Path of the prepared demo dataset under `cache_dir` (default `$P5JAX_CACHE` or
  `~/.cache/p5jax`), building it if absent: `<cache>/demo-v<DEMO_VERSION>`.

  Race-safe: it is built in a private temporary directory and renamed into place atomically;
  a process that loses the race discards its copy and uses the winner's."""
  from p5jax.data.pipeline import prepare

  root = cache_dir or default_cache_dir()
  name = demo_cache_name(protocol)
  target = os.path.join(root, name)
  if os.path.isfile(os.path.join(target, 'manifest.json')):
    return target
  os.makedirs(root, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=f'.{name}-', dir=root)
  try:
    prepare('demo', None, tmp, protocol=protocol)
    os.rename(tmp, target)
  except OSError:
    if not os.path.isfile(os.path.join(target, 'manifest.json')):
      raise
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  return target
