"""The train state pytree: step, params and optimizer state (no boxes, no functions)."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class TrainState:
  step: jax.Array  # int32 scalar: number of optimizer updates applied
  params: Any
  opt_state: Any

  @classmethod
  def create(cls, params: Any, tx) -> TrainState:
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params))

  def to_dict(self) -> dict[str, Any]:
    return {'step': self.step, 'params': self.params, 'opt_state': self.opt_state}

  def replace_from_dict(self, d: dict[str, Any]) -> TrainState:
    return self.replace(step=d['step'], params=d['params'], opt_state=d['opt_state'])
