"""The demo dataset, registered at import and built into a cache directory on first use."""

from __future__ import annotations

from p5jax.prompts import FAMILIES
from p5jax.tasks.registry import register_dataset

DEMO_FAMILIES = FAMILIES  # the demo has every family
# Collaborative IDs (`<c3> 7`): items bought together share their first token, so "an item like
# the last one" is a copy of one token. With P5's sequential IDs the same 700 steps stayed at the
# popularity prior (bench/RESULTS.md §4).
DEMO_ID_SCHEME = 'cid'
# runs/demo.gin trains at 128 input pieces: histories are fitted to that length (oldest items
# dropped first) instead of being cut at the end by seqio.
DEMO_INPUT_LENGTH = 128
# P5's cut (20 examples per user), which the demo's settings and README numbers were tuned with;
# the corrected protocol's default would be the every-prefix cut.
DEMO_SEQUENTIAL_CUT = 'p5'


def demo_dir() -> str:
  """Path of the prepared demo dataset (generated on first call by ``p5jax.data``)."""
  from p5jax.data import demo_prepared_dir

  return str(demo_prepared_dir(protocol='corrected', id_schemes=(DEMO_ID_SCHEME,)))


def register_demo() -> tuple[str, ...]:
  return register_dataset(
      'demo',
      demo_dir,
      DEMO_ID_SCHEME,
      'corrected',
      variant='amazon',
      families_present=DEMO_FAMILIES,
      input_length=DEMO_INPUT_LENGTH,
      sequential_cut=DEMO_SEQUENTIAL_CUT,
  )
