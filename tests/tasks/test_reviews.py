import collections

import numpy as np
import pytest

from p5jax import prompts
from p5jax.tasks import families, reviews, sampling

AMAZON = prompts.templates('amazon')


def test_one_example_per_review_record(make_context):
  ctx = make_context('original')
  for family in ('rating', 'review'):
    seen = prompts.family_templates('amazon', family, seen=True)
    out = list(families.examples(ctx, family, 'train', seen, 0))
    assert len(out) == len(ctx.dataset.reviews_in('train'))
  exp = list(families.examples(ctx, 'explanation', 'test', (AMAZON['3-9'],), 0))
  assert len(exp) == sum(1 for r in ctx.dataset.reviews_in('test') if r['explanation'])


def test_training_ratings_are_noisy_eval_ratings_integers(make_context):
  ctx = make_context()
  train = list(families.examples(ctx, 'rating', 'train', (AMAZON['1-1'],), 0))
  assert any('.' in e['targets'] for e in train)
  test = list(families.examples(ctx, 'rating', 'test', (AMAZON['1-1'],), 0))
  assert [e['targets'] for e in test] == [
      str(int(r['rating'])) for r in ctx.dataset.reviews_in('test')
  ]
  review = list(families.examples(ctx, 'review', 'train', (AMAZON['4-2'],), 0))
  assert all(e['targets'] in {'1', '2', '3', '4', '5'} for e in review)


@pytest.mark.parametrize(
    'rating,low,high', [(1, 1.0, 1.4), (2, 1.5, 2.4), (3, 2.5, 3.4), (4, 3.5, 4.4), (5, 4.5, 5.0)]
)
def test_gaussian_rating_noise_matches_p5(rating, low, high):
  rng = np.random.default_rng(0)
  draws = np.array([float(sampling.noisy_rating(rng, rating)) for _ in range(4000)])
  assert abs(draws.mean() - (low + high) / 2) < 0.02 and 1.0 <= draws.min() <= draws.max() <= 5
  assert 0.95 < np.mean((draws >= low - 0.05) & (draws <= high + 0.05)) < 0.999
  assert set(np.round(draws * 10) % 1) == {0}


def test_rating_yes_no_prompt(make_context):
  ctx = make_context()
  out = list(families.examples(ctx, 'rating', 'train', (AMAZON['1-3'],), 0))
  rows = reviews.records(ctx, 'rating', 'train', (AMAZON['1-3'],))
  for e, r in zip(out, rows):
    stars = int(e['inputs'].split(' a ')[1].split('-star')[0])
    assert (stars == int(r['rating'])) == (e['targets'] == 'yes')
    assert e['inputs'] == (
        f'Will user_{r["user"]} give item_{r["item"]} a {stars}-star rating ? '
        '( 1 being lowest and 5 being highest )'
    )
  assert 0.2 < collections.Counter(e['targets'] for e in out)['yes'] / len(out) < 0.8


def test_explanation_with_rating_target_and_zero_shot(make_context):
  ctx = make_context()
  e = next(families.examples(ctx, 'explanation', 'test', (AMAZON['3-7'],), 0))
  r = reviews.records(ctx, 'explanation', 'test', (AMAZON['3-7'],))[0]
  assert e['targets'] == f'{int(r["rating"])} , {r["explanation"]}'
  assert e['inputs'] == (
      f'Predict the star rating , then use {r["feature"]} as feature word to '
      f'generate user_{r["user"]} \'s purchase explanation for item_{r["item"]}'
  )
  z = next(families.examples(ctx, 'zeroshot', 'test', (AMAZON['Z-1'],), 0))
  r = ctx.dataset.reviews_in('test')[0]
  item = ctx.dataset.items[r['item']]
  assert z['inputs'] == (
      'Given the facts about the new product , do you think user_'
      f'{r["user"]} will like or dislike it ? \n title : '
      f'{item["title"] or "unknown title"} \n brand : {item["brand"]} \n '
      f'price : {item["price"]}'
  )
  assert z['targets'] == ('like' if r['rating'] >= 4 else 'dislike')


def test_original_names_the_reviewer_of_each_review(make_context):
  """P5's families 1/3/4: the review's reviewerName, else its raw reviewer id."""
  template = AMAZON['1-10']
  assert 'user_desc' in template.slots
  for protocol in ('original', 'corrected'):
    ctx = make_context(protocol)
    record = dict(ctx.dataset.reviews_in('test')[0], user_name='Reviewer Zed')
    user = int(record['user'])
    named = reviews.review_user_desc(ctx, record)
    anonymous = reviews.review_user_desc(ctx, dict(record, user_name=None))
    if protocol == 'original':
      assert (named, anonymous) == ('Reviewer Zed', ctx.dataset.users[user]['raw_id'])
    else:
      assert named == anonymous == ctx.user_desc(user)
