"""beam_search(mode='hf') against plain-Python references of Hugging Face's generate.

Group beam search left transformers in 4.56 (the installed version cannot run it), so groups
are checked against ``hf_reference.group_beam``, written from 4.56's and 4.2.1's source.
``tests/models/test_hf_parity.py`` compares the plain beam and greedy searches with the
installed transformers itself.
"""

import functools

import jax
import numpy as np
import pytest

from p5jax.decoding import beam_search, compile_trie
from tests.decoding.fakes import ToyDecoder
from tests.decoding.hf_reference import Decoder, group_beam, v5_beam, v5_greedy

EOS, V, B = 1, 9, 2
TOY = ToyDecoder(vocab_size=V, seed=21, scale=3.0)
TOY.out = TOY.out.at[:, EOS].multiply(2.0)  # EOS wins often, at varied steps (2/3 of outputs)
H0 = np.random.default_rng(5).normal(size=(B, 8)).astype(np.float32) * 2
REF = Decoder(TOY, H0)


@functools.partial(jax.jit, static_argnames=('k', 'r', 'length', 'settings'))
def decode(k, r, length, settings, constraint=None):
  return beam_search(
      TOY.step_fn,
      REF.cache(k),
      batch_size=B,
      num_decodes=r,
      max_decode_len=length,
      eos_id=EOS,
      mode='hf',
      num_beams=k,
      constraint=constraint,
      **dict(settings),
  )


def tokens(row):
  row = [int(t) for t in row]
  return row[: row.index(EOS) + 1] if EOS in row else row


@pytest.mark.parametrize(
    'k,r,max_length,settings',
    [
        (4, 4, 6, dict(early_stopping=True)),
        (3, 2, 7, dict(early_stopping=False)),
        (4, 3, 5, dict(early_stopping=False, alpha=2.0, min_length=3)),
        (2, 2, 8, dict(early_stopping=True, alpha=0.5, repetition_penalty=0.7)),
        (4, 1, 6, dict(early_stopping=False, repetition_penalty=1.3, min_length=4)),
    ],
)
def test_beam_matches_transformers_v5(k, r, max_length, settings):
  want, want_scores = v5_beam(
      REF,
      B,
      k,
      r,
      max_length,
      es=settings['early_stopping'],
      lp=settings.get('alpha', 1.0),
      min_length=settings.get('min_length', 0),
      rep=settings.get('repetition_penalty', 1.0),
  )
  seqs, scores = decode(k, r, max_length - 1, tuple(sorted(settings.items())))
  got = [[tokens(s) for s in row] for row in np.asarray(seqs)]
  assert got == want
  np.testing.assert_allclose(np.asarray(scores), want_scores, rtol=1e-6)


@pytest.mark.parametrize(
    'max_length,settings',
    [
        (7, dict()),
        (9, dict(min_length=6, repetition_penalty=1.5)),
        (8, dict(repetition_penalty=0.6)),
    ],
)
def test_greedy_matches_transformers_v5(max_length, settings):
  want = v5_greedy(
      REF,
      B,
      max_length,
      min_length=settings.get('min_length', 0),
      rep=settings.get('repetition_penalty', 1.0),
  )
  seqs, _ = decode(1, 1, max_length - 1, tuple(sorted(settings.items())))
  assert [tokens(row[0]) for row in np.asarray(seqs)] == want


@pytest.mark.parametrize(
    'k,groups,r,max_length,version,settings',
    [
        (6, 3, 3, 7, '4.56', dict(diversity_penalty=1.0, early_stopping=False)),
        (4, 2, 2, 6, '4.56', dict(diversity_penalty=0.5, early_stopping=True, min_length=3)),
        (
            6,
            2,
            2,
            6,
            '4.56',
            dict(diversity_penalty=2.0, early_stopping=False, repetition_penalty=0.7),
        ),
        # P5's explanation settings (12 beams in 3 groups, no diversity) on transformers 4.2.1
        (6, 3, 1, 7, '4.2.1', dict(early_stopping=False, min_length=4, repetition_penalty=0.7)),
        (6, 3, 1, 8, '4.2.1', dict(early_stopping=False, min_length=3)),
    ],
)
def test_group_beam_matches_the_last_in_library_versions(
    k, groups, r, max_length, version, settings
):
  want = group_beam(
      REF,
      B,
      k,
      groups,
      r,
      max_length,
      version=version,
      es=settings['early_stopping'],
      diversity=settings.get('diversity_penalty', 0.0),
      min_length=settings.get('min_length', 0),
      rep=settings.get('repetition_penalty', 1.0),
  )
  settings = dict(settings, num_beam_groups=groups)
  seqs, _ = decode(k, r, max_length - 1, tuple(sorted(settings.items())))
  assert [[tokens(s) for s in row] for row in np.asarray(seqs)] == want


def test_hf_mode_under_a_constraint_returns_only_allowed_items():
  items = [[2, EOS], [3, 4, EOS], [3, 5, EOS], [6, 6, 6, EOS]]
  trie = compile_trie(items, vocab_size=V, eos_id=EOS)
  seqs, scores = decode(3, 3, 4, (('early_stopping', True),), trie)
  scores = np.asarray(scores)
  for b in range(B):
    valid = np.isfinite(scores[b])
    assert valid.sum() == 3 and np.all(np.diff(scores[b]) <= 0)
    got = [tokens(s) for s in np.asarray(seqs)[b][valid]]
    assert all(s in items for s in got) and len({tuple(s) for s in got}) == 3


def test_bad_settings_raise():
  kw = dict(batch_size=B, num_decodes=2, max_decode_len=3, eos_id=EOS)
  with pytest.raises(ValueError, match='mode'):
    beam_search(TOY.step_fn, REF.cache(2), mode='sample', **kw)
  with pytest.raises(ValueError, match="mode='hf'"):
    beam_search(TOY.step_fn, REF.cache(2), num_beam_groups=2, **kw)
  with pytest.raises(ValueError, match='multiple of num_beam_groups'):
    beam_search(TOY.step_fn, REF.cache(3), mode='hf', num_beams=3, num_beam_groups=2, **kw)
  with pytest.raises(ValueError, match='num_beams'):
    beam_search(TOY.step_fn, REF.cache(1), mode='hf', num_beams=1, **kw)
