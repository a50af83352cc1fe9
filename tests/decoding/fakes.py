"""A toy recurrent decoder with a cache (the StepFn protocol) and an exhaustive-search oracle."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np


class ToyDecoder:
  """h' = tanh(h W + E[token]); logits = h' O. The cache is {'h': [n, D], 'index': scalar}."""

  def __init__(self, vocab_size: int, seed: int = 0, dim: int = 8, scale: float = 2.0):
    rng = np.random.default_rng(seed)
    self.vocab_size = vocab_size
    self.w = jnp.asarray(rng.normal(size=(dim, dim)) / np.sqrt(dim), jnp.float32)
    self.emb = jnp.asarray(rng.normal(size=(vocab_size, dim)), jnp.float32)
    self.out = jnp.asarray(rng.normal(size=(dim, vocab_size)) * scale, jnp.float32)
    self.h0 = jnp.asarray(rng.normal(size=(dim,)), jnp.float32)

  def init_cache(self, n: int):
    return {'h': jnp.tile(self.h0, (n, 1)), 'index': jnp.zeros((), jnp.int32)}

  def step_fn(self, token_ids, cache, vocab_subset=None):
    h = jnp.tanh(cache['h'] @ self.w + self.emb[token_ids])
    new = {'h': h, 'index': cache['index'] + 1}
    if vocab_subset is None:
      return h @ self.out, new
    return jnp.einsum('nd,dnf->nf', h, self.out[:, vocab_subset]), new

  def full_log_probs(self, seqs: np.ndarray, bos_id: int = 0) -> np.ndarray:
    """log p(token_t | prefix) under the full softmax, [M, T, V], by teacher forcing."""
    m, t = seqs.shape
    cache = self.init_cache(m)
    tokens = jnp.full((m,), bos_id, jnp.int32)
    out = []
    for i in range(t):
      logits, cache = self.step_fn(tokens, cache)
      out.append(jax.nn.log_softmax(logits))
      tokens = jnp.asarray(seqs[:, i], jnp.int32)
    return np.asarray(jnp.stack(out, 1))


def penalty(length, alpha, kind):
  return length**alpha if kind == 'hf' else ((5.0 + length) / 6.0) ** alpha


def enumerate_unconstrained(dec: ToyDecoder, max_len: int, eos_id: int, alpha: float, kind: str):
  """All EOS-terminated sequences of length <= L and all EOS-free ones of length L, scored."""
  body = [t for t in range(dec.vocab_size) if t != eos_id]
  seqs = []
  for n in range(max_len):
    seqs += [list(p) + [eos_id] for p in itertools.product(body, repeat=n)]
  seqs += [list(p) for p in itertools.product(body, repeat=max_len)]
  return score_sequences(dec, seqs, alpha, kind)


def score_sequences(dec, seqs, alpha, kind, allowed_sets=None):
  """Penalised scores of token lists; allowed_sets(prefix) -> allowed tokens renormalises."""
  width = max(len(s) for s in seqs)
  arr = np.array([s + [0] * (width - len(s)) for s in seqs])
  lp = dec.full_log_probs(arr)
  scores = []
  for r, s in enumerate(seqs):
    total = 0.0
    for i, tok in enumerate(s):
      row = lp[r, i]
      if allowed_sets is not None:
        ok = sorted(allowed_sets(tuple(s[:i])))
        row = row - np.logaddexp.reduce(row[ok])
      total += row[tok]
    scores.append(total / penalty(len(s), alpha, kind))
  return seqs, np.array(scores)
