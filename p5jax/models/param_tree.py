"""Filling a model's fresh param tree from stored leaves (a checkpoint's, a Hugging Face T5's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

# fit(key, stored leaf, fresh leaf) -> the stored leaf adapted to the model (e.g. more rows).
Fit = Callable[[str, np.ndarray, Any], np.ndarray]


def fill_params(
    fresh_params: Any,
    stored: Any,
    mismatch: Callable[[str], Exception],
    fit: Fit | None = None,
) -> tuple[Any, list[str]]:
  """``fresh_params`` with each leaf that ``stored`` has at the same key path replaced by it
  (through ``fit``, cast to the fresh leaf's dtype and placed on its sharding), and the key
  paths ``stored`` lacks, whose leaves keep their fresh value.

  A stored leaf whose shape differs from the fresh one raises ``mismatch(message)``; the
  message names the key and both shapes, the caller adds the source.
  """
  stored_flat = {
      jax.tree_util.keystr(p): v for p, v in jax.tree_util.tree_flatten_with_path(stored)[0]
  }
  flat, treedef = jax.tree_util.tree_flatten_with_path(fresh_params)
  leaves, missing = [], []
  for key_path, fresh in flat:
    key = jax.tree_util.keystr(key_path)
    if key not in stored_flat:
      missing.append(key)
      leaves.append(fresh)
      continue
    value = stored_flat[key] if fit is None else fit(key, stored_flat[key], fresh)
    if tuple(value.shape) != tuple(fresh.shape):
      raise mismatch(
          f'param {key} has shape {tuple(value.shape)}, the model expects {tuple(fresh.shape)}'
      )
    leaves.append(jax.device_put(value.astype(fresh.dtype), fresh.sharding))
  return jax.tree_util.tree_unflatten(treedef, leaves), missing
