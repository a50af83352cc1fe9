"""Item indexing: how items are named as token strings (the README lists the schemes).

`build_index(scheme, dataset, seed=0, **params)` builds one of `SCHEMES` from a prepared dataset;
`load_index(path)` reads one written by `ItemIndex.save`.
"""

from p5jax.indexing.inputs import IndexInputs, ItemMeta, inputs_from_dataset
from p5jax.indexing.item_index import ItemIndex, load_index
from p5jax.indexing.registry import (
    SCHEMES,
    build_from_inputs,
    build_index,
    parse_params,
    prepared_index,
)

__all__ = [
    'SCHEMES',
    'IndexInputs',
    'ItemIndex',
    'ItemMeta',
    'build_from_inputs',
    'build_index',
    'inputs_from_dataset',
    'load_index',
    'parse_params',
    'prepared_index',
]
