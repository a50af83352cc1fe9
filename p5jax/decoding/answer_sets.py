"""Closed answer sets (e.g. yes/no) compiled into tries.

Decoding a rating or a binary answer under one of these constraints can only return a listed
answer, so no prediction is ever unparseable. ``encode`` is the output vocabulary's
``encode`` (text -> token ids without EOS), e.g. ``vocabulary.encode``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from p5jax.decoding.trie import ItemTrie, compile_trie


def compile_answer_set(
    answers: Sequence[str],
    encode: Callable[[str], Sequence[int]],
    *,
    vocab_size: int,
    eos_id: int = 1,
) -> ItemTrie:
  """A shared trie over the tokenised ``answers``."""
  sequences = []
  for answer in answers:
    tokens = [int(t) for t in encode(answer)]
    if not tokens:
      raise ValueError(f'answer {answer!r} encodes to no tokens')
    sequences.append(tokens + [eos_id])
  return compile_trie(sequences, vocab_size=vocab_size, eos_id=eos_id)
