"""A tiny model whose train step takes a fixed wall time, so a test can stop a run midway."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from tests.training.fakes import FakeEncoderDecoderModel

STEP_SECONDS = 0.25


def _pause() -> np.ndarray:
  time.sleep(STEP_SECONDS)
  return np.zeros((), np.float32)


class SlowModel(FakeEncoderDecoderModel):
  """`FakeEncoderDecoderModel` whose loss waits `STEP_SECONDS` on the host (values unchanged)."""

  def loss_fn(self, params, batch, dropout_rng):
    loss, aux = super().loss_fn(params, batch, dropout_rng)
    pause = jax.pure_callback(_pause, jax.ShapeDtypeStruct((), jnp.float32))
    return loss + jax.lax.stop_gradient(pause), aux
