"""Exact SentencePiece encoding of prompt text through a per-word cache.

SentencePiece with ``split_by_whitespace`` (and a dummy prefix, extra whitespace removed) encodes
each whitespace-separated word on its own, so a prompt's ids are the concatenation of its words'
ids. P5 prompts repeat the same few thousand words (template wording, item IDs, user ids,
separators), so caching each word's ids turns re-tokenizing a rendered prompt into one dictionary
lookup per word. Words are split only at ASCII space, newline, tab and carriage return (which the
normaliser turns into spaces); any other character, including Unicode spaces, stays inside its
word and is encoded by SentencePiece itself, so the result is exactly ``vocabulary.encode(text)``
(tests/tasks/test_word_cache.py checks random text, user-defined pieces and digits). A model
whose settings break the per-word property is encoded whole, uncached.
"""

from __future__ import annotations

import re

from sentencepiece import sentencepiece_model_pb2

_SPLIT = re.compile('[ \n\t\r]+')
MAX_CACHED_WORDS = 1_000_000  # a bound for free text (reviews); P5 prompts stay far below it


def per_word_exact(model_proto: bytes) -> bool:
  """Whether a serialized SentencePiece model encodes whitespace-separated words independently."""
  proto = sentencepiece_model_pb2.ModelProto.FromString(model_proto)
  norm, trainer = proto.normalizer_spec, proto.trainer_spec
  user_pieces_ok = all(
      '\u2581' not in p.piece[1:]
      for p in proto.pieces
      if p.type == sentencepiece_model_pb2.ModelProto.SentencePiece.USER_DEFINED
  )
  return bool(
      norm.add_dummy_prefix
      and norm.remove_extra_whitespaces
      and trainer.split_by_whitespace
      and not trainer.treat_whitespace_as_suffix
      and user_pieces_ok
  )


class WordCachedEncoder:
  """``encode(text)`` equal to ``tokenizer.EncodeAsIds(text)``, cached per word.

  ``tokenizer``: a ``sentencepiece.SentencePieceProcessor`` (e.g. a seqio vocabulary's
  ``tokenizer``); ``model_proto``: its serialized model (to check the per-word property).
  """

  def __init__(self, tokenizer, model_proto: bytes):
    self._encode_whole = tokenizer.EncodeAsIds
    self._exact = per_word_exact(model_proto)
    self._cache: dict[str, list[int]] = {}

  def encode(self, text: str) -> list[int]:
    if not self._exact:
      return self._encode_whole(text)
    cache, out = self._cache, []
    for word in _SPLIT.split(text):
      ids = cache.get(word)
      if ids is None:
        ids = self._encode_whole(word) if word else []
        if len(cache) < MAX_CACHED_WORDS:
          cache[word] = ids
      out += ids
    return out

  def count(self, text: str) -> int:
    """Number of pieces of ``text`` (no EOS)."""
    return len(self.encode(text))
