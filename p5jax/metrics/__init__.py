"""p5jax.metrics: seqio metric functions for P5's tasks and a P5-style table printer."""

from p5jax.metrics.ranking import (
    hit_ratio_at_k,
    make_ranking_metric,
    ndcg_at_k,
    ranking_metrics,
    target_rank,
)
from p5jax.metrics.rating import make_rating_metric, rating_metrics
from p5jax.metrics.tables import format_blocks, format_table
from p5jax.metrics.text import make_text_metric, p5_corpus_bleu, p5_rouge, text_metrics

__all__ = [
    'format_blocks',
    'format_table',
    'hit_ratio_at_k',
    'make_ranking_metric',
    'make_rating_metric',
    'make_text_metric',
    'ndcg_at_k',
    'p5_corpus_bleu',
    'p5_rouge',
    'ranking_metrics',
    'rating_metrics',
    'target_rank',
    'text_metrics',
]
