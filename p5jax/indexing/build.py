"""Adds ID schemes to an existing prepared directory and records them in its manifest.

python -m p5jax.indexing.build --prepared_dir=DIR --scheme=cid [--params=k=500,n=20] [--seed=0]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from p5jax import paths
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.registry import build_index, parse_params


def add_scheme(
    prepared_dir: str, scheme: str, dataset: Any, *, seed: int | None = None, **params: Any
) -> ItemIndex:
  """Builds `scheme` into `<prepared_dir>/indexes/<scheme>.json` and records it in the manifest
  (`id_schemes` and the file's sha256, see `p5jax.data.prepared`). `seed` defaults to the
  manifest's seed."""
  from p5jax.data import prepared

  prepared.check_scheme_name(scheme)
  manifest = json.loads(paths.read_bytes(paths.join(prepared_dir, prepared.MANIFEST)))
  if seed is None:
    seed = int(manifest.get('seed', 0))
  index = build_index(scheme, dataset, seed=seed, **params)
  prepared.record_index(prepared_dir, scheme, prepared.index_bytes(index))
  return index


def main(argv: Sequence[str]) -> None:
  del argv
  from absl import flags

  from p5jax.data import PreparedDataset
  from p5jax.errors import EXIT_USER_ERROR, UserError, report

  cfg = flags.FLAGS
  try:
    dataset = PreparedDataset.load(cfg.prepared_dir)
    index = add_scheme(
        cfg.prepared_dir, cfg.scheme, dataset, seed=cfg.seed, **parse_params(cfg.params)
    )
  except UserError as e:
    report(e, verbose=False)
    raise SystemExit(EXIT_USER_ERROR) from None
  print(f'wrote {index!r} to {cfg.prepared_dir}/indexes/{cfg.scheme}.json')


if __name__ == '__main__':
  from absl import app, flags

  flags.DEFINE_string('prepared_dir', None, 'A prepared dataset directory.', required=True)
  flags.DEFINE_string('scheme', None, 'ID scheme to build, e.g. cid or cid+iid.', required=True)
  flags.DEFINE_string('params', '', "Scheme params, e.g. 'k=500,n=20' or '500_20' for cid.")
  flags.DEFINE_integer('seed', None, "Seed (default: the manifest's seed).")
  app.run(main)
