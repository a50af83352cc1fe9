"""Closed answer sets (yes/no, like/dislike, star ratings) compiled into tries.

Decoding a rating or a binary answer under one of these constraints can only return a listed
answer, so no prediction is ever unparseable. ``encode`` is the output vocabulary's
``encode`` (text -> token ids without EOS), e.g. ``vocabulary.encode``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from p5jax.decoding.trie import ItemTrie, compile_trie

YES_NO = ('yes', 'no')
LIKE_DISLIKE = ('like', 'dislike')
STAR_RATINGS = ('1', '2', '3', '4', '5')
DECIMAL_RATINGS = tuple(f'{i / 10:.1f}' for i in range(10, 51))  # '1.0' .. '5.0'
ANSWER_SETS = {
    'yes_no': YES_NO,
    'like_dislike': LIKE_DISLIKE,
    'stars': STAR_RATINGS,
    'decimal_ratings': DECIMAL_RATINGS,
}


def compile_answer_set(
    answers: Sequence[str] | str,
    encode: Callable[[str], Sequence[int]],
    *,
    vocab_size: int,
    eos_id: int = 1,
) -> ItemTrie:
  """A shared trie over the tokenised ``answers`` (a name from ``ANSWER_SETS`` or strings)."""
  if isinstance(answers, str):
    if answers not in ANSWER_SETS:
      raise ValueError(f'unknown answer set {answers!r}; known: {sorted(ANSWER_SETS)}')
    answers = ANSWER_SETS[answers]
  sequences = []
  for answer in answers:
    tokens = [int(t) for t in encode(answer)]
    if not tokens:
      raise ValueError(f'answer {answer!r} encodes to no tokens')
    sequences.append(tokens + [eos_id])
  return compile_trie(sequences, vocab_size=vocab_size, eos_id=eos_id)
