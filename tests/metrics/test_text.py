"""BLEU / ROUGE: P5's variants vs hand-computed values, libraries wired correctly."""

import math

import pytest

from p5jax.metrics import (
    make_text_metric,
    p5_corpus_bleu,
    p5_rouge,
    text_metrics,
)


def test_p5_bleu_hand_computed():
  ref, hyp = 'the cat sat on the mat', 'the cat sat on mat'
  # 1-grams: 5/5; 2-grams: the cat, cat sat, sat on = 3/4; BP = exp(1 - 6/5)
  expected = 100 * math.sqrt(1.0 * 0.75) * math.exp(1 - 6 / 5)
  assert p5_corpus_bleu([ref], [hyp], n=2) == pytest.approx(expected)
  assert p5_corpus_bleu([ref], ['dog'], n=2) == 0.0  # no smoothing
  assert p5_corpus_bleu(['The cat'], ['the cat'], n=1) == pytest.approx(50.0)  # case-sensitive


def test_p5_rouge_is_set_based():
  out = p5_rouge(['a a b'], ['a b b'])
  # sets: {a, b} vs {a, b} -> ROUGE-1 F = 1 (count-based would be 2/3)
  assert out['ROUGE-1'] == pytest.approx(100 * 2 * 1 * 1 / (2 + 1e-8))
  # 2-grams: {aa, ab} vs {ab, bb}: P = R = 1/2
  assert out['ROUGE-2'] == pytest.approx(100 * 0.5 / (1 + 1e-8))
  # LCS(a b b, a a b) = 2 -> P = R = 2/3, beta = 1
  assert out['ROUGE-L'] == pytest.approx(100 * 2 / 3, rel=1e-6)


def test_library_protocol_agrees_on_identical_text_and_differs_on_sets():
  same = text_metrics(['a good lipstick'], ['a good lipstick'], bleu_orders=(1,))
  assert all(v == pytest.approx(100.0) for v in same.values())
  lib = make_text_metric(protocol='corrected')(['a a b'], ['a b b'])
  assert lib['ROUGE-1'] == pytest.approx(100 * 2 / 3)  # rouge-score counts n-grams
  with pytest.raises(ValueError, match='protocol'):
    text_metrics(['a'], ['a'], protocol='bogus')


def test_p5_bleu2_for_review_summaries():
  out = make_text_metric(bleu_orders=(2,), protocol='original')(['a b c'], ['a b c'])
  assert set(out) == {'BLEU-2', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L'}
  assert out['BLEU-2'] == pytest.approx(100.0)


def test_original_cleans_predictions_as_hugging_face_decoding():
  from p5jax.metrics.text import hf_clean_up

  assert hf_clean_up("it is n't great , is it ? yes .") == "it isn't great, is it? yes."
  # the prediction 'good .' is scored as 'good.', against the raw reference 'good .'
  assert text_metrics(['good .'], ['good .'], bleu_orders=(1,), protocol='original')['BLEU-1'] == 0
  assert text_metrics(['good .'], ['good .'], bleu_orders=(1,))['BLEU-1'] == pytest.approx(100)
