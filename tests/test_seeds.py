import numpy as np

from p5jax.seeds import purpose_id, purpose_rng


def test_purposes_draw_different_streams_from_one_seed():
  a = purpose_rng(3, 'ids/items').permutation(50)
  b = purpose_rng(3, 'index/rid').permutation(50)
  assert not np.array_equal(a, b)
  assert not np.array_equal(a, np.random.default_rng(3).permutation(50))


def test_reproducible_and_seed_dependent():
  first = purpose_rng(3, 'index/rid').permutation(50)
  assert np.array_equal(first, purpose_rng(3, 'index/rid').permutation(50))
  assert not np.array_equal(first, purpose_rng(4, 'index/rid').permutation(50))
  assert purpose_id('negatives') == purpose_id('negatives') >= 0
