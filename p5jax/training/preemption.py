"""Preemption (SIGTERM): every process learns of it at the same step, saves and stops.

One process: a SIGTERM handler sets a flag the loop reads after every step (no collective).
Several processes with JAX's preemption service (on by default under `jax.distributed`): JAX's
own SIGTERM notifier propagates the notice and `reached_preemption_sync_point(step)` answers
True on every process at the same step; no Python handler is installed, since it would replace
JAX's. Several processes without it: the local flags are combined by an all-gather only every
`check_every` steps, not every step.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

import jax
import numpy as np
from jax.experimental import multihost_utils

DEFAULT_CHECK_EVERY = 10


def _jax_preemption_service() -> bool:
  """True when `jax.distributed` runs JAX's preemption sync manager."""
  try:
    from jax._src import distributed
  except ImportError:  # pragma: no cover - layout of a future jax
    return False
  state = distributed.global_state
  return state.client is not None and state.preemption_sync_manager is not None


class PreemptionWatcher:
  """`watcher(step)`: True on every process at the same step once any got a preemption
  notice; `received` says whether this process got SIGTERM itself."""

  def __init__(self, check_every: int = DEFAULT_CHECK_EVERY, use_jax_service: bool = False):
    self._event = threading.Event()
    self.check_every = max(1, int(check_every))
    self.use_jax_service = use_jax_service

  def notice(self, *_) -> None:
    logging.warning('SIGTERM received: saving a checkpoint and stopping')
    self._event.set()

  @property
  def received(self) -> bool:
    return self._event.is_set()

  def __call__(self, step: int) -> bool:
    if jax.process_count() == 1:
      return self._event.is_set()
    if self.use_jax_service:
      return bool(multihost_utils.reached_preemption_sync_point(step))
    if step % self.check_every:
      return False
    return bool(np.max(multihost_utils.process_allgather(np.int32(self._event.is_set()))))


@contextlib.contextmanager
def preemption_watcher(check_every: int = DEFAULT_CHECK_EVERY) -> Iterator[PreemptionWatcher]:
  """A `PreemptionWatcher` with the SIGTERM handler it needs installed for the duration (main
  thread only; elsewhere the watcher only sees JAX's service, if any)."""
  use_service = jax.process_count() > 1 and _jax_preemption_service()
  watcher = PreemptionWatcher(check_every, use_jax_service=use_service)
  if use_service or threading.current_thread() is not threading.main_thread():
    yield watcher
    return
  previous = signal.signal(signal.SIGTERM, watcher.notice)
  try:
    yield watcher
  finally:
    signal.signal(signal.SIGTERM, previous)
