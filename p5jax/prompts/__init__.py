"""The P5 prompt collection as data (P5's `src/all_*_templates.py`): ids, families,
seen/unseen flags, exact wording."""

from __future__ import annotations

import types
from collections.abc import Mapping

from p5jax.prompts import amazon, yelp
from p5jax.prompts.template import FAMILIES, VARIANTS, Template

# Prompts evaluated in the P5 paper (§5.3 and its notebooks), per variant; each family's last
# prompt is held out of training (unseen), see `Template.seen`.
EVAL_TEMPLATES: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {
        'amazon': (
            '1-6',
            '1-10',
            '2-3',
            '2-13',
            '3-3',
            '3-9',
            '3-12',
            '4-1',
            '4-2',
            '4-4',
            '5-1',
            '5-4',
            '5-5',
            '5-8',
        ),
        'yelp': (
            '1-6',
            '1-10',
            '2-3',
            '2-13',
            '3-2',
            '3-7',
            '3-10',
            '4-2',
            '4-3',
            '5-1',
            '5-4',
            '5-5',
            '5-8',
        ),
    }
)

_BY_VARIANT = {
    'amazon': types.MappingProxyType({t.id: t for t in amazon.TEMPLATES}),
    'yelp': types.MappingProxyType({t.id: t for t in yelp.TEMPLATES}),
}


def templates(variant: str = 'amazon') -> Mapping[str, Template]:
  """All templates of ``variant`` ('amazon' or 'yelp') keyed by id ('2-13', 'Z-3')."""
  if variant not in _BY_VARIANT:
    raise ValueError(f'unknown template variant {variant!r}; expected one of {VARIANTS}')
  return _BY_VARIANT[variant]


def family_templates(
    variant: str, family: str, *, seen: bool | None = None
) -> tuple[Template, ...]:
  """Templates of one family in id order; ``seen`` filters seen (True) or held-out (False)."""
  if family not in FAMILIES:
    raise ValueError(f'unknown family {family!r}; expected one of {FAMILIES}')
  return tuple(
      t
      for t in templates(variant).values()
      if t.family == family and (seen is None or t.seen == seen)
  )


def all_template_strings() -> tuple[str, ...]:
  """Every input/target string of every variant (e.g. to seed a vocabulary's training text)."""
  return tuple(s for v in VARIANTS for t in templates(v).values() for s in (t.input, t.target))


__all__ = [
    'EVAL_TEMPLATES',
    'FAMILIES',
    'VARIANTS',
    'Template',
    'all_template_strings',
    'family_templates',
    'templates',
]
