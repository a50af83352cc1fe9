"""Fixtures for trainer tests: a tiny model (real `p5jax.models` when present) and batches."""

from __future__ import annotations

import pytest

from training_fakes import VOCAB, FakeEncoderDecoderModel, TinySeq2Seq


@pytest.fixture
def tiny_model():
    return FakeEncoderDecoderModel(TinySeq2Seq(vocab_size=VOCAB))
