import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from fixture_data import BareIds, make_dataset  # noqa: E402

from p5jax.tasks.context import DatasetContext  # noqa: E402


@pytest.fixture
def make_context():
  def make(protocol='corrected', variant='amazon', seed=0, **kwargs):
    return DatasetContext(make_dataset(protocol), BareIds(), variant, protocol, seed=seed, **kwargs)

  return make
