"""A sequence file (e.g. ../shared/data/beauty) prepared once into the p5jax cache, for benchmarks.

``prepared_dir(raw_dir)`` returns ``<cache>/bench-<name>-<protocol>`` (cache: ``$P5JAX_CACHE`` or
``~/.cache/p5jax``), preparing ``raw_dir``'s ``sequential_data.txt`` with ``--dataset=sequences``
into a private temporary directory renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_RAW_DIR = os.path.join(REPO, '..', 'shared', 'data', 'beauty')


def prepared_dir(raw_dir: str = DEFAULT_RAW_DIR, protocol: str = 'corrected') -> str:
  from p5jax.data import prepare
  from p5jax.data.cache import default_cache_dir

  raw_dir = os.path.normpath(raw_dir)
  if not os.path.isfile(os.path.join(raw_dir, 'sequential_data.txt')):
    raise SystemExit(f'{raw_dir}: no sequential_data.txt (pass --prepared_dir or --raw_dir)')
  root = default_cache_dir()
  target = os.path.join(root, f'bench-{os.path.basename(raw_dir)}-{protocol}')
  if os.path.isfile(os.path.join(target, 'manifest.json')):
    return target
  os.makedirs(root, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix='.bench-', dir=root)
  try:
    prepare('sequences', raw_dir, os.path.join(tmp, 'data'), protocol=protocol)
    os.rename(os.path.join(tmp, 'data'), target)
  except OSError:
    if not os.path.isfile(os.path.join(target, 'manifest.json')):
      raise
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  return target
