"""How numbers are written inside ID strings.

`digits` (default): one digit per word, `1004 -> '1 0 0 4'`. Every digit is then its own piece
whatever the vocabulary, so consecutive numbers share token prefixes only through real digits,
and a trie over IDs has a branching factor of at most 10 per digit.
`whole`: the number as one word, `1004 -> '1004'`, as P5 writes it; the vocabulary decides how
it splits (T5 gives pieces such as `▁10`, `04`). Used by `original` to reproduce P5.
"""

from __future__ import annotations

NUMBER_STYLES = ('digits', 'whole')


def format_number(n: int, style: str = 'digits') -> str:
  if n < 0:
    raise ValueError(f'numbers in IDs must be non-negative, got {n}')
  if style == 'digits':
    return ' '.join(str(n))
  if style == 'whole':
    return str(n)
  raise ValueError(f'number_style must be one of {NUMBER_STYLES}, got {style!r}')
