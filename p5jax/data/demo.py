"""The embedded demo dataset: deterministic Amazon-style raw files with learnable structure.

`generate_raw(out_dir, scale=1.0, seed=0)` writes `reviews_Demo_5.json.gz`, `meta_Demo.json.gz`
and the explanation pickle `reviews_Demo.pickle`, read by the ordinary Amazon reader.

What a model can learn from it:
- each user has a concentrated taste over item categories (Dirichlet, alpha 0.05: mostly one or
  two categories), so a user's ID predicts what they buy (direct prompts carry only the ID);
- each item has 3 likely successors (two in its category, one in the "next" category) with
  weights 0.6/0.25/0.15, and a purchase follows the previous item's successors with
  probability 0.85, so "the most frequent successor of the last item" is a strong predictor;
- otherwise purchases follow taste x a heavy-tailed popularity (head ~50x tail; a popularity
  baseline gets only the skew, not the transitions);
- ratings rise with the user's taste for the item's category plus an item quality; summary,
  text, explanation and feature word are templated from the rating and the category's features.

Default size (scale=1): 150 users, 150 items, 10..25 purchases per user (~2.6k interactions).
Few users with long histories is what lets a tiny T5 learn them in minutes on 2 CPU cores: the
README's 700 steps show each user ~40 times across the families (with 400 users and 5..15
purchases, the previous design, the same budget left the model at the popularity prior;
bench/RESULTS.md §4). `scale` multiplies users and items (scale 150: ~22k users and as many
items).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
from importlib import resources

import numpy as np

# Bumped whenever the generated data changes: it names the cache directory, so a cache built
# by an older p5jax is never mistaken for the current demo.
DEMO_VERSION = 3  # 3: per-purpose seeds (item numbering, review split, negatives)
BASE_USERS, BASE_ITEMS = 150, 150
MIN_LEN, MAX_LEN = 10, 25
TASTE_ALPHA = 0.05
FOLLOW_PROB = 0.85
SUCCESSOR_WEIGHTS = (0.6, 0.25, 0.15)


def _load_vocabulary() -> dict:
  """The words the generator draws from (`demo_vocabulary.json`, shipped with the package):
  department -> category -> the features its reviews talk about, title brands and styles,
  reviewer names, and per-rating adjectives and closing sentences."""
  text = resources.files('p5jax.data').joinpath('demo_vocabulary.json').read_text('utf-8')
  words = json.loads(text)
  for key in ('adjectives', 'closings'):
    words[key] = {int(rating): value for rating, value in words[key].items()}
  return words


_WORDS = _load_vocabulary()
_CATALOG = _WORDS['catalog']
_BRANDS, _STYLES = _WORDS['brands'], _WORDS['styles']
_FIRST, _LAST = _WORDS['first_names'], _WORDS['last_initials']
_ADJECTIVES, _CLOSINGS = _WORDS['adjectives'], _WORDS['closings']


def _leaves() -> list[tuple[str, str]]:
  return [(dept, leaf) for dept, leaves in _CATALOG.items() for leaf in leaves]


def _gzip_lines(path: str, lines: list[str]) -> None:
  """gzip with mtime 0 and no file name, so the bytes depend only on the content."""
  with open(path, 'wb') as raw, gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0) as gz:
    with io.TextIOWrapper(gz, encoding='utf-8') as f:
      for line in lines:
        f.write(line + '\n')


def _raw_ids(rng: np.random.Generator, n: int, prefix: str, width: int) -> list[str]:
  alphabet = np.array(list('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'))
  ids: list[str] = []
  seen: set[str] = set()
  while len(ids) < n:
    candidate = prefix + ''.join(rng.choice(alphabet, size=width))
    if candidate not in seen:
      seen.add(candidate)
      ids.append(candidate)
  return ids


def generate_raw(out_dir: str, scale: float = 1.0, seed: int = 0) -> dict[str, int]:
  """Writes the demo's raw files into `out_dir`; returns {'users', 'items', 'reviews'}."""
  rng = np.random.default_rng(seed)
  num_users = max(20, round(BASE_USERS * scale))
  num_items = max(40, round(BASE_ITEMS * scale))
  leaves = _leaves()
  num_cats = len(leaves)
  category = np.arange(num_items) % num_cats
  rng.shuffle(category)
  # heavy-tailed but scale-free: the head item is ~50x the tail at every size
  popularity = 1.0 / (1.0 + 50.0 * rng.permutation(num_items) / num_items)
  quality = rng.normal(0.0, 0.35, num_items)
  successors = _successors(rng, category, popularity, num_cats)
  asins = _raw_ids(rng, num_items, 'B00', 7)
  user_ids = _raw_ids(rng, num_users, 'A', 12)
  names = [
      f'{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]}.'
      for _ in range(num_users)
  ]
  tastes = rng.dirichlet(np.full(num_cats, TASTE_ALPHA), size=num_users)

  reviews, explanations = [], []
  for u in range(num_users):
    items = _purchases(rng, tastes[u], category, popularity, successors)
    time = 1_300_000_000 + int(rng.integers(0, 30_000_000))
    for item in items:
      time += int(rng.integers(1, 60)) * 86_400
      dept, leaf = leaves[category[item]]
      affinity = np.log(tastes[u, category[item]] * num_cats + 1e-3)
      rating = int(
          np.clip(np.rint(3.5 + 0.9 * affinity + quality[item] + rng.normal(0.0, 0.4)), 1, 5)
      )
      features = _CATALOG[dept][leaf]
      feature = features[rng.integers(len(features))]
      adjective = _ADJECTIVES[rating][rng.integers(3)]
      sentence = f'the {feature} is {adjective}'
      title = _title(item, asins, category, leaves)
      review = {
          'reviewerID': user_ids[u],
          'asin': asins[item],
          'helpful': [0, 0],
          'overall': float(rating),
          'summary': f'{adjective.capitalize()} {feature}',
          'reviewText': f'I bought the {title}. The {feature} is {adjective}. '
          f'{_CLOSINGS[rating]}',
          'unixReviewTime': time,
      }
      if u % 20 != 7:  # a few reviewers have no name, as in the real files
        review['reviewerName'] = names[u]
      has_sentence = rng.random() < 0.9
      explanations.append(
          {
              'user': user_ids[u],
              'item': asins[item],
              'rating': rating,
              'text': review['reviewText'],
              'sentence': [(feature, adjective, sentence, 1 if rating >= 3 else -1)]
              if has_sentence
              else [],
          }
      )
      reviews.append((asins[item], user_ids[u], review))
  order = sorted(range(len(reviews)), key=lambda k: reviews[k][:2])  # McAuley: by asin
  os.makedirs(out_dir, exist_ok=True)
  _gzip_lines(
      os.path.join(out_dir, 'reviews_Demo_5.json.gz'), [json.dumps(reviews[k][2]) for k in order]
  )
  with open(os.path.join(out_dir, 'reviews_Demo.pickle'), 'wb') as f:
    pickle.dump([explanations[k] for k in order], f, protocol=4)
  _gzip_lines(
      os.path.join(out_dir, 'meta_Demo.json.gz'),
      [repr(_meta(i, asins, category, leaves, rng)) for i in range(num_items)],
  )
  return {'users': num_users, 'items': num_items, 'reviews': len(reviews)}


