"""Postprocessors and metric functions attached to the evaluation tasks, by metric kind.

Postprocessors turn decoded text into what ``p5jax.metrics`` compares: ranking -> list of item id
strings (best first; a single decode becomes a one-item list), rating -> float (NaN when the
output is not a number), classification/text -> whitespace-normalised string. Targets go through
the same function with ``is_target=True``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Callable, Sequence

from tasks.decoding import DecodingSpec


def _text(value: Any) -> str:
  if isinstance(value, bytes):
    value = value.decode('utf-8')
  return ' '.join(str(value).split())


def ranking_postprocessor(output: Any, example=None, is_target: bool = False):
  """Target: the item id string; prediction: a best-first list of item id strings."""
  del example
  if is_target:
    return _text(output)
  if isinstance(output, (str, bytes)):
    return [_text(output)]
  return [_text(o) for o in output]


def rating_postprocessor(output: Any, example=None, is_target: bool = False) -> float:
  """A star rating as float; NaN for text that is not a number (metrics count/skip those)."""
  del example, is_target
  try:
    return float(_text(output))
  except ValueError:
    return math.nan


def text_postprocessor(output: Any, example=None, is_target: bool = False) -> str:
  del example, is_target
  return _text(output)


_POSTPROCESSORS = {'ranking': ranking_postprocessor, 'rating': rating_postprocessor,
                   'classification': text_postprocessor, 'text': text_postprocessor}

# Metric functions of p5jax.metrics per kind (seqio signature: targets, predictions).
_METRICS = {'ranking': ('ranking_metrics',), 'rating': ('rating_metrics',),
            'classification': ('accuracy',), 'text': ('text_metrics',)}


def postprocessor(spec: DecodingSpec) -> Callable:
  return _POSTPROCESSORS[spec.metric_kind]


def metric_fns(spec: DecodingSpec) -> Sequence[Callable]:
  """The ``p5jax.metrics`` functions for ``spec.metric_kind``."""
  import p5jax.metrics as metrics
  fns = [getattr(metrics, name, None) for name in _METRICS[spec.metric_kind]]
  missing = [n for n, f in zip(_METRICS[spec.metric_kind], fns) if f is None]
  if missing:
    logging.warning('p5jax.metrics lacks %s; %s tasks get no metrics', missing, spec.metric_kind)
  return [f for f in fns if f is not None]
