"""p5jax.decoding: jitted beam/greedy search (p5jax's exact constrained search or Hugging Face's
semantics) with trie constraints, and yes/no scoring. Settings: ``beam_search``'s docstring."""

from p5jax.decoding.answer_sets import compile_answer_set
from p5jax.decoding.beam_search import MODES, beam_search
from p5jax.decoding.greedy import greedy_search
from p5jax.decoding.step import StepFn
from p5jax.decoding.trie import ItemTrie, TrieLayout, compile_candidate_tries, compile_trie
from p5jax.decoding.yes_no import rank_by_score, yes_probability

__all__ = [
    'MODES',
    'ItemTrie',
    'StepFn',
    'TrieLayout',
    'beam_search',
    'compile_answer_set',
    'compile_candidate_tries',
    'compile_trie',
    'greedy_search',
    'rank_by_score',
    'yes_probability',
]
