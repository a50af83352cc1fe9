"""`original`: the item numbers exactly as the source files give them (P5's numbering).

P5's released files and the S3-Rec sequence files number items by first appearance along users'
full sequences, test items included, so a user's test item is often max(history)+1. This
scheme exists only to reproduce the published numbers and is refused under
`protocol=corrected`; `p5jax-leakcheck` flags it.
"""

from __future__ import annotations

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.numbering import format_number


def build_original(inputs: IndexInputs, *, seed: int = 0, number_style: str = 'whole') -> ItemIndex:
  """Item i is named by the number i (`whole` style by default, as P5 writes it)."""
  if inputs.protocol != 'original':
    raise ValueError(
        "scheme 'original' reproduces P5's leaky item numbering and is only allowed with "
        f"protocol='original' (this dataset has protocol={inputs.protocol!r}); use rid, sid, "
        "cid, contid, tid or iid for corrected runs"
    )
  leaves = {i: format_number(i, number_style) for i in inputs.all_items}
  return ItemIndex(
      'original',
      {i: '' for i in leaves},
      leaves,
      [],
      params={'number_style': number_style},
      seed=seed,
  )
