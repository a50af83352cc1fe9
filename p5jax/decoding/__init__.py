"""p5jax.decoding: jitted beam/greedy search with trie constraints, and yes/no scoring."""

from p5jax.decoding.answer_sets import ANSWER_SETS, compile_answer_set
from p5jax.decoding.beam_search import StepFn, beam_search, greedy_search
from p5jax.decoding.trie import ItemTrie, compile_candidate_tries, compile_trie
from p5jax.decoding.yes_no import rank_by_score, yes_probability

__all__ = [
    'ANSWER_SETS',
    'ItemTrie',
    'StepFn',
    'beam_search',
    'compile_answer_set',
    'compile_candidate_tries',
    'compile_trie',
    'greedy_search',
    'rank_by_score',
    'yes_probability',
]
