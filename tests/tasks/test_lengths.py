"""Training templates that cannot fit the input length are reported once (or dropped)."""

import logging

import pytest

from p5jax import prompts
from p5jax.tasks import lengths

SEEN = prompts.family_templates('amazon', 'sequential', seen=True)
CANDIDATES = {'2-7', '2-8', '2-9', '2-10'}


def count_words(text):
  return len(text.split())


def test_overlong_candidate_templates_warn_once_with_counts(make_context, caplog):
  ctx = make_context(count_tokens=count_words, input_length=64)
  with caplog.at_level(logging.WARNING):
    kept = lengths.fitting_templates(ctx, 'sequential', SEEN, 64)
    again = lengths.fitting_templates(ctx, 'sequential', SEEN, 64)
  assert kept == again == SEEN  # 'warn' keeps them
  warned = [r.getMessage() for r in caplog.records]
  assert len(warned) == len(CANDIDATES)  # once per template, not per call
  assert {m.split()[2] for m in warned} == CANDIDATES
  assert all('sampled prompts exceed 64 input pieces' in m for m in warned)


def test_drop_leaves_them_out(make_context):
  ctx = make_context(count_tokens=count_words, input_length=64, overlong_templates='drop')
  kept = lengths.fitting_templates(ctx, 'sequential', SEEN, 64)
  assert {t.id for t in kept} == {t.id for t in SEEN} - CANDIDATES
  with pytest.raises(ValueError, match='no sequential training template fits 8'):
    lengths.fitting_templates(ctx, 'sequential', SEEN, 8)


def test_without_a_counter_nothing_is_measured(make_context):
  assert lengths.fitting_templates(make_context(), 'sequential', SEEN, 8) == SEEN
