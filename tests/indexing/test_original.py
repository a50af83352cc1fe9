import pytest

from p5jax.indexing import build_index
from tests.indexing.fakes import two_communities


def test_original_numbers_are_item_ids():
  data = two_communities()
  data.manifest['protocol'] = 'original'
  index = build_index('original', data)
  assert [index.item_to_tokens(i) for i in (1, 12)] == ['1', '12']
  assert build_index('original', data, number_style='digits').item_to_tokens(12) == '1 2'


def test_original_refused_under_corrected():
  with pytest.raises(ValueError, match="protocol='original'"):
    build_index('original', two_communities())
