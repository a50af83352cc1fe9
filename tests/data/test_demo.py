import collections
import filecmp
import os

from p5jax.data import PreparedDataset, prepare
from p5jax.data.demo import generate_raw


def test_raw_files_are_deterministic(tmp_path):
  a = generate_raw(str(tmp_path / 'a'), scale=0.2, seed=3)
  generate_raw(str(tmp_path / 'b'), scale=0.2, seed=3)
  names = sorted(os.listdir(tmp_path / 'a'))
  assert names == ['meta_Demo.json.gz', 'reviews_Demo.pickle', 'reviews_Demo_5.json.gz']
  assert filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b', names, shallow=False)[0] == names
  c = generate_raw(str(tmp_path / 'c'), scale=0.2, seed=4)
  assert not filecmp.cmp(tmp_path / 'a' / names[2], tmp_path / 'c' / names[2], shallow=False)
  assert a['users'] == 30 and a['items'] == 40 and a == {**c, 'reviews': a['reviews']}


def _hit_rates(ds):
  """HR@1 on the test item: most frequent successor of the last item vs most popular item."""
  successors = collections.defaultdict(collections.Counter)
  popularity = collections.Counter()
  for seq in ds.sequences.values():
    known = seq[:-1]
    popularity.update(known)
    for a, b in zip(known, known[1:]):
      successors[a][b] += 1
  top = popularity.most_common(1)[0][0]
  hits_t = sum(
      bool(successors[s[-2]]) and successors[s[-2]].most_common(1)[0][0] == s[-1]
      for s in ds.sequences.values()
  )
  hits_p = sum(top == s[-1] for s in ds.sequences.values())
  return hits_t / len(ds.sequences), hits_p / len(ds.sequences)


def test_default_demo_has_learnable_transitions(tmp_path):
  manifest = prepare('demo', None, str(tmp_path / 'demo'))
  ds = PreparedDataset.load(str(tmp_path / 'demo'))
  assert 100 <= manifest['num_users'] <= 300 and 100 <= manifest['num_items'] <= 300
  assert all(10 <= len(s) <= 25 for s in ds.sequences.values())
  transitions, popularity = _hit_rates(ds)
  assert transitions > 0.25 and transitions > 5 * popularity


def test_default_demo_users_are_predictable_from_their_own_purchases(tmp_path):
  """Direct prompts carry only the user, so what a user bought must predict the test item.

  Ranks each user's 100 test candidates (99 negatives + the test item) by how often the user
  bought in the item's category, then by popularity; popularity alone is the baseline.
  """
  prepare('demo', None, str(tmp_path / 'demo'))
  ds = PreparedDataset.load(str(tmp_path / 'demo'))
  category = {i: meta['categories'][-1] for i, meta in ds.items.items()}
  popularity = collections.Counter(i for seq in ds.sequences.values() for i in seq[:-2])
  hits_user = hits_pop = 0
  for user, seq in ds.sequences.items():
    candidates = list(ds.negatives[user]['test']) + [seq[-1]]
    bought = collections.Counter(category[i] for i in seq[:-2])
    by_pop = sorted(candidates, key=lambda i: -popularity[i])
    by_user = sorted(candidates, key=lambda i: (-bought[category[i]], -popularity[i]))
    hits_pop += seq[-1] in by_pop[:5]
    hits_user += seq[-1] in by_user[:5]
  assert hits_user > 3 * hits_pop


def test_ratings_follow_affinity(tmp_path):
  prepare('demo', None, str(tmp_path / 'demo'))
  ds = PreparedDataset.load(str(tmp_path / 'demo'))
  ratings = [r['rating'] for r in ds.reviews]
  assert len(set(ratings)) == 5  # the whole scale is used
  by_user = collections.defaultdict(list)
  for r in ds.reviews:
    by_user[r['user']].append(r)
  # taste proxy: the share of the user's purchases in the item's category
  high, low = [], []
  for reviews in by_user.values():
    cats = collections.Counter(ds.items[r['item']]['categories'][-1] for r in reviews)
    for r in reviews:
      share = cats[ds.items[r['item']]['categories'][-1]] / len(reviews)
      (high if share >= 0.5 else low if share < 0.15 else []).append(r['rating'])
  assert len(high) > 100 and len(low) > 100
  assert sum(high) / len(high) > sum(low) / len(low) + 0.5
  r = ds.reviews[0]
  assert r['feature'] in r['text'] and r['summary'].lower().split()[-1] == r['feature']
