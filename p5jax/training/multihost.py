"""Work that process 0 does for every process (checking a checkpoint, creating MODEL_DIR)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from p5jax.errors import UserError


def on_process_zero(
    fn: Callable[[], Any], what: str, error_type: type[UserError] = UserError
) -> Any:
  """`fn()` on process 0 only; every process gets its truth value (its value on one process) or
  the `error_type` it raised, so all processes take the same branch afterwards."""
  result, error = None, None
  if jax.process_index() == 0:
    try:
      result = fn()
    except error_type as e:
      error = e
  if jax.process_count() > 1:
    ok = int(multihost_utils.broadcast_one_to_all(np.int32(error is None)))
    if not ok and error is None:
      raise error_type(f'{what}: failed on process 0 (see its log)')
    result = bool(multihost_utils.broadcast_one_to_all(np.int32(bool(result))))
  if error is not None:
    raise error
  return result
