"""Pins every P5 template: rendering a fixture equals P5's positional code string filled in order.

The table holds P5's own code strings (positional ``{}``) and argument order from spec §1.3/§1.5,
independent of the named-slot form stored in ``p5jax.prompts``.
"""

import pytest

from p5jax import prompts

FIXTURE = {
    'user_id': '23', 'item_id': '7391', 'user_desc': 'Ann Lee', 'item_title': 'Silk Soap',
    'star_rating': '4', 'yes_no': 'yes', 'like_dislike': 'like',
    'purchase_history': '5 , 9 , 12', 'visit_history': '5 -> 9 -> 12',
    'candidates': '3 , 77 , 12', 'groundtruth_item_ids': '12', 'feature': 'scent',
    'explanation': 'smells great', 'review_headline': 'Nice', 'review_body': 'I like it a lot .',
    'brand': 'Acme', 'price': '9.5',
}

# (variant, id, P5 source string, source args in order, P5 target string, target args)
P5_CODE = [
    ('amazon', '1-1', 'Which star rating will user_{} give item_{} ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_id'), '{}', ('star_rating',)),
    ('amazon', '1-2', 'How will user_{} rate this product : {} ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_title'), '{}', ('star_rating',)),
    ('amazon', '1-3', 'Will user_{} give item_{} a {}-star rating ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_id', 'star_rating'), '{}', ('yes_no',)),
    ('amazon', '1-4', 'Does user_{} like or dislike item_{} ?',
     ('user_id', 'item_id'), '{}', ('like_dislike',)),
    ('amazon', '1-5', "Predict the user_{} 's preference on item_{} ( {} ) \n -1 \n -2 \n -3 \n -4 \n -5",
     ('user_id', 'item_id', 'item_title'), '{}', ('star_rating',)),
    ('amazon', '1-6', 'What star rating do you think {} will give item_{} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_id'), '{}', ('star_rating',)),
    ('amazon', '1-7', 'How will {} rate this product : {} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_title'), '{}', ('star_rating',)),
    ('amazon', '1-8', 'Will {} give a {}-star rating for {} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'star_rating', 'item_title'), '{}', ('yes_no',)),
    ('amazon', '1-9', 'Does {} like or dislike {} ?',
     ('user_desc', 'item_title'), '{}', ('like_dislike',)),
    ('amazon', '1-10', "Predict {} 's preference towards {} ( 1 being lowest and 5 being highest )",
     ('user_desc', 'item_title'), '{}', ('star_rating',)),
    ('amazon', '2-1', 'Given the following purchase history of user_{} : \n {} \n predict next possible item to be purchased by the user ?',
     ('user_id', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-2', 'I find the purchase history list of user_{} : \n {} \n I wonder what is the next item to recommend to the user . Can you help me decide ?',
     ('user_id', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-3', 'Here is the purchase history list of user_{} : \n {} \n try to recommend next item to the user',
     ('user_id', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-4', 'Given the following purchase history of {} : \n {} \n predict next possible item for the user',
     ('user_desc', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-5', 'Based on the purchase history of {} : \n {} \n Can you decide the next item likely to be purchased by the user ?',
     ('user_desc', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-6', 'Here is the purchase history of {} : \n {} \n What to recommend next for the user ?',
     ('user_desc', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '2-7', 'Here is the purchase history of user_{} : \n {} \n Select the next possible item likely to be purchased by the user from the following candidates : \n {}',
     ('user_id', 'purchase_history', 'candidates'), '{}', ('item_id',)),
    ('amazon', '2-8', 'Given the following purchase history of {} : \n {} \n What to recommend next for the user? Select one from the following items : \n {}',
     ('user_desc', 'purchase_history', 'candidates'), '{}', ('item_id',)),
    ('amazon', '2-9', 'Based on the purchase history of user_{} : \n {} \n Choose the next possible purchased item from the following candidates : \n {}',
     ('user_id', 'purchase_history', 'candidates'), '{}', ('item_id',)),
    ('amazon', '2-10', 'I find the purchase history list of {} : \n {} \n I wonder which is the next item to recommend to the user . Try to select one from the following candidates : \n {}',
     ('user_desc', 'purchase_history', 'candidates'), '{}', ('item_id',)),
    ('amazon', '2-11', 'user_{} has the following purchase history : \n {} \n does the user likely to buy {} next ?',
     ('user_id', 'purchase_history', 'item_id'), '{}', ('yes_no',)),
    ('amazon', '2-12', "According to {} 's purchase history list : \n {} \n Predict whether the user will purchase {} next ?",
     ('user_desc', 'purchase_history', 'item_id'), '{}', ('yes_no',)),
    ('amazon', '2-13', 'According to the purchase history of {} : \n {} \n Can you recommend the next possible item to the user ?',
     ('user_desc', 'purchase_history'), '{}', ('item_id',)),
    ('amazon', '3-1', 'Generate an explanation for user_{} about this product : {}',
     ('user_id', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-2', 'Given the following review headline \n {} \n can you help generate an explanation of user_{} for item_{} ?',
     ('review_headline', 'user_id', 'item_id'), '{}', ('explanation',)),
    ('amazon', '3-3', 'Help user_{} generate a {}-star explanation about this product : \n {}',
     ('user_id', 'star_rating', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-4', 'Generate an explanation for {} about this product : {}',
     ('user_desc', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-5', "Based on the following review headline : \n {} \n Generate {} 's purchase explanation about {}",
     ('review_headline', 'user_desc', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-6', 'Help {} generate a {}-star explanation for item_{}',
     ('user_desc', 'star_rating', 'item_id'), '{}', ('explanation',)),
    ('amazon', '3-7', "Predict the star rating , then use {} as feature word to generate user_{} 's purchase explanation for item_{}",
     ('feature', 'user_id', 'item_id'), '{} , {}', ('star_rating', 'explanation')),
    ('amazon', '3-8', 'What score will {} rate item_{} ? Then give an explanation for the rating score . ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_id'), '{} , {}', ('star_rating', 'explanation')),
    ('amazon', '3-9', 'Based on the feature word {} , generate an explanation for user_{} about this product : {}',
     ('feature', 'user_id', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-10', 'Given the word {} , can you help generate an explanation for {} about the product : \n {}',
     ('feature', 'user_desc', 'item_title'), '{}', ('explanation',)),
    ('amazon', '3-11', 'Using the word {} , write a {}-star explanation for user_{} about item_{}',
     ('feature', 'star_rating', 'user_id', 'item_id'), '{}', ('explanation',)),
    ('amazon', '3-12', 'According to the feature word {} , generate a {}-star explanation for {} about item_{}',
     ('feature', 'star_rating', 'user_desc', 'item_id'), '{}', ('explanation',)),
    ('amazon', '4-1', 'Write a short sentence to summarize the following product review from user_{} : \n {}',
     ('user_id', 'review_body'), '{}', ('review_headline',)),
    ('amazon', '4-2', 'Given the following review written by user_{} : \n {} \n Can you predict the associated star rating ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'review_body'), '{}', ('star_rating',)),
    ('amazon', '4-3', 'Give a short sentence describing the following product review from {}: \n {}',
     ('user_desc', 'review_body'), '{}', ('review_headline',)),
    ('amazon', '4-4', 'According to the following review written by {} : \n {} \n Predict the associated star rating ( 1 being lowest and 5 being highest )',
     ('user_desc', 'review_body'), '{}', ('star_rating',)),
    ('amazon', '5-1', 'Will user_{} likely to interact with item_{} ?',
     ('user_id', 'item_id'), '{}', ('yes_no',)),
    ('amazon', '5-2', 'Shall we recommend item_{} to {} ?',
     ('item_id', 'user_desc'), '{}', ('yes_no',)),
    ('amazon', '5-3', 'For {}, do you think it is good to recommend {} ?',
     ('user_desc', 'item_title'), '{}', ('yes_no',)),
    ('amazon', '5-4', 'I would like to recommend some items for user_{} . Is the following item a good choice ? \n {}',
     ('user_id', 'item_title'), '{}', ('yes_no',)),
    ('amazon', '5-5', 'Which item of the following to recommend for {} ? \n {}',
     ('user_desc', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('amazon', '5-6', 'Choose the best item from the candidates to recommend for {} ? \n {}',
     ('user_desc', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('amazon', '5-7', 'Pick the most suitable item from the following list and recommend to user_{} : \n {}',
     ('user_id', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('amazon', '5-8', 'We want to make recommendation for user_{} .  Select the best item from these candidates : \n {}',
     ('user_id', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('amazon', 'Z-1', 'Given the facts about the new product , do you think user_{} will like or dislike it ? \n title : {} \n brand : {} \n price : {}',
     ('user_id', 'item_title', 'brand', 'price'), '{}', ('like_dislike',)),
    ('amazon', 'Z-2', 'Here are the details about a new product : \n title : {} \n brand : {} \n price : {} \n What star will {} probably rate the product ? \n -1 \n -2 \n -3 \n -4 \n -5',
     ('item_title', 'brand', 'price', 'user_desc'), '{}', ('star_rating',)),
    ('amazon', 'Z-3', "Predict user_{} 's preference about the new product ( 1 being lowest and 5 being highest ) : \n title : {} \n price : {} \n brand : {}",
     ('user_id', 'item_title', 'price', 'brand'), '{}', ('star_rating',)),
    ('amazon', 'Z-4', 'Will {} like or dislike the following product ? \n title : {} \n price : {} \n brand : {}',
     ('user_desc', 'item_title', 'price', 'brand'), '{}', ('like_dislike',)),
    ('amazon', 'Z-5', "Generate a possible explanation for {} 's preference about the following product : \n title : {} \n brand : {} \n price : {}",
     ('user_desc', 'item_title', 'brand', 'price'), '{}', ('explanation',)),
    ('amazon', 'Z-6', 'Based on the word {} , help user_{} write a {}-star explanation for this new product : \n title : {} \n price : {} \n brand : {}',
     ('feature', 'user_id', 'star_rating', 'item_title', 'price', 'brand'), '{}', ('explanation',)),
    ('amazon', 'Z-7', 'For the new product {} , we would like to know whether {} will love it . If you think the user will love it , please help explain why .',
     ('item_title', 'user_desc'), '{}', ('explanation',)),
    ('yelp', '1-1', 'Which star rating will user_{} give item_{} ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_id'), '{}', ('star_rating',)),
    ('yelp', '1-2', 'How will user_{} rate this business : {} ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_title'), '{}', ('star_rating',)),
    ('yelp', '1-3', 'Will user_{} give item_{} a {}-star rating ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'item_id', 'star_rating'), '{}', ('yes_no',)),
    ('yelp', '1-4', 'Does user_{} like or dislike item_{} ?',
     ('user_id', 'item_id'), '{}', ('like_dislike',)),
    ('yelp', '1-5', 'Predict the user_{}’s preference on item_{} ( {} ) \n -1 \n -2 \n -3 \n -4 \n -5',
     ('user_id', 'item_id', 'item_title'), '{}', ('star_rating',)),
    ('yelp', '1-6', 'What star rating do you think {} will give item_{} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_id'), '{}', ('star_rating',)),
    ('yelp', '1-7', 'How will {} rate this business : {} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_title'), '{}', ('star_rating',)),
    ('yelp', '1-8', 'Will {} give a {}-star rating for {} ? ( 1 being lowest and 5 being highest )',
     ('user_desc', 'star_rating', 'item_title'), '{}', ('yes_no',)),
    ('yelp', '1-9', 'Does {} like or dislike {} ?',
     ('user_desc', 'item_title'), '{}', ('like_dislike',)),
    ('yelp', '1-10', 'Predict {} ’s preference towards {} ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_title'), '{}', ('star_rating',)),
    ('yelp', '2-1', 'Given the following visit history of user_{} : \n {} \n predict next possible business to be visited by the user ?',
     ('user_id', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-2', 'I find the visit history list of user_{} : \n {} \n I wonder what is the next item to recommend to the user . Can you help me decide ?',
     ('user_id', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-3', 'Here is the visit history list of user_{} : \n {} \n try to recommend next item to the user',
     ('user_id', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-4', 'Given the following visit history of {} : \n {} \n predict next possible business for the user',
     ('user_desc', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-5', 'Based on the visit history of {} : \n {} \n Can you decide the next business likely to be visited by the user ?',
     ('user_desc', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-6', 'Here is the visit history of {} : \n {} \n What to recommend next for the user ?',
     ('user_desc', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '2-7', 'Here is the visit history of user_{} : \n {} \n Select the next possible business likely to be visited by the user from the following candidates : \n {}',
     ('user_id', 'visit_history', 'candidates'), '{}', ('item_id',)),
    ('yelp', '2-8', 'Given the following visit history of {} : \n {} \n What to recommend next for the user? Select one from the following items : \n {}',
     ('user_desc', 'visit_history', 'candidates'), '{}', ('item_id',)),
    ('yelp', '2-9', 'Based on the visit history of user_{} : \n {} \n Choose the next possible visited business from the following candidates : \n {}',
     ('user_id', 'visit_history', 'candidates'), '{}', ('item_id',)),
    ('yelp', '2-10', 'I find the visit history list of {} : \n {} \n I wonder which is the next item to recommend to the user . Try to select one from the following candidates : \n {}',
     ('user_desc', 'visit_history', 'candidates'), '{}', ('item_id',)),
    ('yelp', '2-11', 'user_{} has the following visit history : \n {} \n does the user likely to visit {} next ?',
     ('user_id', 'visit_history', 'item_id'), '{}', ('yes_no',)),
    ('yelp', '2-12', "According to {} 's visit history list : \n {} \n Predict whether the user will visit {} next ?",
     ('user_desc', 'visit_history', 'item_id'), '{}', ('yes_no',)),
    ('yelp', '2-13', 'According to the visit history of {} : \n {} \n Can you recommend the next possible business to the user ?',
     ('user_desc', 'visit_history'), '{}', ('item_id',)),
    ('yelp', '3-1', 'Generate an explanation for user_{} about this business : {}',
     ('user_id', 'item_title'), '{}', ('explanation',)),
    ('yelp', '3-2', 'Help user_{} generate a {}-star explanation about this business : \n {}',
     ('user_id', 'star_rating', 'item_title'), '{}', ('explanation',)),
    ('yelp', '3-3', 'Generate an explanation for {} about this business : {}',
     ('user_desc', 'item_title'), '{}', ('explanation',)),
    ('yelp', '3-4', 'Help {} generate a {}-star explanation for item_{}',
     ('user_desc', 'star_rating', 'item_id'), '{}', ('explanation',)),
    ('yelp', '3-5', "Predict the star rating , then use {} as feature word to generate user_{} 's visit explanation for item_{}",
     ('feature', 'user_id', 'item_id'), '{} , {}', ('star_rating', 'explanation')),
    ('yelp', '3-6', 'What score will {} rate item_{} ? Then give an explanation for the rating score . ( 1 being lowest and 5 being highest )',
     ('user_desc', 'item_id'), '{} , {}', ('star_rating', 'explanation')),
    ('yelp', '3-7', 'Based on the feature word {} , generate an explanation for user_{} about this business : {}',
     ('feature', 'user_id', 'item_title'), '{}', ('explanation',)),
    ('yelp', '3-8', 'Given the word {} , can you help generate an explanation for {} about the business : \n {}',
     ('feature', 'user_desc', 'item_title'), '{}', ('explanation',)),
    ('yelp', '3-9', 'Using the word {} , write a {}-star explanation for user_{} about item_{}',
     ('feature', 'star_rating', 'user_id', 'item_id'), '{}', ('explanation',)),
    ('yelp', '3-10', 'According to the feature word {} , generate a {}-star explanation for {} about item_{}',
     ('feature', 'star_rating', 'user_desc', 'item_id'), '{}', ('explanation',)),
    ('yelp', '4-1', 'Predict the associated rating score of the review written by user_{} ( 1 being lowest and 5 being highest ) : \n {}',
     ('user_id', 'review_body'), '{}', ('star_rating',)),
    ('yelp', '4-2', 'Given the following review written by user_{} : \n {} \n Can you predict the associated star rating ? ( 1 being lowest and 5 being highest )',
     ('user_id', 'review_body'), '{}', ('star_rating',)),
    ('yelp', '4-3', 'According to the following review written by {} : \n {} \n Predict the associated star rating ( 1 being lowest and 5 being highest )',
     ('user_desc', 'review_body'), '{}', ('star_rating',)),
    ('yelp', '5-1', 'Will user_{} likely to interact with item_{} ?',
     ('user_id', 'item_id'), '{}', ('yes_no',)),
    ('yelp', '5-2', 'Shall we recommend item_{} to {} ?',
     ('item_id', 'user_desc'), '{}', ('yes_no',)),
    ('yelp', '5-3', 'For {}, do you think it is good to recommend {} ?',
     ('user_desc', 'item_title'), '{}', ('yes_no',)),
    ('yelp', '5-4', 'I would like to recommend some items for user_{} . Is the following item a good choice ? \n {}',
     ('user_id', 'item_title'), '{}', ('yes_no',)),
    ('yelp', '5-5', 'Which item of the following to recommend for {} ? \n {}',
     ('user_desc', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('yelp', '5-6', 'Choose the best item from the candidates to recommend for {} ? \n {}',
     ('user_desc', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('yelp', '5-7', 'Pick the most suitable item from the following list and recommend to user_{} : \n {}',
     ('user_id', 'candidates'), '{}', ('groundtruth_item_ids',)),
    ('yelp', '5-8', 'We want to make recommendation for user_{} .  Select the best item from these candidates : \n {}',
     ('user_id', 'candidates'), '{}', ('groundtruth_item_ids',)),
]


@pytest.mark.parametrize('variant,tid,source,source_args,target,target_args', P5_CODE,
                         ids=[f'{r[0]}-{r[1]}' for r in P5_CODE])
def test_template_renders_exact_p5_text(variant, tid, source, source_args, target, target_args):
  template = prompts.templates(variant)[tid]
  got_input, got_target = template.render(FIXTURE)
  assert got_input == source.format(*(FIXTURE[a] for a in source_args))
  assert got_target == target.format(*(FIXTURE[a] for a in target_args))
  assert template.slots == frozenset(source_args + target_args)


def test_counts_match_spec():
  amazon, yelp = prompts.templates('amazon'), prompts.templates('yelp')
  assert len(amazon) == 47 + 7 and len(yelp) == 44
  counts = {f: len(prompts.family_templates('amazon', f)) for f in prompts.FAMILIES}
  assert counts == {'rating': 10, 'sequential': 13, 'explanation': 12, 'review': 4, 'direct': 8,
                    'zeroshot': 7}
  assert len(P5_CODE) == len(amazon) + len(yelp)


@pytest.mark.parametrize('variant,held_out', [
    ('amazon', {'1-10', '2-13', '3-12', '4-4', '5-8'} | {f'Z-{i}' for i in range(1, 8)}),
    ('yelp', {'1-10', '2-13', '3-10', '4-3', '5-8'}),
])
def test_held_out_prompts(variant, held_out):
  assert {t.id for t in prompts.templates(variant).values() if not t.seen} == held_out


def test_eval_templates_exist():
  for variant, ids in prompts.EVAL_TEMPLATES.items():
    assert set(ids) <= set(prompts.templates(variant))


def test_irregular_spacing_kept():
  amazon = prompts.templates('amazon')
  assert 'user? Select' in amazon['2-8'].input
  assert 'from {user_desc}: \n' in amazon['4-3'].input
  assert 'user_{user_id} .  Select' in amazon['5-8'].input
  assert '’s' in prompts.templates('yelp')['1-5'].input


def test_bad_input_errors():
  with pytest.raises(ValueError, match='variant'):
    prompts.templates('movielens')
  with pytest.raises(KeyError, match='user_id'):
    prompts.templates('amazon')['1-1'].render({'item_id': '1', 'star_rating': '5'})
