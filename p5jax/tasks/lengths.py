"""Default feature lengths per family (P5: inputs truncated to 512 pieces, targets to 64), and
the check that training templates fit the configured input length."""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from p5jax.prompts import Template
from p5jax.tasks.context import DatasetContext

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


_WARNED: set[tuple] = set()
FIT_SAMPLE = 32  # examples per template built to measure prompt lengths


def fitting_templates(
    ctx: DatasetContext,
    family: str,
    templates: Sequence[Template],
    input_length: int,
    train_per_user: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> tuple[Template, ...]:
  """The training ``templates`` of ``family`` whose prompts fit ``input_length`` pieces (EOS
  included), measured on a sample of each template's examples; warns once per template and
  length about the others, with counts. ``ctx.overlong_templates == 'drop'`` leaves them out
  (an error if none is left); 'warn' keeps them: seqio cuts their prompts at the end.

  A cut prompt loses what follows the cut (a candidate list, the question); histories are
  already fitted from the old end when ``ctx.fits_histories``, so such a template cannot fit
  its fixed parts. Without a token counter nothing is measured.
  """
  from p5jax.tasks.families import TrainFamily

  count = count_tokens or ctx.count_tokens
  if count is None:
    return tuple(templates)
  kept = []
  for template in templates:
    train = TrainFamily(ctx, family, (template,), train_per_user)
    picks = np.unique(np.linspace(0, train.size - 1, FIT_SAMPLE).astype(np.int64))
    built = [train.example(0, int(i)) for i in picks] if train.size else []
    lengths = [count(e['inputs']) + 1 for e in built if e is not None]
    over = sum(n > input_length for n in lengths)
    if not over:
      kept.append(template)
      continue
    key = (id(ctx.dataset), family, template.id, input_length, ctx.overlong_templates)
    if key not in _WARNED:
      _WARNED.add(key)
      action = (
          'left out of training (overlong_templates=drop)'
          if ctx.overlong_templates == 'drop'
          else "cut at the end by seqio; raise the input length or set overlong_templates='drop'"
      )
      logging.warning(
          'training template %s (%s): %d of %d sampled prompts exceed %d input pieces (longest '
          '%d): %s',
          template.id,
          family,
          over,
          len(lengths),
          input_length,
          max(lengths),
          action,
      )
    if ctx.overlong_templates == 'warn':
      kept.append(template)
  if not kept:
    raise ValueError(
        f'no {family} training template fits {input_length} input pieces '
        f'({[t.id for t in templates]} all exceed it); raise the input length'
    )
  return tuple(kept)
