"""One P5 prompt template: exact P5 wording with named ``{slot}`` placeholders."""

from __future__ import annotations

import dataclasses
import functools
import string
from collections.abc import Mapping

FAMILIES = ('rating', 'sequential', 'explanation', 'review', 'direct', 'zeroshot')
VARIANTS = ('amazon', 'yelp')


def _slot_names(text: str) -> tuple[str, ...]:
  return tuple(field for _, field, _, _ in string.Formatter().parse(text) if field)


@dataclasses.dataclass(frozen=True)
class Template:
  """A P5 prompt: ``input``/``target`` are the code strings of P5 with named slots.

  ``seen`` is False for the held-out prompts (each family's last: Amazon 1-10, 2-13, 3-12, 4-4,
  5-8; Yelp 1-10, 2-13, 3-10, 4-3, 5-8; P5's `train_task_list`) and for the zero-shot family Z.
  """

  id: str
  family: str
  input: str
  target: str
  seen: bool
  variant: str

  def __post_init__(self):
    if self.family not in FAMILIES:
      raise ValueError(f'template {self.id}: unknown family {self.family!r}')
    if self.variant not in VARIANTS:
      raise ValueError(f'template {self.id}: unknown variant {self.variant!r}')

  @functools.cached_property
  def input_slots(self) -> tuple[str, ...]:
    return _slot_names(self.input)

  @functools.cached_property
  def target_slots(self) -> tuple[str, ...]:
    return _slot_names(self.target)

  @functools.cached_property
  def slots(self) -> frozenset[str]:
    """Every slot name the template needs (input and target)."""
    return frozenset(self.input_slots + self.target_slots)

  @property
  def task_suffix(self) -> str:
    """The id as used in task names: ``'2-13'`` -> ``'2_13'``."""
    return self.id.replace('-', '_')

  def render(self, values: Mapping[str, str]) -> tuple[str, str]:
    """Fills the slots; extra keys are ignored, a missing slot raises KeyError naming it."""
    missing = self.slots - values.keys()
    if missing:
      raise KeyError(f'template {self.variant}/{self.id} needs slots {sorted(missing)}')
    return self.input.format_map(values), self.target.format_map(values)
