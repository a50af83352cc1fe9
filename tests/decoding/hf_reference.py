"""Plain-Python references of Hugging Face's generate, written from transformers' source:

- ``v5_beam``: the vectorised ``_beam_search`` of transformers >= 4.50 (the installed version);
- ``v5_greedy``: ``_sample`` without sampling;
- ``group_beam``: ``_group_beam_search`` with ``BeamSearchScorer``, as in 4.56 (the last release
  that had it: one heap of S per group) or 4.2.1 (P5's: one shared heap of K per example, one
  done flag, cut hypotheses divided by ``max_length``).

One Python loop per step, beam and candidate, lists for heaps: slow and literal on purpose.
Log-probs come from the toy decoder's own JAX step, so only the search arithmetic is compared.
"""

import jax
import numpy as np

BIG = np.float32(1e9)


class Decoder:
  """The toy decoder's scores for any prefixes (recomputed each step); example b starts from
  state ``h0[b]`` and its prefixes are rows ``b * n/B .. (b+1) * n/B - 1``."""

  def __init__(self, toy, h0: np.ndarray):
    self.toy, self.h0 = toy, np.asarray(h0, np.float32)

  def cache(self, rows_per_example: int) -> dict:
    h = np.repeat(self.h0, rows_per_example, axis=0)
    return {'h': jax.numpy.asarray(h), 'index': jax.numpy.zeros((), np.int32)}

  def logits(self, prefixes: list[list[int]]) -> np.ndarray:
    """float32 [n, V]: next-token logits; every prefix starts with the start token 0."""
    cache = self.cache(len(prefixes) // len(self.h0))
    for t in range(len(prefixes[0])):
      logits, cache = self.toy.step_fn(np.asarray([p[t] for p in prefixes], np.int32), cache)
    return np.asarray(logits, np.float32)

  def log_probs(self, prefixes: list[list[int]]) -> np.ndarray:
    """float32 [n, V]: log p(next | prefix)."""
    return np.asarray(jax.nn.log_softmax(self.logits(prefixes)), np.float32)


def _process(scores, prefix, *, eos, min_length, rep):
  """RepetitionPenalty then MinLength on one row (HF's list order)."""
  s = scores.copy()
  if rep != 1.0:
    for t in set(prefix):
      s[t] = s[t] * np.float32(rep) if s[t] < 0 else s[t] / np.float32(rep)
  if len(prefix) < min_length:
    s[eos] = -np.inf
  return s


def _pen(n, lp):
  return np.float32(float(n) ** lp)


def _topk(x, k):
  """Indices of the k largest, lowest index first on ties (as jax.lax.top_k)."""
  return list(np.argsort(-x, kind='stable')[:k])


def v5_greedy(dec, batch, max_length, *, eos=1, min_length=0, rep=1.0):
  """Token lists (start token dropped, cut at EOS) per row: processors on raw logits."""
  seqs = [[0] for _ in range(batch)]
  alive = [True] * batch
  while any(alive) and len(seqs[0]) < max_length:
    raw = dec.logits(seqs)
    for b in range(batch):
      t = int(np.argmax(_process(raw[b], seqs[b], eos=eos, min_length=min_length, rep=rep)))
      t = t if alive[b] else 0
      seqs[b].append(t)
      alive[b] = alive[b] and t != eos
  return [s[1:][: s[1:].index(eos) + 1] if eos in s[1:] else s[1:] for s in seqs]


def v5_beam(dec, batch, k, r, max_length, *, es=True, lp=1.0, eos=1, min_length=0, rep=1.0):
  """(token lists, scores) per row, best first: transformers >= 4.50 ``_beam_search``."""
  run = [[[0] for _ in range(k)] for _ in range(batch)]
  run_sc = np.full((batch, k), -BIG, np.float32)
  run_sc[:, 0] = 0
  fin = [[(-BIG, None, False)] * k for _ in range(batch)]  # (score, seq, finished)
  is_open = [True] * batch
  cur = 1
  while True:
    lps = dec.log_probs([p for row in run for p in row])
    v = lps.shape[1]
    hit_all = True
    for b in range(batch):
      acc = np.concatenate(
          [
              _process(lps[b * k + j], run[b][j], eos=eos, min_length=min_length, rep=rep)
              + run_sc[b, j]
              for j in range(k)
          ]
      ).astype(np.float32)
      top = _topk(acc, 2 * k)
      cands = [(acc[i], run[b][i // v] + [i % v]) for i in top]
      hits = [seq[-1] == eos or cur + 1 >= max_length for _, seq in cands]
      hit_all &= all(hits)
      r_sc = np.asarray([sc + np.float32(-BIG) * h for (sc, _), h in zip(cands, hits)], np.float32)
      pick = _topk(r_sc, k)
      full = all(f[2] for f in fin[b]) and es
      new = []
      for rank, ((sc, seq), h) in enumerate(zip(cands, hits)):
        f = np.float32(sc / _pen(cur, lp))
        f = np.float32(f + np.float32(-BIG) * full)
        f = np.float32(f + np.float32(-BIG) * (not is_open[b]))
        done = h and rank < k
        f = np.float32(f + np.float32(-BIG) * (not done))
        new.append((f, seq, done))
      merged = fin[b] + new
      keep = _topk(np.asarray([m[0] for m in merged], np.float32), k)
      fin[b] = [merged[i] for i in keep]
      run[b] = [cands[i][1] for i in pick]
      run_sc[b] = r_sc[pick]
    cur += 1
    for b in range(batch):
      best = run_sc[b, 0] / _pen(cur - 1, lp)
      worst = min(f[0] for f in fin[b])
      is_open[b] = is_open[b] and any(best > (worst if f[2] else -BIG) for f in fin[b])
    full_all = all(f[2] for row in fin for f in row) and es
    if not (any(is_open) and not full_all and not hit_all):
      break
  out = [[(f[1][1:], f[0]) for f in row[:r]] for row in fin]
  return [[s for s, _ in row] for row in out], [[x for _, x in row] for row in out]


class _Heap:

  def __init__(self, cap, lp):
    self.cap, self.lp, self.beams, self.worst = cap, lp, [], 1e9

  def add(self, seq, score, length):
    x = float(score) / (float(length) ** self.lp)
    if len(self.beams) < self.cap or x > self.worst:
      self.beams.append((x, seq))
      if len(self.beams) > self.cap:
        order = sorted((s, i) for i, (s, _) in enumerate(self.beams))
        del self.beams[order[0][1]]
        self.worst = order[1][0]
      else:
        self.worst = min(x, self.worst)

  def is_done(self, best, length, es):
    if len(self.beams) < self.cap:
      return False
    return True if es else self.worst >= float(best) / (float(length) ** self.lp)


def group_beam(
    dec,
    batch,
    k,
    groups,
    r,
    max_length,
    *,
    version='4.56',
    es=False,
    lp=1.0,
    diversity=0.0,
    eos=1,
    min_length=0,
    rep=1.0,
):
  """Token lists per row, best first: ``_group_beam_search`` of transformers 4.56 or 4.2.1."""
  s = k // groups
  shared = version == '4.2.1'
  heaps = [
      [_Heap(k if shared else s, lp) for _ in range(1 if shared else groups)] for _ in range(batch)
  ]
  done = [[False] * (1 if shared else groups) for _ in range(batch)]
  seqs = [[0] for _ in range(batch * k)]
  sc = np.full(batch * k, -BIG, np.float32)
  sc[::s] = 0
  while True:
    lps = dec.log_probs(seqs)
    v = lps.shape[1]
    chosen = np.zeros(batch * k, np.int64)
    nxt = [list(p) for p in seqs]
    new_sc = sc.copy()
    for g in range(groups):
      for b in range(batch):
        rows = [b * k + g * s + i for i in range(s)]
        h = 0 if shared else g
        if done[b][h]:
          for row in rows:
            nxt[row], new_sc[row], chosen[row] = seqs[rows[0]] + [0], 0.0, 0
          continue
        counts = np.bincount(chosen[b * k : b * k + g * s], minlength=v).astype(np.float32)
        acc = []
        for row in rows:
          x = lps[row].copy()
          if diversity > 0 and g > 0:
            x = (x - np.float32(diversity) * counts).astype(np.float32)
          x = _process(x, seqs[row], eos=eos, min_length=min_length, rep=rep)
          acc.append((x + sc[row]).astype(np.float32))
        acc = np.concatenate(acc)
        top = _topk(acc, 2 * s)
        length = len(seqs[rows[0]])
        taken = []
        for rank, i in enumerate(top):
          beam, tok = i // v, i % v
          if tok == eos:
            if rank < s:
              heaps[b][h].add(seqs[rows[beam]] + [eos], acc[i], length)
          else:
            taken.append((rows[beam], tok, acc[i]))
          if len(taken) == s:
            break
        for row, (src, tok, val) in zip(rows, taken):
          nxt[row], new_sc[row], chosen[row] = seqs[src] + [tok], val, tok
        # 4.2.1: one flag per example, so a group that completes it freezes the next groups
        done[b][h] = done[b][h] or heaps[b][h].is_done(acc[top[0]], length, es)
    seqs, sc = nxt, new_sc
    if all(all(d) for d in done) or len(seqs[0]) >= max_length:
      break
  cut = max_length if shared else max_length - 1
  out = []
  for b in range(batch):
    for h, heap in enumerate(heaps[b]):
      if done[b][h]:
        continue
      rows = range(b * k, (b + 1) * k) if shared else range(b * k + h * s, b * k + (h + 1) * s)
      for row in rows:
        heap.add(seqs[row], sc[row], cut)
    hyps = sorted((x for heap in heaps[b] for x in heap.beams), key=lambda t: t[0])
    out.append([hyps.pop()[1][1:] for _ in range(r)])
  return out
