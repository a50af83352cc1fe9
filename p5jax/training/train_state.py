"""The train state pytree: step, params and optimizer state (no boxes, no functions)."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
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
    """Step 0 and `tx`'s state for (possibly boxed) params. An optimizer state leaf that a
    param's box wraps but whose rank differs from the param's (Adafactor's factored moments:
    row and column vectors) loses the box, so it is replicated instead of mis-sharded."""
    return cls(
        step=jnp.zeros((), jnp.int32), params=params, opt_state=_unbox_mismatched(tx.init(params))
    )

  def to_dict(self) -> dict[str, Any]:
    return {'step': self.step, 'params': self.params, 'opt_state': self.opt_state}

  def replace_from_dict(self, d: dict[str, Any]) -> TrainState:
    return self.replace(step=d['step'], params=d['params'], opt_state=d['opt_state'])


def _unbox_mismatched(tree: Any) -> Any:
  def fix(leaf: Any) -> Any:
    if isinstance(leaf, nn.Partitioned) and len(leaf.names) != jnp.ndim(leaf.value):
      return leaf.value
    return leaf

  return jax.tree.map(fix, tree, is_leaf=lambda x: isinstance(x, nn.Partitioned))
