"""Keep freed host memory for reuse, so XLA:CPU's per-step buffers are not page-faulted anew.

XLA:CPU allocates each execution's temporary buffer (hundreds of MB for a training step) with
`posix_memalign` from a worker thread. glibc serves a block that large from a fresh `mmap` in a
thread's arena and unmaps it on free, so every step faults in every page again: on a 2-core
machine the kernel's page zeroing took as long as the step's own compute (bench/RESULTS.md §7).
`tune()` sets glibc to keep one arena, never `mmap` large blocks and not trim freed memory, so
the next step reuses the same pages. The process keeps its peak heap. The one arena is needed:
a worker thread's own arena maps any block over 64 MB afresh.

It has to run before any thread allocates (glibc fixes the arena limit then): the `p5jax`
console scripts call it first, through `p5jax.launch`; a script or notebook calls it before
importing jax. `P5JAX_HOST_ALLOCATOR` chooses:

- `auto` (default): tune when the host has no accelerator device files (`/dev/nvidia*`,
  `/dev/accel*`, `/dev/vfio`) and `JAX_PLATFORMS` is unset or `cpu`; on accelerator hosts the
  device allocator owns the big buffers and a single arena would only serialise input threads;
- `tuned`: always; `default`: never.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform

ENV = 'P5JAX_HOST_ALLOCATOR'
CHOICES = ('auto', 'tuned', 'default')
# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_NEVER_TRIM = -1  # mallopt(3): -1 disables trimming
_ACCELERATOR_FILES = ('/dev/nvidia[0-9]*', '/dev/accel*', '/dev/vfio/[0-9]*')

_state = {'tuned': False}


def _accelerator_host() -> bool:
  platforms = os.environ.get('JAX_PLATFORMS', '').strip().lower()
  if platforms and platforms != 'cpu':
    return True
  return any(glob.glob(pattern) for pattern in _ACCELERATOR_FILES)


def tune(choice: str | None = None) -> bool:
  """Apply the setting chosen by `choice` (default: `$P5JAX_HOST_ALLOCATOR`, else 'auto');
  True when glibc is now tuned. A no-op off glibc (macOS, musl)."""
  choice = (choice or os.environ.get(ENV) or 'auto').strip().lower()
  if choice not in CHOICES:
    raise ValueError(f'{ENV} must be one of {CHOICES}, got {choice!r}')
  if _state['tuned'] or choice == 'default' or platform.libc_ver()[0] != 'glibc':
    return _state['tuned']
  if choice == 'auto' and _accelerator_host():
    return False
  mallopt = ctypes.CDLL(None).mallopt
  settings = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _NEVER_TRIM))
  _state['tuned'] = all(mallopt(param, value) == 1 for param, value in settings)
  return _state['tuned']


def tuned() -> bool:
  """Whether `tune()` has tuned this process."""
  return _state['tuned']


def describe() -> str:
  """One line for benchmark and run logs."""
  if _state['tuned']:
    return 'host allocator: tuned (glibc: one arena, no mmap for large blocks, no trim)'
  return f'host allocator: glibc default ({ENV}={os.environ.get(ENV, "auto")})'
