"""The per-word cached encoder equals SentencePiece on whole prompts (property test)."""

import numpy as np
import pytest
import seqio
from fixture_data import make_dataset

from p5jax import prompts, vocab
from p5jax.tasks import families, word_cache
from p5jax.tasks.context import DatasetContext

ITEM_TOKENS = [f'<c{i}>' for i in range(12)]


class TokenIds:
  """Collaborative-style IDs: a user-defined piece then digits (``<c3> 1 7``)."""

  def item_to_tokens(self, item: int) -> str:
    return f'{ITEM_TOKENS[item % 12]} {" ".join(str(item))}'


@pytest.fixture(scope='module')
def vocabulary(tmp_path_factory):
  sentences = vocab.template_sentences() + [
      'title lotion with café crème, 100% naïve',
      'explain the ÅNGSTRÖM™ ﬁne ｆｕｌｌ-width',
  ]
  model = vocab.train_sentencepiece(sentences, ITEM_TOKENS, vocab_size=300)
  path = tmp_path_factory.mktemp('vocab') / 'v.model'
  path.write_bytes(model)
  return seqio.SentencePieceVocabulary(str(path), extra_ids=10)


def encoder(vocabulary):
  return word_cache.WordCachedEncoder(vocabulary.tokenizer, vocabulary.sp_model)


ALPHABET = list('ab cd1 7\n\t\r,_-.:') + [
    '<c3>',
    '<c11>',
    '\xa0',
    '\u200b',
    '\u3000',
    '\ufeff',
    '\x0b',
    '\x1c',
    '\x85',
    '\u2028',
    'é',
    'e\u0301',
    '\u0301',
    'ﬁ',
    '™',
    'Ａ',
    '<extra_id_3>',
    '\U0001f600',
    '▁',
    '  ',
]


def test_random_text_encodes_exactly(vocabulary):
  enc = encoder(vocabulary)
  rng = np.random.default_rng(0)
  for _ in range(3000):
    text = ''.join(rng.choice(ALPHABET, int(rng.integers(0, 30))))
    assert enc.encode(text) == vocabulary.encode(text), repr(text)
  assert enc.encode('  ') == [] == vocabulary.encode('  ')


@pytest.mark.parametrize('protocol', ['original', 'corrected'])
def test_rendered_prompts_encode_exactly(vocabulary, protocol):
  enc = encoder(vocabulary)
  ctx = DatasetContext(make_dataset(protocol), TokenIds(), 'amazon', protocol)
  for family in ('rating', 'sequential', 'explanation', 'review', 'direct'):
    for template in prompts.family_templates('amazon', family, seen=True):
      train = families.TrainFamily(ctx, family, (template,))
      for i in range(0, train.size, max(1, train.size // 5)):
        example = train.example(0, i)
        if example is not None:
          for text in (example['inputs'], example['targets']):
            assert enc.encode(text) == vocabulary.encode(text), (template.id, text)
  assert len(enc._cache) > 50  # the words were cached


def test_a_model_without_the_per_word_property_is_encoded_whole(vocabulary):
  from sentencepiece import sentencepiece_model_pb2

  proto = sentencepiece_model_pb2.ModelProto.FromString(vocabulary.sp_model)
  proto.normalizer_spec.add_dummy_prefix = False
  assert not word_cache.per_word_exact(proto.SerializeToString())
  assert word_cache.per_word_exact(vocabulary.sp_model)
