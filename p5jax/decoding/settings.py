"""``SearchSettings``: what greedy, constrained and Hugging Face beam search all read.

``beam_search`` builds one from its keywords of the same names and hands it to the search it
runs, so the shared settings, their checks, the start of the loop state and the trie step are
written once instead of in every search.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from p5jax.decoding import trie as trie_lib
from p5jax.decoding.processors import Processors
from p5jax.decoding.step import SCORE_MODES, PyTree


@dataclasses.dataclass(frozen=True)
class SearchSettings:
  """The settings every search shares (``beam_search``'s docstring gives their meaning)."""

  batch_size: int
  max_decode_len: int
  eos_id: int
  score_mode: str
  constraint: trie_lib.ItemTrie | None = None
  bos_id: int = 0
  min_length: int = 0
  repetition_penalty: float = 1.0

  def __post_init__(self):
    if self.score_mode not in SCORE_MODES:
      raise ValueError(f'score_mode must be one of {SCORE_MODES}, got {self.score_mode!r}')

  @property
  def processors(self) -> Processors:
    return Processors(self.eos_id, self.bos_id, self.min_length, self.repetition_penalty)

  def start(self, cache: PyTree) -> dict[str, Any]:
    """The loop state's shared part at step 0, one row per example (``cache`` holds those rows):
    the step, the decoder start token, the cache and the trie nodes (roots; zeros without)."""
    b = self.batch_size
    if self.constraint is None:
      node = jnp.zeros(b, jnp.int32)
    else:
      node = trie_lib.init(self.constraint, b)
    tokens = jnp.full((b,), self.bos_id, jnp.int32)
    return dict(i=jnp.zeros((), jnp.int32), tokens=tokens, cache=cache, node=node)

  def advance(
      self, node: jax.Array, tokens: jax.Array, alive: jax.Array | None = None
  ) -> jax.Array:
    """The trie nodes [n] after ``tokens`` [n] (``node`` as is without a constraint); a row
    not ``alive`` gets the dead node -1."""
    if self.constraint is None:
      return node
    node = trie_lib.advance(self.constraint, node, tokens)
    return node if alive is None else jnp.where(alive, node, -1)
