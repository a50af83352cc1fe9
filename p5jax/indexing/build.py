"""Adds ID schemes to an existing prepared directory and records them in its manifest.

python -m p5jax.indexing.build --prepared_dir=DIR --scheme=cid [--params=k=500,n=20] [--seed=0]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from p5jax.indexing.item_index import ItemIndex, atomic_write_bytes
from p5jax.indexing.registry import build_index, parse_params


def add_scheme(
    prepared_dir: str, scheme: str, dataset: Any, *, seed: int | None = None, **params: Any
) -> ItemIndex:
  """Builds `scheme` into `<prepared_dir>/indexes/<scheme>.json` and lists it in the manifest's
  `id_schemes`. `seed` defaults to the manifest's seed."""
  manifest_path = os.path.join(prepared_dir, 'manifest.json')
  with open(manifest_path, encoding='utf-8') as f:
    manifest = json.load(f)
  if seed is None:
    seed = int(manifest.get('seed', 0))
  index = build_index(scheme, dataset, seed=seed, **params)
  index.save(os.path.join(prepared_dir, 'indexes', f'{scheme}.json'))
  schemes = list(manifest.get('id_schemes', []))
  if scheme not in schemes:
    manifest['id_schemes'] = schemes + [scheme]
    atomic_write_bytes(manifest_path, json.dumps(manifest, indent=1).encode('utf-8'))
  return index


def main(argv: Sequence[str]) -> None:
  del argv
  from absl import flags

  from p5jax.data import PreparedDataset

  cfg = flags.FLAGS
  dataset = PreparedDataset.load(cfg.prepared_dir)
  index = add_scheme(
      cfg.prepared_dir, cfg.scheme, dataset, seed=cfg.seed, **parse_params(cfg.params)
  )
  print(f'wrote {index!r} to {cfg.prepared_dir}/indexes/{cfg.scheme}.json')


if __name__ == '__main__':
  from absl import app, flags

  flags.DEFINE_string('prepared_dir', None, 'A prepared dataset directory.', required=True)
  flags.DEFINE_string('scheme', None, 'ID scheme to build, e.g. cid or cid+iid.', required=True)
  flags.DEFINE_string('params', '', "Scheme params, e.g. 'k=500,n=20' or '500_20' for cid.")
  flags.DEFINE_integer('seed', None, "Seed (default: the manifest's seed).")
  app.run(main)
