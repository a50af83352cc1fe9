"""Default feature lengths per family (P5: inputs truncated to 512 pieces, targets to 64)."""

from __future__ import annotations

import types
from collections.abc import Mapping

P5_LENGTHS = types.MappingProxyType({'inputs': 512, 'targets': 64})

FEATURE_LENGTHS: Mapping[str, Mapping[str, int]] = types.MappingProxyType(
    {
        family: P5_LENGTHS
        for family in ('rating', 'sequential', 'explanation', 'review', 'direct', 'zeroshot')
    }
)


def feature_lengths(family: str | None = None) -> dict[str, int]:
  """A mutable copy of the defaults of ``family`` (None: the lengths shared by a mixture)."""
  if family is None:
    return {k: max(v[k] for v in FEATURE_LENGTHS.values()) for k in ('inputs', 'targets')}
  return dict(FEATURE_LENGTHS[family])
