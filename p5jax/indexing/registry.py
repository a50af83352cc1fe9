"""Scheme names -> builders, and `build_index`, the entry point used by `p5jax-prepare`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from p5jax.indexing.collaborative import build_cid
from p5jax.indexing.content import build_contid
from p5jax.indexing.hybrid import compose
from p5jax.indexing.independent import build_iid
from p5jax.indexing.inputs import IndexInputs, inputs_from_dataset
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.original import build_original
from p5jax.indexing.random_ids import build_rid
from p5jax.indexing.sequential import build_sid
from p5jax.indexing.title import build_tid

Builder = Callable[..., ItemIndex]

BASE_SCHEMES: dict[str, Builder] = {
    'original': build_original,
    'rid': build_rid,
    'sid': build_sid,
    'cid': build_cid,
    'contid': build_contid,
    'tid': build_tid,
    'iid': build_iid,
}
SCHEMES: tuple[str, ...] = tuple(BASE_SCHEMES) + ('cid+iid', 'contid+iid')
HIERARCHICAL = ('cid', 'contid')  # schemes whose prefix (not full ID) starts a hybrid


def build_from_inputs(
    scheme: str, inputs: IndexInputs, *, seed: int = 0, **params: Any
) -> ItemIndex:
  """Builds `scheme` (a base name or any `a+b` hybrid). For hybrids, params go to the part
  that accepts them, given as `{'cid': {...}, 'iid': {...}}` or flat (all to the first part)."""
  parts = scheme.split('+')
  unknown = [p for p in parts if p not in BASE_SCHEMES]
  if unknown or len(parts) > 2:
    raise ValueError(
        f"unknown scheme {scheme!r}: use one of {', '.join(SCHEMES)} or any "
        f"'a+b' of {', '.join(BASE_SCHEMES)}"
    )
  if len(parts) == 1:
    return BASE_SCHEMES[scheme](inputs, seed=seed, **params)
  first, second = parts
  nested = all(key in parts for key in params)
  first_params = params.get(first, {}) if nested else params
  second_params = params.get(second, {}) if nested else {}
  return compose(
      BASE_SCHEMES[first](inputs, seed=seed, **first_params),
      BASE_SCHEMES[second](inputs, seed=seed, **second_params),
      keep='prefix' if first in HIERARCHICAL else 'full',
  )


def build_index(scheme: str, dataset: Any, *, seed: int = 0, **params: Any) -> ItemIndex:
  """Builds an item index from a `p5jax.data.PreparedDataset` (training interactions only)."""
  return build_from_inputs(scheme, inputs_from_dataset(dataset), seed=seed, **params)


def prepared_index(
    prepared_dir: str,
    scheme: str,
    dataset: Any = None,
    *,
    build_missing: bool = False,
    **params: Any,
) -> ItemIndex:
  """The `scheme` index built into `prepared_dir` (checked against its manifest).

  When it was not built there: with `build_missing` (analysis tools such as the leak check),
  `scheme` is built in memory from `dataset` with the manifest's seed and `params`; otherwise a
  `UserError` names the command that builds it (a training run never builds an index).
  """
  from p5jax.data import prepared

  if build_missing and prepared.index_file(scheme) not in prepared.read_manifest(prepared_dir).get(
      'files', {}
  ):
    logging.info('%s has no %s index; building it in memory', prepared_dir, scheme)
    return build_index(scheme, dataset, seed=int(dataset.manifest.get('seed', 0)), **params)
  return prepared.load_item_index(prepared_dir, scheme)


def parse_params(spec: str) -> dict[str, Any]:
  """'k=500,n=20' -> {'k': 500, 'n': 20}; also the `500_20` shorthand of the paper for cid."""
  spec = spec.strip()
  if not spec:
    return {}
  if '=' not in spec and '_' in spec:
    k, n = spec.split('_', 1)
    return {'k': int(k), 'n': int(n)}
  params: dict[str, Any] = {}
  for part in spec.split(','):
    key, sep, value = part.partition('=')
    if not sep:
      raise ValueError(f"index params must look like 'k=500,n=20', got {spec!r}")
    params[key.strip()] = int(value) if value.strip().lstrip('-').isdigit() else value.strip()
  return params
