"""The SentencePiece vocabulary of a prepared dataset and ID scheme, as a `seqio.Vocabulary`.

`build_vocabulary(prepared_dir, scheme)` trains a BPE SentencePiece model on the dataset's
text: P5 prompt templates, item titles/brands/categories, user names, review summaries, texts
and explanations, and the scheme's ID strings. The scheme's new tokens (`<c12>`, `<item_523>`,
...) are user-defined pieces, so each is exactly one id. Ids: pad=0, eos=1, unk=2, no bos; seqio
appends `extra_ids` `<extra_id_*>` pieces at the end. Digits are split (`split_digits`), so
numbers are always one piece per digit, and the word-initial digits `▁0`..`▁9` are pieces, so an
ID written `1 7 3` costs three pieces, not six; byte fallback covers any unseen character.
BPE, not unigram: on small corpora (the demo's few thousand distinct sentences) SentencePiece's
unigram trainer stops at a few hundred pieces whatever `vocab_size` asks for and splits even the
prompt words (`▁fo l low ing`), which makes every example several times longer. Or, with
`base_model=` (e.g. T5's `spiece.model`, or a Hugging Face T5 directory holding it), that model
is used with the index tokens appended as user-defined pieces (their ids follow the base
pieces, before the extra ids): P5's vocabulary, when the scheme adds no tokens.

Newlines: SentencePiece's default `nmt_nfkc` normaliser (ours and T5's) turns `\n` into a space,
so P5's `"... : \n {} \n ..."` prompts encode exactly like `"... : {} ..."` and decode without
the newline. This is what P5 trained on with T5's tokenizer; we keep it so both vocabularies
behave the same, and `normalize_text` applies the same rule to text compared after decoding.

The model is cached at `<prepared_dir>/vocab/<scheme>.model` (written atomically; from a base
model `<scheme>.base-<digest>.model`, so both can live side by side) next to a `.json` of the
settings it was built with (including the sha256 of the item index) and the model's own sha256;
a cached model is reused only when those settings match, and a model whose content no longer
matches its sha256 is an error (rebuilding it silently could change the token ids a trained
model relies on). This cache is not listed in the prepared dataset's manifest; the item index
is, and is read only through `p5jax.data.prepared.load_item_index`. `padded_vocab_size` is the
model's embedding size for a vocabulary (a multiple of 128, as T5's 32128 for 32100 pieces).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import sentencepiece as spm
import seqio
from sentencepiece import sentencepiece_model_pb2

from p5jax import paths
from p5jax.errors import UserError
from p5jax.indexing.item_index import ItemIndex, normalize_id_string
from p5jax.indexing.registry import prepared_index

DEFAULT_VOCAB_SIZE = 4000  # learned pieces besides specials, bytes and index tokens
DEFAULT_EXTRA_IDS = 100
VOCAB_SIZE_MULTIPLE = 128
BASE_MODEL_FILE = 'spiece.model'  # the SentencePiece model of a Hugging Face T5 directory
WORD_DIGITS = tuple(f'\u2581{d}' for d in range(10))  # '▁0'..'▁9'
TRAINER_VERSION = 'bpe-word-digits-1'  # part of the cache key: bump when training changes
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
_SLOT = re.compile(r'\{[^{}]*\}')
_TEMPLATE_REPEAT = 20  # weight of the prompt wording relative to one review


def normalize_text(text: str) -> str:
  """What survives an encode/decode round trip of plain text: newlines and runs of whitespace
  become one space, and the ends are stripped."""
  return normalize_id_string(text)


def _field(record: Any, name: str) -> Any:
  return record.get(name) if isinstance(record, dict) else getattr(record, name, None)


def template_sentences() -> list[str]:
  """The P5 prompt wording with slots removed (empty if `p5jax.prompts` is unavailable)."""
  try:
    from p5jax.prompts import all_template_strings
  except ImportError as e:
    logging.warning('p5jax.prompts not importable (%s); vocabulary trained without templates', e)
    return []
  return [normalize_text(_SLOT.sub(' ', s)) for s in all_template_strings()]


def corpus_sentences(dataset: Any, index: ItemIndex) -> Iterator[str]:
  """The training text of the vocabulary, one sentence per string."""
  for _ in range(_TEMPLATE_REPEAT):
    yield from template_sentences()
  for record in dataset.items.values():
    for name in ('title', 'brand'):
      if _field(record, name):
        yield str(_field(record, name))
    yield from (str(c) for c in _field(record, 'categories') or ())
  for record in dataset.users.values():
    if _field(record, 'name'):
      yield str(_field(record, 'name'))
  for record in dataset.reviews:
    for name in ('summary', 'text', 'explanation', 'feature'):
      if _field(record, name):
        yield str(_field(record, name))
  yield from index.all_id_strings()
  yield from (f'user_{u}' for u in dataset.users)


def train_sentencepiece(
    sentences: Iterable[str], new_tokens: Sequence[str], *, vocab_size: int = DEFAULT_VOCAB_SIZE
) -> bytes:
  """A serialized BPE SentencePiece model with `new_tokens` as user-defined pieces.
  `vocab_size` counts learned pieces; pad/eos/unk, the 256 byte pieces and the user-defined
  ones are added on top (`hard_vocab_limit=False`: a small corpus yields fewer pieces)."""
  text = (normalize_text(s) for s in sentences)
  out = io.BytesIO()
  spm.SentencePieceTrainer.train(
      sentence_iterator=(s for s in text if s),
      model_writer=out,
      model_type='bpe',
      vocab_size=vocab_size + len(new_tokens) + len(WORD_DIGITS) + 256 + 3,
      pad_id=PAD_ID,
      eos_id=EOS_ID,
      unk_id=UNK_ID,
      bos_id=-1,
      character_coverage=1.0,
      byte_fallback=True,
      hard_vocab_limit=False,
      split_digits=True,
      num_threads=2,
      user_defined_symbols=list(WORD_DIGITS) + [t for t in new_tokens if t not in WORD_DIGITS],
      input_sentence_size=2_000_000,
      shuffle_input_sentence=True,
      max_sentence_length=16384,
      minloglevel=2,
  )
  return out.getvalue()


def append_user_pieces(model: bytes, new_tokens: Sequence[str]) -> bytes:
  """`model` with each token not already in it appended as a USER_DEFINED piece."""
  proto = sentencepiece_model_pb2.ModelProto.FromString(model)
  present = {p.piece for p in proto.pieces}
  for token in new_tokens:
    if token not in present:
      proto.pieces.add(
          piece=token, score=0.0, type=sentencepiece_model_pb2.ModelProto.SentencePiece.USER_DEFINED
      )
      present.add(token)
  return proto.SerializeToString()


def _load_dataset(prepared_dir: str) -> Any:
  from p5jax.data import PreparedDataset

  return PreparedDataset.load(prepared_dir)


def build_vocabulary(
    prepared_dir: str,
    scheme: str,
    *,
    vocab_size: int = DEFAULT_VOCAB_SIZE,
    extra_ids: int = DEFAULT_EXTRA_IDS,
    base_model: str | None = None,
) -> seqio.SentencePieceVocabulary:
  """The vocabulary for `scheme` on this prepared dataset, trained (or extended from
  `base_model`: a SentencePiece model file or a directory holding `spiece.model`) once and
  cached under `<prepared_dir>/vocab/`."""
  dataset = _load_dataset(prepared_dir)
  index = prepared_index(prepared_dir, scheme, dataset)
  base_digest = None
  name = scheme
  if base_model is not None:
    base_model = base_model_file(base_model)
    base_bytes = paths.read_bytes(base_model)
    base_digest = hashlib.sha256(base_bytes).hexdigest()
    name = f'{scheme}.base-{base_digest[:12]}'
  settings = {
      'scheme': scheme,
      'trainer': None if base_model else TRAINER_VERSION,
      'vocab_size': None if base_model else vocab_size,
      'base_model_sha256': base_digest,
      'index_sha256': hashlib.sha256(
          json.dumps(index.to_json(), sort_keys=True).encode('utf-8')
      ).hexdigest(),
  }
  model_path = paths.join(prepared_dir, 'vocab', f'{name}.model')
  settings_path = paths.join(prepared_dir, 'vocab', f'{name}.json')
  if paths.path(model_path).exists() and paths.path(settings_path).exists():
    cached = json.loads(paths.read_bytes(settings_path))
    digest = cached.pop('model_sha256', None)  # absent in caches written before it was added
    if cached == settings:
      if digest is not None and paths.sha256_file(model_path) != digest:
        raise UserError(
            f'{model_path}: content differs from the sha256 in {settings_path} (damaged?); '
            'delete both to rebuild the vocabulary (a model trained with the old one will '
            'not match a rebuilt one)'
        )
      return load_vocabulary(model_path, extra_ids=extra_ids)
  if base_model is not None:
    model = append_user_pieces(base_bytes, index.new_tokens())
  else:
    model = train_sentencepiece(
        corpus_sentences(dataset, index), index.new_tokens(), vocab_size=vocab_size
    )
  paths.write_bytes_atomic(model_path, model)
  stored = {**settings, 'model_sha256': hashlib.sha256(model).hexdigest()}
  paths.write_bytes_atomic(settings_path, json.dumps(stored, indent=1).encode('utf-8'))
  return load_vocabulary(model_path, extra_ids=extra_ids)


def base_model_file(path: str) -> str:
  """`path` itself, or the `spiece.model` inside a (Hugging Face T5) directory."""
  model = paths.path(path)
  model = model / BASE_MODEL_FILE if model.is_dir() else model
  if not model.is_file():
    raise FileNotFoundError(
        f'{model}: no SentencePiece model (give a .model file or a directory with {BASE_MODEL_FILE})'
    )
  return str(model)


def padded_vocab_size(vocabulary: seqio.Vocabulary, multiple: int = VOCAB_SIZE_MULTIPLE) -> int:
  """The model's vocabulary rows for `vocabulary`: its size rounded up to `multiple`."""
  return -(-int(vocabulary.vocab_size) // multiple) * multiple


def load_vocabulary(path: str, extra_ids: int = DEFAULT_EXTRA_IDS) -> seqio.SentencePieceVocabulary:
  if not paths.path(path).exists():
    raise FileNotFoundError(f'no SentencePiece model at {path}')
  return seqio.SentencePieceVocabulary(path, extra_ids=extra_ids)


def word_start_table(vocabulary: seqio.SentencePieceVocabulary) -> np.ndarray:
  """bool [vocab_size]: True where the piece starts a word (begins with '▁'); False for pad,
  eos, unk, byte pieces and continuation pieces. Extra ids (`▁<extra_id_*>`) count as words."""
  sp = vocabulary.tokenizer
  size = vocabulary.vocab_size
  table = np.zeros(size, bool)
  for i in range(min(size, sp.get_piece_size())):
    table[i] = sp.id_to_piece(i).startswith('▁') and not (
        sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i)
    )
  return table