def _successors(rng, category, popularity, num_cats) -> np.ndarray:
  """[items, 3]: two items of the same category, one of the next (weights: sqrt popularity)."""
  num_items = len(category)
  out = np.zeros((num_items, 3), np.int64)
  for i in range(num_items):
    same = np.flatnonzero((category == category[i]) & (np.arange(num_items) != i))
    nxt = np.flatnonzero(category == (category[i] + 1) % num_cats)
    p = np.sqrt(popularity[same]) / np.sqrt(popularity[same]).sum()
    out[i, :2] = rng.choice(same, size=2, replace=False, p=p)
    out[i, 2] = rng.choice(nxt, p=np.sqrt(popularity[nxt]) / np.sqrt(popularity[nxt]).sum())
  return out


def _purchases(rng, taste, category, popularity, successors) -> list[int]:
  """One user's chronological purchases (no repeats)."""
  length = int(rng.integers(MIN_LEN, MAX_LEN + 1))
  base = taste[category] * popularity
  bought: list[int] = []
  while len(bought) < length:
    item = -1
    if bought and rng.random() < FOLLOW_PROB:
      item = int(successors[bought[-1], rng.choice(3, p=SUCCESSOR_WEIGHTS)])
    if item < 0 or item in bought:
      p = base.copy()
      p[bought] = 0.0
      item = int(rng.choice(len(p), p=p / p.sum()))
    bought.append(item)
  return bought


def _title(item, asins, category, leaves) -> str:
  dept, leaf = leaves[category[item]]
  digest = int(asins[item][3:], 36)
  brand = _BRANDS[digest % len(_BRANDS)]
  style = _STYLES[(digest // len(_BRANDS)) % len(_STYLES)]
  return f"{brand} {style} {leaf[:-1] if leaf.endswith('s') else leaf}"


def _meta(item, asins, category, leaves, rng) -> dict:
  dept, leaf = leaves[category[item]]
  title = _title(item, asins, category, leaves)
  record = {
      'asin': asins[item],
      'title': title,
      'brand': title.split()[0],
      'categories': [['Demo', dept, leaf]],
  }
  if rng.random() < 0.9:
    record['price'] = round(float(np.exp(rng.normal(2.6, 0.5))), 2)
  return record
