"""Train metrics to TensorBoard (clu metric writers), a console progress line and the run's
`train/summary.json`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from clu import metric_writers

from p5jax import paths


def batch_examples(batch: Mapping[str, np.ndarray]) -> int:
  """Real examples in a model batch: packed segments, or rows with any target weight."""
  segments = batch.get('encoder_segment_ids')
  if segments is not None:
    return int(np.asarray(segments).max(axis=1).sum())
  return int((np.asarray(batch['decoder_loss_weights']).sum(axis=1) > 0).sum())


class ProgressReporter:
  """Writes scalars under `log_dir` and prints `step/total, loss, steps/s, tokens/s, ETA`.

  Rates are measured between two reports, so compile time and eval pauses are excluded once
  `pause()`/`resume()` bracket them.
  """

  def __init__(self, log_dir: str, total_steps: int, start_step: int):
    self.log_dir = log_dir
    self.start_step = start_step
    self.examples, self.target_tokens = 0, 0.0  # over the whole run, all processes
    self.writer = metric_writers.create_default_writer(
        log_dir, just_logging=jax.process_index() > 0, asynchronous=True
    )
    self.total_steps = total_steps
    self._last_step, self._last_time = start_step, None
    self._tokens = 0.0
    self._paused = 0.0
    self._pause_start = None

  def count_batch(self, batch: Mapping[str, np.ndarray], num_processes: int = 1) -> None:
    """Counts this process's batch (times `num_processes`, the hosts read equal shares)."""
    tokens = float(np.asarray(batch['decoder_loss_weights']).sum()) * num_processes
    self._tokens += tokens
    self.target_tokens += tokens
    self.examples += batch_examples(batch) * num_processes

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
      print(line, flush=True)  # the console line; other processes log it instead
    else:
      logging.info(line)
    self._last_step, self._last_time, self._tokens, self._paused = step, now, 0.0, 0.0
    return line

  def close(self, summary: Mapping[str, Any] | None = None) -> None:
    """Flushes the writer; process 0 writes `summary` plus the counted examples and target
    tokens of this run to `<log_dir>/summary.json`."""
    self.writer.flush()
    self.writer.close()
    if summary is not None and jax.process_index() == 0:
      record = {
          **summary,
          'start_step': self.start_step,
          'examples': self.examples,
          'target_tokens': self.target_tokens,
      }
      path = paths.join(self.log_dir, 'summary.json')
      paths.write_text_atomic(path, json.dumps(record, indent=1, sort_keys=True))
