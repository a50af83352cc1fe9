"""`tid`: title IDs, the first `max_words` words of the item's title.

Titles are reduced to their alphanumeric words (punctuation such as `,` would clash with the
history separators of the prompts). Items whose words coincide, and items without a title
(named `item`), get a disambiguating `# n` suffix in seeded order: `lip gloss # 2`. `#` never
occurs in a cleaned title, so suffixed and plain IDs cannot collide.
"""

from __future__ import annotations

import collections
import re

from p5jax.indexing.inputs import IndexInputs
from p5jax.indexing.item_index import ItemIndex
from p5jax.indexing.numbering import format_number
from p5jax.seeds import purpose_rng

_WORD = re.compile(r'\w+')


def title_words(title: str | None, max_words: int) -> str:
  return ' '.join(_WORD.findall(title or '')[:max_words])


def build_tid(
    inputs: IndexInputs, *, seed: int = 0, max_words: int = 8, number_style: str = 'digits'
) -> ItemIndex:
  names = {}
  for i in inputs.all_items:
    meta = inputs.meta.get(i)
    names[i] = title_words(meta.title if meta else None, max_words) or 'item'
  groups: dict[str, list[int]] = collections.defaultdict(list)
  for i in sorted(names):
    groups[names[i]].append(i)
  rng = purpose_rng(seed, 'index/tid')
  leaves = {}
  for name in sorted(groups):
    members = groups[name]
    if len(members) == 1 and name != 'item':
      leaves[members[0]] = name
      continue
    for number, pos in enumerate(rng.permutation(len(members)), start=1):
      leaves[members[pos]] = f'{name} # {format_number(number, number_style)}'
  return ItemIndex(
      'tid',
      {i: '' for i in leaves},
      leaves,
      [],
      params={'max_words': max_words, 'number_style': number_style},
      seed=seed,
  )
