"""Fixtures for trainer tests: a tiny real `p5jax.models` T5 (P5's T5 1.0 layout)."""

from __future__ import annotations

import pytest

from tests.training.fakes import tiny_t5


@pytest.fixture
def tiny_model():
  return tiny_t5()
