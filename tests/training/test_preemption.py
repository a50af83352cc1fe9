"""The preemption watcher: one process reads its SIGTERM flag every step, for free."""

import os
import signal

from p5jax.training import preemption


def test_sigterm_sets_the_flag_and_the_handler_is_restored():
  before = signal.getsignal(signal.SIGTERM)
  with preemption.preemption_watcher(check_every=10) as watcher:
    assert not watcher(1) and not watcher.received
    os.kill(os.getpid(), signal.SIGTERM)
    assert watcher(3) and watcher.received  # seen at the next step, not only every 10
  assert signal.getsignal(signal.SIGTERM) is before


def test_cross_process_check_runs_every_n_steps_only(monkeypatch):
  gathers = []
  monkeypatch.setattr(preemption.jax, 'process_count', lambda: 2)
  monkeypatch.setattr(
      preemption.multihost_utils,
      'process_allgather',
      lambda x: gathers.append(int(x)) or [int(x), 0],
  )
  watcher = preemption.PreemptionWatcher(check_every=4)
  assert [watcher(s) for s in range(1, 9)] == [False] * 8 and len(gathers) == 2
  watcher.notice()
  assert not watcher(9) and watcher(12) and gathers[-1] == 1
