import json

from p5jax.indexing import load_index
from p5jax.indexing.build import add_scheme
from tests.indexing.fakes import two_communities


def test_add_scheme_writes_index_and_manifest(tmp_path):
  data = two_communities()
  data.manifest['seed'] = 11
  data.write_manifest(tmp_path)
  index = add_scheme(str(tmp_path), 'cid', data, k=5, n=2)
  assert load_index(tmp_path / 'indexes' / 'cid.json') == index
  assert index.seed == 11 and index.params['k'] == 5
  add_scheme(str(tmp_path), 'cid', data, k=5, n=2)
  manifest = json.loads((tmp_path / 'manifest.json').read_text())
  assert manifest['id_schemes'] == ['cid']
