"""The demo dataset, registered at import and built into a cache directory on first use."""

from __future__ import annotations

from tasks.registry import register_dataset

DEMO_FAMILIES = ('rating', 'sequential', 'explanation', 'review', 'direct', 'zeroshot')


def demo_dir() -> str:
  """Path of the prepared demo dataset (generated on first call by ``p5jax.data``)."""
  from p5jax.data import demo_prepared_dir
  return str(demo_prepared_dir(protocol='corrected'))


def register_demo() -> tuple[str, ...]:
  return register_dataset('demo', demo_dir, 'sid', 'corrected', variant='amazon',
                          families_present=DEMO_FAMILIES)
