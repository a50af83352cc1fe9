"""One trainer per MODEL_DIR: `MODEL_DIR/p5jax-train.lock`.

The lock file holds the owner's host, pid, start time and a heartbeat time that a background
thread refreshes every `HEARTBEAT_S` seconds. A second trainer on the same MODEL_DIR refuses to
start, naming the owner. A lock is stale, and is taken over with a warning, when its owner is on
this host and its pid is no longer running (or is this very process: a restarted container),
or when its heartbeat is older than `STALE_AFTER_S` (an owner on a host that is gone). Locally
the file is created exclusively; on object stores (gs://) exclusivity is best effort: the file
is written, then read back.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from p5jax import paths
from p5jax.errors import UserError

LOCK_NAME = 'p5jax-train.lock'
HEARTBEAT_S = 60.0
STALE_AFTER_S = 600.0


class RunLockedError(UserError):
  """MODEL_DIR is held by another live trainer."""


def _pid_running(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # exists, owned by another user
    return True
  return True


def stale_reason(owner: dict[str, Any], now: float | None = None) -> str | None:
  """Why the lock `owner` wrote is stale, or None when its owner may still run."""
  now = time.time() if now is None else now
  if owner.get('host') == socket.gethostname():
    pid = int(owner.get('pid', -1))
    if pid == os.getpid():
      return f'its pid {pid} is this process (restarted)'
    if not _pid_running(pid):
      return f'its process {pid} on this host is not running'
  age = now - float(owner.get('heartbeat', 0.0))
  if age > STALE_AFTER_S:
    return f'its last heartbeat is {age:.0f}s old (more than {STALE_AFTER_S:.0f}s)'
  return None


class RunLock:
  """`acquire()` / `release()` the trainer lock of `model_dir` (use on process 0 only)."""

  def __init__(self, model_dir: str):
    self.path = paths.path(model_dir) / LOCK_NAME
    self._token = uuid.uuid4().hex
    self._stop = threading.Event()
    self._thread: threading.Thread | None = None
    self._info = {
        'host': socket.gethostname(),
        'pid': os.getpid(),
        'started': time.strftime('%Y-%m-%d %H:%M:%S %Z'),
        'token': self._token,
    }

  def _read(self) -> dict[str, Any] | None:
    try:
      return json.loads(self.path.read_bytes())
    except FileNotFoundError:
      return None
    except ValueError:  # a torn write: treat as stale
      return {}

  def _write(self, exclusive: bool) -> bool:
    text = json.dumps({**self._info, 'heartbeat': time.time()}, indent=1)
    if not exclusive:
      paths.write_text_atomic(self.path, text)
      return True
    if paths.is_uri(self.path):
      self.path.write_text(text)
      time.sleep(0.5)
      return (self._read() or {}).get('token') == self._token
    try:
      fd = os.open(os.fspath(self.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
      return False
    with os.fdopen(fd, 'w') as f:
      f.write(text)
    return True

  def _refuse(self, owner: dict[str, Any]) -> RunLockedError:
    age = time.time() - float(owner.get('heartbeat', 0.0))
    return RunLockedError(
        f'MODEL_DIR {self.path.parent} is in use by another trainer (host '
        f"{owner.get('host')}, pid {owner.get('pid')}, started {owner.get('started')}, last "
        f'heartbeat {age:.0f}s ago): wait for it to finish or use another MODEL_DIR; if that '
        f'run is gone, delete {self.path}'
    )

  def acquire(self) -> None:
    """Takes the lock (taking over a stale one with a warning) and starts the heartbeat; a
    `RunLockedError` naming the owner when another live trainer holds it."""
    for _ in range(3):
      owner = self._read()
      if owner is not None:
        reason = stale_reason(owner) if owner else 'it is unreadable'
        if reason is None:
          raise self._refuse(owner)
        logging.warning(
            'taking over the stale lock %s of host %s, pid %s: %s',
            self.path,
            owner.get('host'),
            owner.get('pid'),
            reason,
        )
        self.path.unlink(missing_ok=True)
      if self._write(exclusive=True):
        break
    else:
      raise self._refuse(self._read() or {})
    self._thread = threading.Thread(target=self._beat, name='p5jax-lock-heartbeat', daemon=True)
    self._thread.start()

  def _beat(self) -> None:
    while not self._stop.wait(HEARTBEAT_S):
      owner = self._read()
      if owner is None or owner.get('token') != self._token:
        logging.error('the trainer lock %s was taken by another process: %s', self.path, owner)
        return
      try:
        self._write(exclusive=False)
      except OSError as e:  # a transient storage error must not stop training
        logging.warning('could not refresh the trainer lock %s: %s', self.path, e)

  def release(self) -> None:
    """Stops the heartbeat and removes the lock if it is still ours."""
    self._stop.set()
    if self._thread is not None:
      self._thread.join()
    if (self._read() or {}).get('token') == self._token:
      self.path.unlink(missing_ok=True)
