"""The fp32 matmul peak a benchmark measures in its own run, to report model FLOP utilisation."""

import time

import jax
import jax.numpy as jnp


def matmul_peak_gflops(n: int = 1024, reps: int = 10) -> float:
  """Best fp32 GFLOP/s of a jitted n x n matmul chain on this machine."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda x: x @ a)
  x = f(a).block_until_ready()
  best = float('inf')
  for _ in range(reps):
    t = time.perf_counter()
    x = f(x).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n**3 / best / 1e9
