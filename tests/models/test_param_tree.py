"""fill_params: stored leaves replace fresh ones by key path; the rest are listed as missing."""

import jax.numpy as jnp
import numpy as np
import pytest

from p5jax.models.param_tree import fill_params


def test_stored_leaves_are_fitted_cast_and_missing_ones_listed():
  fresh = {'a': jnp.zeros((2,), jnp.float32), 'b': {'c': jnp.ones((3,), jnp.bfloat16)}}
  stored = {'a': np.array([1, 2], np.int64), 'unused': np.zeros(4)}
  params, missing = fill_params(fresh, stored, ValueError, lambda key, v, f: v * 10)
  assert params['a'].dtype == jnp.float32 and params['a'].tolist() == [10.0, 20.0]
  assert params['b']['c'] is fresh['b']['c']
  assert missing == ["['b']['c']"]


def test_a_shape_that_does_not_fit_raises_the_callers_error():
  with pytest.raises(KeyError, match=r"\['a'\] has shape \(3,\), the model expects \(2,\)"):
    fill_params({'a': jnp.zeros(2)}, {'a': np.zeros(3)}, KeyError)
