"""p5jax.data: raw sources -> prepared datasets (docs/CONTRACTS.md §3).

Readers (`amazon`, `yelp`, `p5_release`, `sequences`) validate as they read and return a
`RawDataset`; `protocols` numbers users/items (`original` | `corrected`); `splits` makes the
review split and the fixed evaluation negatives; `prepared` writes/loads the directory;
`demo` generates the embedded demo dataset; `prepare_main` is the `p5jax-prepare` CLI.
"""

from p5jax.data.cache import demo_prepared_dir
from p5jax.data.errors import DataFormatError
from p5jax.data.pipeline import DATASETS, prepare
from p5jax.data.prepared import FORMAT_VERSION, PreparedDataset
from p5jax.data.protocols import PROTOCOLS

__all__ = [
    'DATASETS',
    'FORMAT_VERSION',
    'PROTOCOLS',
    'DataFormatError',
    'PreparedDataset',
    'demo_prepared_dir',
    'prepare',
]
