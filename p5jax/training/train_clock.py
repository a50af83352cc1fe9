"""The training loop's wall clock: evaluations excluded, an optional budget agreed by every
process (`train(max_train_minutes=...)`)."""

from __future__ import annotations

import time

import jax
import numpy as np
from jax.experimental import multihost_utils


class TrainClock:
  """Training wall time (evaluations excluded) against an optional budget. Several processes
  agree on running out (process 0's clock decides, every `agree_every` steps)."""

  def __init__(self, budget_seconds: float | None, agree_every: int):
    self.budget, self.agree_every = budget_seconds, max(1, agree_every)
    self._start, self._paused, self._pause_start = time.monotonic(), 0.0, None

  def pause(self) -> None:
    self._pause_start = time.monotonic()

  def resume(self) -> None:
    self._paused += time.monotonic() - self._pause_start

  def elapsed(self) -> float:
    return time.monotonic() - self._start - self._paused

  def out_of_time(self, step: int) -> bool:
    if self.budget is None:
      return False
    if jax.process_count() == 1:
      return self.elapsed() >= self.budget
    if step % self.agree_every:
      return False
    mine = np.asarray(self.elapsed() >= self.budget)
    return bool(multihost_utils.broadcast_one_to_all(mine))
