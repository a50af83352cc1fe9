"""Tiny raw files in every supported format, written into tmp_path by the tests."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import types

import pytest


def write_lines(path: str, lines: list[str]) -> str:
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'wt', encoding='utf-8') as f:
    for line in lines:
      f.write(line + '\n')
  return path


def amazon_review(user: str, item: str, time: int, rating: float = 5.0, **extra) -> dict:
  record = {
      'reviewerID': user,
      'asin': item,
      'reviewerName': f'name of {user}',
      'overall': rating,
      'summary': f'{user} on {item}',
      'reviewText': 'text',
      'unixReviewTime': time,
  }
  record.update(extra)
  return record


def all_buy_all(users: list[str], items: list[str], window: int | None = None) -> list[dict]:
  """User k buys `window` (default: all) items starting at item k, cyclically, at times
  1000 + 10*position; with >= 5 users and items (and a wide window) it survives 5-core."""
  out = []
  for k, user in enumerate(users):
    rotated = (items[k:] + items[:k])[:window]
    out += [
        amazon_review(user, item, 1000 + 10 * t, rating=1 + (k + t) % 5)
        for t, item in enumerate(rotated)
    ]
  return out


def write_amazon(
    raw_dir: str, reviews: list[dict], *, category: str = 'Beauty', explanations: bool = True
) -> str:
  os.makedirs(raw_dir, exist_ok=True)
  write_lines(
      os.path.join(raw_dir, f'reviews_{category}_5.json.gz'), [json.dumps(r) for r in reviews]
  )
  items = sorted({r['asin'] for r in reviews})
  write_lines(
      os.path.join(raw_dir, f'meta_{category}.json.gz'),
      [
          repr(
              {
                  'asin': i,
                  'title': f'title {i}',
                  'brand': 'B',
                  'categories': [['Beauty', 'Skin']],
                  'price': 9.5,
              }
          )
          for i in items
      ],
  )
  if explanations:
    with open(os.path.join(raw_dir, f'reviews_{category}.pickle'), 'wb') as f:
      pickle.dump(
          [
              {
                  'user': r['reviewerID'],
                  'item': r['asin'],
                  'sentence': [('scent', 'nice', f"the scent of {r['asin']} is nice", 1)],
              }
              for r in reviews
          ],
          f,
      )
  return raw_dir


@pytest.fixture
def raw() -> types.SimpleNamespace:
  """The raw-file writers above, for tests that build their own variants."""
  return types.SimpleNamespace(
      write_lines=write_lines,
      amazon_review=amazon_review,
      all_buy_all=all_buy_all,
      write_amazon=write_amazon,
  )


@pytest.fixture
def amazon_dir(tmp_path) -> str:
  """10 users x 12 items, 7 purchases each: every item has >= 5 buyers, every user 5 non-items."""
  users = [f'U{k}' for k in range(10)]
  items = [f'I{k}' for k in range(12)]
  return write_amazon(str(tmp_path / 'amazon'), all_buy_all(users, items, window=7))


@pytest.fixture
def sequences_dir(tmp_path) -> str:
  raw = tmp_path / 'seq'
  raw.mkdir()
  lines = [
      f'{u} ' + ' '.join(str((u * 3 + t) % 12 + 1) for t in range(4 + u % 4)) for u in range(1, 16)
  ]
  write_lines(str(raw / 'sequential_data.txt'), lines)
  return str(raw)
