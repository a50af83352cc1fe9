"""The two protocols every part of p5jax follows, defined once.

- `original`: P5 as published (its item numbering, review split, test negatives, decoding and
  metric quirks), to reproduce the paper's tables.
- `corrected`: the same tasks without P5's test-position leak and evaluation quirks (docs/).
"""

from __future__ import annotations

PROTOCOLS = ('original', 'corrected')


def check_protocol(protocol: str) -> str:
  """`protocol`, or a ValueError naming the allowed values."""
  if protocol not in PROTOCOLS:
    raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
  return protocol
