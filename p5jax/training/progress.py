"""Train metrics to TensorBoard (clu metric writers) and a console progress line."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import jax
from clu import metric_writers


class ProgressReporter:
  """Writes scalars under `log_dir` and prints `step/total, loss, steps/s, tokens/s, ETA`.

  Rates are measured between two reports, so compile time and eval pauses are excluded once
  `pause()`/`resume()` bracket them.
  """

  def __init__(self, log_dir: str, total_steps: int, start_step: int):
    self.writer = metric_writers.create_default_writer(
        log_dir, just_logging=jax.process_index() > 0, asynchronous=True
    )
    self.total_steps = total_steps
    self._last_step, self._last_time = start_step, None
    self._tokens = 0.0
    self._paused = 0.0
    self._pause_start = None

  def count_tokens(self, n: float) -> None:
    self._tokens += n

  def pause(self) -> None:
    self._pause_start = time.time()

  def resume(self) -> None:
    if self._pause_start is not None:
      self._paused += time.time() - self._pause_start
      self._pause_start = None

  def report(self, step: int, metrics: Mapping[str, float]) -> str:
    now = time.time()
    scalars = dict(metrics)
    line = f"step {step}/{self.total_steps}  loss {scalars.get('loss', float('nan')):.4f}"
    if self._last_time is not None and step > self._last_step:
      dt = max(now - self._last_time - self._paused, 1e-9)
      steps_per_s = (step - self._last_step) / dt
      tokens_per_s = self._tokens / dt
      eta = (self.total_steps - step) / max(steps_per_s, 1e-9)
      scalars.update(steps_per_sec=steps_per_s, target_tokens_per_sec=tokens_per_s)
      line += (
          f"  {steps_per_s:.2f} steps/s  {tokens_per_s:,.0f} tok/s  "
          f"ETA {time.strftime('%H:%M:%S', time.gmtime(eta))}"
      )
    if 'learning_rate' in scalars:
      line += f"  lr {scalars['learning_rate']:.2e}"
    self.writer.write_scalars(step, scalars)
    if jax.process_index() == 0:
      print(line, flush=True)
    logging.info(line)
    self._last_step, self._last_time, self._tokens, self._paused = step, now, 0.0, 0.0
    return line

  def close(self) -> None:
    self.writer.flush()
    self.writer.close()
