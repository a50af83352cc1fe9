"""One trainer per MODEL_DIR: a live owner refuses a second trainer; stale locks are taken."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from p5jax.training import run_lock


def _owner(tmp_path, **fields):
  info = {
      'host': socket.gethostname(),
      'pid': os.getppid(),  # alive
      'started': 'earlier',
      'heartbeat': time.time(),
      'token': 'other',
      **fields,
  }
  (tmp_path / run_lock.LOCK_NAME).write_text(json.dumps(info))
  return info


def test_a_live_owner_refuses_a_second_trainer_by_name(tmp_path):
  _owner(tmp_path)
  with pytest.raises(run_lock.RunLockedError) as err:
    run_lock.RunLock(str(tmp_path)).acquire()
  message = str(err.value)
  assert f'pid {os.getppid()}' in message and socket.gethostname() in message
  assert str(tmp_path / run_lock.LOCK_NAME) in message


def test_stale_locks_are_taken_over_with_a_warning(tmp_path, caplog):
  dead = subprocess.Popen([sys.executable, '-c', 'pass'])
  dead.wait()
  for stale in (
      {'pid': dead.pid},  # its process on this host is gone
      {'host': 'elsewhere', 'heartbeat': time.time() - run_lock.STALE_AFTER_S - 1},
      {'pid': os.getpid()},  # this very process: a restarted container reusing the pid
  ):
    _owner(tmp_path, **stale)
    lock = run_lock.RunLock(str(tmp_path))
    lock.acquire()
    assert json.loads((tmp_path / run_lock.LOCK_NAME).read_text())['pid'] == os.getpid()
    lock.release()
    assert not (tmp_path / run_lock.LOCK_NAME).exists()
  assert caplog.text.count('taking over the stale lock') == 3


def test_heartbeat_refreshes_and_a_fresh_remote_owner_is_live(tmp_path, monkeypatch):
  monkeypatch.setattr(run_lock, 'HEARTBEAT_S', 0.05)
  lock = run_lock.RunLock(str(tmp_path))
  lock.acquire()
  first = json.loads((tmp_path / run_lock.LOCK_NAME).read_text())['heartbeat']
  time.sleep(0.5)
  assert json.loads((tmp_path / run_lock.LOCK_NAME).read_text())['heartbeat'] > first
  lock.release()
  _owner(tmp_path, host='elsewhere', pid=1)
  with pytest.raises(run_lock.RunLockedError):
    run_lock.RunLock(str(tmp_path)).acquire()
