import pytest

from p5jax.tasks.context import DatasetContext
from tests.tasks.fakes import BareIds, make_dataset


@pytest.fixture
def make_context():
  def make(protocol='corrected', variant='amazon', seed=0, **kwargs):
    return DatasetContext(make_dataset(protocol), BareIds(), variant, protocol, seed=seed, **kwargs)

  return make
