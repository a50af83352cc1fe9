"""p5jax.decoding: jitted beam/greedy search with trie constraints, and yes/no scoring."""

from p5jax.decoding.beam_search import StepFn, beam_search, greedy_search
from p5jax.decoding.trie import ItemTrie, compile_candidate_tries, compile_trie

__all__ = ['StepFn', 'beam_search', 'greedy_search', 'ItemTrie', 'compile_trie',
           'compile_candidate_tries']
