"""SIGTERM (preemption) handling: note the signal, let the loop save and exit cleanly."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

import jax
import numpy as np
from jax.experimental import multihost_utils


class PreemptionFlag:
  """Set by SIGTERM; the train loop checks it after every step."""

  def __init__(self):
    self._event = threading.Event()

  def set(self, *_):
    logging.warning('SIGTERM received: saving a checkpoint and stopping after this step')
    self._event.set()

  def __bool__(self) -> bool:
    """True once any process got SIGTERM (all processes agree, so all save together)."""
    local = self._event.is_set()
    if jax.process_count() == 1:
      return local
    return bool(np.max(multihost_utils.process_allgather(np.int32(local))))


@contextlib.contextmanager
def sigterm_flag():
  """Install a SIGTERM handler for the duration (main thread only; elsewhere a no-op)."""
  flag = PreemptionFlag()
  if threading.current_thread() is not threading.main_thread():
    yield flag
    return
  previous = signal.signal(signal.SIGTERM, flag.set)
  try:
    yield flag
  finally:
    signal.signal(signal.SIGTERM, previous)
