r"""`p5jax-prepare`: raw files -> prepared dataset directory.

  p5jax-prepare --dataset=beauty --raw_dir=raw/beauty --out_dir=data/beauty \
      [--protocol=corrected|original] [--id_schemes=sid,cid] [--seed=2022]
  p5jax-prepare --dataset=demo --out_dir=data/demo          # no download needed
  p5jax-prepare --dataset=sequences --raw_dir=DIR_WITH_sequential_data.txt --out_dir=...

Malformed input exits with status 1 and one line `p5jax: error: ...` naming the file and line
(`--verbose` adds the traceback). The dataset is built in a temporary sibling of `--out_dir` and
renamed into place when complete; a non-empty `--out_dir` is refused unless `--overwrite`.
"""

from __future__ import annotations

import sys
import time

from absl import app, flags

from p5jax.data.pipeline import DATASETS, DEFAULT_SEED, prepare
from p5jax.data.protocols import PROTOCOLS
from p5jax.data.splits import DEFAULT_NUM_NEGATIVES
from p5jax.errors import EXIT_USER_ERROR, UserError, define_verbose_flag, own_help, report

_DATASET = flags.DEFINE_enum('dataset', None, list(DATASETS), 'Which source to read.')
_RAW_DIR = flags.DEFINE_string('raw_dir', None, "Directory with the raw files ('demo': unused).")
_OUT_DIR = flags.DEFINE_string('out_dir', None, 'Prepared dataset directory to write.')
_PROTOCOL = flags.DEFINE_enum(
    'protocol',
    'corrected',
    list(PROTOCOLS),
    "'original' reproduces P5's ids; 'corrected' removes its leaks.",
)
_ID_SCHEMES = flags.DEFINE_list('id_schemes', [], 'Item-index schemes to build (p5jax.indexing).')
_SEED = flags.DEFINE_integer('seed', DEFAULT_SEED, 'Seed of splits, negatives and permutations.')
_NUM_NEGATIVES = flags.DEFINE_integer(
    'num_negatives', DEFAULT_NUM_NEGATIVES, 'Evaluation negatives per user.'
)
_DEMO_SCALE = flags.DEFINE_float('demo_scale', 1.0, '--dataset=demo size (55 ~ Beauty).')
_OVERWRITE = flags.DEFINE_bool(
    'overwrite', False, 'Replace a non-empty --out_dir (once the new dataset is complete).'
)
define_verbose_flag()


def summary(manifest: dict, seconds: float) -> str:
  """A human-readable summary of a prepared dataset's manifest."""
  users, items = manifest['num_users'], manifest['num_items']
  density = manifest['num_interactions'] / max(1, users * items)
  lines = [
      f"prepared {manifest['dataset']} ({manifest['protocol']} protocol) in {seconds:.1f}s",
      f"  users {users:,}  items {items:,}  interactions "
      f"{manifest['num_interactions']:,}  density {density:.4%}",
      f"  sequences: leave-one-out, {users:,} val / {users:,} test targets, "
      f"{manifest['num_negatives']} fixed negatives each",
  ]
  if manifest['has_reviews']:
    s = manifest['review_splits']
    lines.append(
        f"  reviews {manifest['num_reviews']:,}: train {s['train']:,}  val {s['val']:,}"
        f"  test {s['test']:,}  explanations: {manifest['has_explanations']}"
    )
  else:
    lines.append('  no reviews: only the sequential and direct families are available')
  for note, count in manifest['notes'].items():
    lines.append(f'  note: {note}: {count:,}')
  if manifest['id_schemes']:
    lines.append(f"  item indexes: {', '.join(manifest['id_schemes'])}")
  return '\n'.join(lines)


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  if _DATASET.value is None or _OUT_DIR.value is None:
    raise app.UsageError('--dataset and --out_dir are required')
  start = time.perf_counter()

  def log(message: str) -> None:
    print(f'[{time.perf_counter() - start:6.1f}s] {message}', flush=True)

  try:
    manifest = prepare(
        _DATASET.value,
        _RAW_DIR.value,
        _OUT_DIR.value,
        protocol=_PROTOCOL.value,
        id_schemes=tuple(_ID_SCHEMES.value),
        seed=_SEED.value,
        num_negatives=_NUM_NEGATIVES.value,
        demo_scale=_DEMO_SCALE.value,
        overwrite=_OVERWRITE.value,
        log=log,
    )
  except (UserError, ValueError) as e:  # bad input, or a scheme the data does not allow
    report(e, verbose=flags.FLAGS.verbose)
    return EXIT_USER_ERROR
  print(summary(manifest, time.perf_counter() - start))
  print(f'wrote {_OUT_DIR.value}')
  return 0


USAGE = """p5jax-prepare: raw files -> a prepared dataset directory (what training reads).
usage: p5jax-prepare --dataset=beauty --raw_dir=raw/beauty --out_dir=prepared/beauty [--protocol=...]
       p5jax-prepare --dataset=demo --out_dir=prepared/demo    (no download needed)
"""


def console_main() -> None:
  own_help(USAGE, (__name__,))
  app.run(lambda argv: sys.exit(main(argv)))


if __name__ == '__main__':
  console_main()
