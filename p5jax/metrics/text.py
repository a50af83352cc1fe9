"""BLEU-n and ROUGE-1/2/L for explanation and review summarisation, x100.

* ``corrected`` (default): maintained libraries. Corpus BLEU from ``sacrebleu`` (its 13a
    tokenizer, exponential smoothing off, ``max_ngram_order=n``) and the mean F1 of
    ``rouge-score``'s rouge1 / rouge2 / rougeL (its lower-casing tokenizer, no stemming).
* ``original``: P5's own variants, re-implemented so numbers compare with the paper: corpus BLEU
    as TF-NMT ``compute_bleu`` without smoothing on case-sensitive ``str.split()`` tokens;
    ROUGE-1/2 from *sets* of n-grams with ``F1 = 2PR / (P + R + 1e-8)``; sentence-level LCS
    ROUGE-L with ``beta = P / R``; words split on a single space; averaged over pairs. P5's
    predictions came from Hugging Face's ``batch_decode``, which (transformers 4.x) cleans up
    tokenisation spaces (``"good ." -> "good."``); ``hf_clean_up`` applies that rule to the
    predictions, not to the references, as P5 did.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import numpy as np

from p5jax.protocols import check_protocol

# --- P5's variants ---------------------------------------------------------------------------

# Hugging Face's `clean_up_tokenization_spaces` (on by default in transformers 4.x decoding).
_HF_CLEAN_UP = (
    (' .', '.'),
    (' ?', '?'),
    (' !', '!'),
    (' ,', ','),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def hf_clean_up(text: str) -> str:
  """A decoded string as Hugging Face's 4.x `batch_decode` returned it (spaces before
  punctuation and English contractions removed, in that rule order)."""
  for before, after in _HF_CLEAN_UP:
    text = text.replace(before, after)
  return text


def _ngram_counts(tokens: Sequence[str], order: int) -> collections.Counter:
  return collections.Counter(
      tuple(tokens[i : i + n]) for n in range(1, order + 1) for i in range(len(tokens) - n + 1)
  )


def p5_corpus_bleu(references: Sequence[str], hypotheses: Sequence[str], n: int = 4) -> float:
  """Corpus BLEU-n, unsmoothed: geometric mean of clipped n-gram precisions x brevity, x100."""
  matches, possible = np.zeros(n), np.zeros(n)
  ref_len = hyp_len = 0
  for ref, hyp in zip(references, hypotheses):
    r, h = ref.split(), hyp.split()
    ref_len, hyp_len = ref_len + len(r), hyp_len + len(h)
    overlap = _ngram_counts(h, n) & _ngram_counts(r, n)
    for gram, count in overlap.items():
      matches[len(gram) - 1] += count
    for k in range(n):
      possible[k] += max(len(h) - k, 0)
  precisions = np.divide(matches, possible, out=np.zeros(n), where=possible > 0)
  if precisions.min() <= 0:
    return 0.0
  geo_mean = math.exp(np.log(precisions).mean())
  ratio = hyp_len / ref_len if ref_len else 0.0
  brevity = 1.0 if ratio > 1.0 else (math.exp(1 - 1 / ratio) if ratio > 0 else 0.0)
  return 100.0 * geo_mean * brevity


def _set_rouge_n(ref: list[str], hyp: list[str], n: int) -> float:
  ref_grams = {tuple(ref[i : i + n]) for i in range(len(ref) - n + 1)}
  hyp_grams = {tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1)}
  overlap = len(ref_grams & hyp_grams)
  precision = overlap / len(hyp_grams) if hyp_grams else 0.0
  recall = overlap / len(ref_grams) if ref_grams else 0.0
  return 2.0 * precision * recall / (precision + recall + 1e-8)


def _lcs_length(a: list[str], b: list[str]) -> int:
  prev = [0] * (len(b) + 1)
  for x in a:
    cur = [0]
    for j, y in enumerate(b):
      cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
    prev = cur
  return prev[-1]


def _lcs_rouge_l(ref: list[str], hyp: list[str]) -> float:
  lcs = _lcs_length(hyp, ref)
  recall, precision = lcs / len(ref), lcs / len(hyp)
  beta = precision / (recall + 1e-12)
  return ((1 + beta**2) * recall * precision) / (recall + beta**2 * precision + 1e-12)


def p5_rouge(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
  """P5's ROUGE-1/2 (set-based) and ROUGE-L (sentence LCS) F-scores, averaged, x100."""
  scores = collections.defaultdict(list)
  for ref, hyp in zip(references, hypotheses):
    r, h = ref.split(' '), hyp.split(' ')
    scores['ROUGE-1'].append(_set_rouge_n(r, h, 1))
    scores['ROUGE-2'].append(_set_rouge_n(r, h, 2))
    scores['ROUGE-L'].append(_lcs_rouge_l(r, h))
  return {k: 100.0 * float(np.mean(v)) for k, v in scores.items()}


# --- maintained libraries --------------------------------------------------------------------


def library_corpus_bleu(references: Sequence[str], hypotheses: Sequence[str], n: int = 4) -> float:
  """sacrebleu corpus BLEU-n (0..100)."""
  from sacrebleu.metrics import BLEU

  return float(BLEU(max_ngram_order=n).corpus_score(list(hypotheses), [list(references)]).score)


def library_rouge(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
  """rouge-score mean F-measures of rouge1/rouge2/rougeL, x100."""
  from rouge_score import rouge_scorer

  scorer = rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=False)
  names = {'rouge1': 'ROUGE-1', 'rouge2': 'ROUGE-2', 'rougeL': 'ROUGE-L'}
  totals = collections.defaultdict(list)
  for ref, hyp in zip(references, hypotheses):
    for key, score in scorer.score(ref, hyp).items():
      totals[names[key]].append(score.fmeasure)
  return {k: 100.0 * float(np.mean(v)) for k, v in totals.items()}


def text_metrics(
    targets: Sequence[str],
    predictions: Sequence[str],
    *,
    bleu_orders: Sequence[int] = (1, 4),
    protocol: str = 'corrected',
) -> dict[str, float]:
  """``BLEU-n`` for each order plus ROUGE-1/2/L, all x100, under ``protocol``."""
  check_protocol(protocol)
  if len(targets) != len(predictions):
    raise ValueError(f'{len(targets)} targets but {len(predictions)} predictions')
  if not len(targets):
    raise ValueError('text_metrics needs at least one example')
  targets, predictions = [str(t) for t in targets], [str(p) for p in predictions]
  if protocol == 'original':
    predictions = [hf_clean_up(p) for p in predictions]
  bleu = p5_corpus_bleu if protocol == 'original' else library_corpus_bleu
  rouge = p5_rouge if protocol == 'original' else library_rouge
  out = {f'BLEU-{n}': bleu(targets, predictions, n) for n in bleu_orders}
  out.update(rouge(targets, predictions))
  return out


def make_text_metric(bleu_orders: Sequence[int] = (1, 4), protocol: str = 'corrected'):
  """A seqio metric ``fn(targets, predictions) -> dict`` with these settings bound."""

  def text(targets, predictions):
    return text_metrics(targets, predictions, bleu_orders=bleu_orders, protocol=protocol)

  return text
