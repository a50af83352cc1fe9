"""Properties every scheme must have: unique round-tripping IDs, determinism, new tokens."""

import pytest

from p5jax.indexing import SCHEMES, build_index
from tests.indexing.fakes import two_communities

SMALL = {'cid': {'k': 4, 'n': 2}, 'cid+iid': {'cid': {'k': 4, 'n': 2}}}


@pytest.fixture(scope='module')
def dataset():
  data = two_communities()
  data.manifest['protocol'] = 'original'
  return data


@pytest.mark.parametrize('scheme', SCHEMES)
def test_unique_ids_round_trip(dataset, scheme):
  index = build_index(scheme, dataset, seed=3, **SMALL.get(scheme, {}))
  ids = index.all_id_strings()
  assert index.items() == sorted(dataset.items)
  assert len(set(ids)) == len(ids)
  assert [index.tokens_to_item(s) for s in ids] == index.items()
  for s in ids:  # every new token used by an ID is declared
    words = s.replace('>', '> ').split()
    assert all(w in index.new_tokens() for w in words if w.startswith('<'))


@pytest.mark.parametrize('scheme', SCHEMES)
def test_same_seed_same_index(dataset, scheme):
  params = SMALL.get(scheme, {})
  assert build_index(scheme, dataset, seed=5, **params) == build_index(
      scheme, dataset, seed=5, **params
  )


@pytest.mark.parametrize('scheme', ['rid', 'sid', 'cid', 'contid'])
def test_seed_changes_index(dataset, scheme):
  params = SMALL.get(scheme, {})
  assert (
      build_index(scheme, dataset, seed=1, **params).all_id_strings()
      != build_index(scheme, dataset, seed=2, **params).all_id_strings()
  )


def test_unknown_scheme():
  with pytest.raises(ValueError, match="unknown scheme 'foo'"):
    build_index('foo', two_communities())
