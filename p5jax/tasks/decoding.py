"""What decoding each evaluation prompt needs, declared per template, and its generation settings.

Modes (`DecodingSpec.mode`, fixed by the template):
- ``all_items``: rank item IDs (2-1..2-6, 2-13); decoded constrained to every item ID string of
  the scheme by default.
- ``candidates``: rank the example's ``candidates`` (int32 item numbers in prompt order; 2-7..2-10,
  5-5..5-8); decoded constrained to them by default.
- ``score_yes_no``: score the target 'yes' for each example; the examples of one user share
  ``candidates`` and each holds its own ``item``; rank a user's items by that score (5-1..5-4).
- ``closed_set``: the answer is one of ``answers`` (yes/no, like/dislike); decode restricted to
  them.
- ``free``: unconstrained decoding (ratings, explanations, summaries).

How a task is generated (`DecodingSettings`, chosen per task in gin; names and meanings are
Hugging Face ``generate``'s) is separate: under ``protocol=original`` P5's notebooks decode
ranking prompts unconstrained with 20 beams, explanations with min lengths and beam groups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from p5jax.prompts import Template

MODES = ('all_items', 'candidates', 'score_yes_no', 'closed_set', 'free')
RANKING_MODES = ('all_items', 'candidates', 'score_yes_no')
# 'review_rating': 4-2/4-4 (P5 rounds the prediction); 'summary': 4-1 (P5 reports BLEU-2).
METRIC_KINDS = ('ranking', 'rating', 'review_rating', 'classification', 'text', 'summary')
GENERATION_MODES = ('constrained', 'hf')
# Hugging Face's default `max_length` (the decoder start token included), P5's free decoding.
HF_DEFAULT_MAX_LENGTH = 20


@dataclasses.dataclass(frozen=True)
class DecodingSpec:
  """How to decode one task: ``mode`` (see module doc), closed ``answers``, the metric kind
  (one of ``METRIC_KINDS``)."""

  mode: str
  metric_kind: str
  answers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
  """How one evaluation task is generated, in Hugging Face ``generate``'s terms.

  Attributes:
    mode: 'constrained' (beams restricted to the valid answers: item IDs, the example's
      candidates, the closed answer set; p5jax's exhaustive beam search) or 'hf' (Hugging
      Face's unconstrained ``generate``: greedy when ``num_beams`` is 1).
    num_beams, num_return_sequences: beams kept and decodes returned, best first.
    max_length, min_length: Hugging Face's lengths, which count the decoder start token: at
      most ``max_length - 1`` tokens are generated, EOS included. ``max_length`` None: the
      longest valid answer of a constrained task, else Hugging Face's default 20.
    repetition_penalty, num_beam_groups, diversity_penalty, early_stopping, length_penalty:
      Hugging Face's settings of the same names.
    p5_step_index: yes/no scoring reads P(yes) at decoding step 1 after a greedy first token,
      as P5's notebooks did (``p5jax.decoding.yes_probability``).
    max_examples: evaluate at most this many queries, in file order (P5 evaluated review
      prompts on their first 816 examples).
  """

  mode: str = 'constrained'
  num_beams: int = 1
  num_return_sequences: int = 1
  max_length: int | None = None
  min_length: int = 0
  repetition_penalty: float = 1.0
  num_beam_groups: int = 1
  diversity_penalty: float = 0.0
  early_stopping: bool = False
  length_penalty: float = 1.0
  p5_step_index: bool = False
  max_examples: int | None = None

  def __post_init__(self):
    if self.mode not in GENERATION_MODES:
      raise ValueError(f'mode must be one of {GENERATION_MODES}, got {self.mode!r}')
    if not 1 <= self.num_return_sequences <= self.num_beams:
      raise ValueError(f'need num_beams >= num_return_sequences >= 1: {self}')
    if self.num_beams % self.num_beam_groups:
      raise ValueError(f'num_beams must be a multiple of num_beam_groups: {self}')
    if self.max_length is not None and self.max_length < max(2, self.min_length):
      raise ValueError(f'max_length must be >= 2 and >= min_length: {self}')


def default_settings(spec: DecodingSpec, num_beams: int) -> DecodingSettings:
  """The corrected protocol's settings of a mode: ranking constrained with ``num_beams`` (all
  returned), closed answers constrained, free text greedy up to Hugging Face's default length."""
  if spec.mode in ('all_items', 'candidates'):
    return DecodingSettings('constrained', num_beams=num_beams, num_return_sequences=num_beams)
  if spec.mode == 'free':
    return DecodingSettings('hf', max_length=HF_DEFAULT_MAX_LENGTH)
  return DecodingSettings('constrained')


def settings_for(
    template: str,
    spec: DecodingSpec,
    num_beams: int,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> DecodingSettings:
  """``default_settings``, then ``overrides[spec.mode]``, then ``overrides[template]`` (a
  template id such as '3-9'); each override maps ``DecodingSettings`` fields to values."""
  settings = default_settings(spec, num_beams)
  for key in (spec.mode, template):
    fields = dict((overrides or {}).get(key) or {})
    unknown = set(fields) - {f.name for f in dataclasses.fields(DecodingSettings)}
    if unknown:
      raise ValueError(f'decoding settings for {key!r}: unknown fields {sorted(unknown)}')
    settings = dataclasses.replace(settings, **fields)
  return settings


def decoding_for(template: Template) -> DecodingSpec:
  """The decoding an evaluation task of ``template`` needs."""
  slots, target = template.slots, template.target_slots
  if target in (('item_id',), ('groundtruth_item_ids',)):
    return DecodingSpec('candidates' if 'candidates' in slots else 'all_items', 'ranking')
  if target == ('yes_no',):
    if template.family == 'direct':
      return DecodingSpec('score_yes_no', 'ranking', ('yes', 'no'))
    return DecodingSpec('closed_set', 'classification', ('yes', 'no'))
  if target == ('like_dislike',):
    return DecodingSpec('closed_set', 'classification', ('like', 'dislike'))
  if target == ('star_rating',):
    return DecodingSpec('free', 'review_rating' if template.family == 'review' else 'rating')
  return DecodingSpec('free', 'summary' if template.family == 'review' else 'text')
