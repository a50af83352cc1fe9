"""P5 Yelp templates: the exact code strings of P5 (`src/all_yelp_templates.py`).

The strings are benchmark inputs: spacing, `\\n` and punctuation are P5's, not prose.
Positional `{}` of P5 are replaced by named slots in P5's argument order.
"""

import dataclasses

from p5jax.prompts import amazon
from p5jax.prompts.template import Template

_AMAZON = {t.id: t for t in amazon.TEMPLATES}


def _t(template_id: str, family: str, seen: bool, input_text: str, target_text: str) -> Template:
  return Template(template_id, family, input_text, target_text, seen, 'yelp')


def _amazon(template_id: str, yelp_id: str | None = None) -> Template:
  """Amazon's `template_id` where P5's Yelp code string is the same (every direct prompt, some
  rating ones, 4-2, and 3-12 as Yelp's 3-10)."""
  return dataclasses.replace(_AMAZON[template_id], id=yelp_id or template_id, variant='yelp')


TEMPLATES: tuple[Template, ...] = (
    _amazon('1-1'),
    _t(
        '1-2',
        'rating',
        True,
        'How will user_{user_id} rate this business : {item_title} ? ( 1 being lowest and 5 being highest )',
        '{star_rating}',
    ),
    _amazon('1-3'),
    _amazon('1-4'),
    _t(
        '1-5',
        'rating',
        True,
        'Predict the user_{user_id}’s preference on item_{item_id} ( {item_title} ) \n -1 \n -2 \n -3 \n -4 \n -5',
        '{star_rating}',
    ),
    _amazon('1-6'),
    _t(
        '1-7',
        'rating',
        True,
        'How will {user_desc} rate this business : {item_title} ? ( 1 being lowest and 5 being highest )',
        '{star_rating}',
    ),
    _amazon('1-8'),
    _amazon('1-9'),
    _t(
        '1-10',
        'rating',
        False,
        'Predict {user_desc} ’s preference towards {item_title} ( 1 being lowest and 5 being highest )',
        '{star_rating}',
    ),
    _t(
        '2-1',
        'sequential',
        True,
        'Given the following visit history of user_{user_id} : \n {visit_history} \n predict next possible business to be visited by the user ?',
        '{item_id}',
    ),
    _t(
        '2-2',
        'sequential',
        True,
        'I find the visit history list of user_{user_id} : \n {visit_history} \n I wonder what is the next item to recommend to the user . Can you help me decide ?',
        '{item_id}',
    ),
    _t(
        '2-3',
        'sequential',
        True,
        'Here is the visit history list of user_{user_id} : \n {visit_history} \n try to recommend next item to the user',
        '{item_id}',
    ),
    _t(
        '2-4',
        'sequential',
        True,
        'Given the following visit history of {user_desc} : \n {visit_history} \n predict next possible business for the user',
        '{item_id}',
    ),
    _t(
        '2-5',
        'sequential',
        True,
        'Based on the visit history of {user_desc} : \n {visit_history} \n Can you decide the next business likely to be visited by the user ?',
        '{item_id}',
    ),
    _t(
        '2-6',
        'sequential',
        True,
        'Here is the visit history of {user_desc} : \n {visit_history} \n What to recommend next for the user ?',
        '{item_id}',
    ),
    _t(
        '2-7',
        'sequential',
        True,
        'Here is the visit history of user_{user_id} : \n {visit_history} \n Select the next possible business likely to be visited by the user from the following candidates : \n {candidates}',
        '{item_id}',
    ),
    _t(
        '2-8',
        'sequential',
        True,
        'Given the following visit history of {user_desc} : \n {visit_history} \n What to recommend next for the user? Select one from the following items : \n {candidates}',
        '{item_id}',
    ),
    _t(
        '2-9',
        'sequential',
        True,
        'Based on the visit history of user_{user_id} : \n {visit_history} \n Choose the next possible visited business from the following candidates : \n {candidates}',
        '{item_id}',
    ),
    _t(
        '2-10',
        'sequential',
        True,
        'I find the visit history list of {user_desc} : \n {visit_history} \n I wonder which is the next item to recommend to the user . Try to select one from the following candidates : \n {candidates}',
        '{item_id}',
    ),
    _t(
        '2-11',
        'sequential',
        True,
        'user_{user_id} has the following visit history : \n {visit_history} \n does the user likely to visit {item_id} next ?',
        '{yes_no}',
    ),
    _t(
        '2-12',
        'sequential',
        True,
        "According to {user_desc} 's visit history list : \n {visit_history} \n Predict whether the user will visit {item_id} next ?",
        '{yes_no}',
    ),
    _t(
        '2-13',
        'sequential',
        False,
        'According to the visit history of {user_desc} : \n {visit_history} \n Can you recommend the next possible business to the user ?',
        '{item_id}',
    ),
    _t(
        '3-1',
        'explanation',
        True,
        'Generate an explanation for user_{user_id} about this business : {item_title}',
        '{explanation}',
    ),
    _t(
        '3-2',
        'explanation',
        True,
        'Help user_{user_id} generate a {star_rating}-star explanation about this business : \n {item_title}',
        '{explanation}',
    ),
    _t(
        '3-3',
        'explanation',
        True,
        'Generate an explanation for {user_desc} about this business : {item_title}',
        '{explanation}',
    ),
    _t(
        '3-4',
        'explanation',
        True,
        'Help {user_desc} generate a {star_rating}-star explanation for item_{item_id}',
        '{explanation}',
    ),
    _t(
        '3-5',
        'explanation',
        True,
        "Predict the star rating , then use {feature} as feature word to generate user_{user_id} 's visit explanation for item_{item_id}",
        '{star_rating} , {explanation}',
    ),
    _t(
        '3-6',
        'explanation',
        True,
        'What score will {user_desc} rate item_{item_id} ? Then give an explanation for the rating score . ( 1 being lowest and 5 being highest )',
        '{star_rating} , {explanation}',
    ),
    _t(
        '3-7',
        'explanation',
        True,
        'Based on the feature word {feature} , generate an explanation for user_{user_id} about this business : {item_title}',
        '{explanation}',
    ),
    _t(
        '3-8',
        'explanation',
        True,
        'Given the word {feature} , can you help generate an explanation for {user_desc} about the business : \n {item_title}',
        '{explanation}',
    ),
    _t(
        '3-9',
        'explanation',
        True,
        'Using the word {feature} , write a {star_rating}-star explanation for user_{user_id} about item_{item_id}',
        '{explanation}',
    ),
    _amazon('3-12', yelp_id='3-10'),
    _t(
        '4-1',
        'review',
        True,
        'Predict the associated rating score of the review written by user_{user_id} ( 1 being lowest and 5 being highest ) : \n {review_body}',
        '{star_rating}',
    ),
    _amazon('4-2'),
    _t(
        '4-3',
        'review',
        False,
        'According to the following review written by {user_desc} : \n {review_body} \n Predict the associated star rating ( 1 being lowest and 5 being highest )',
        '{star_rating}',
    ),
    _amazon('5-1'),
    _amazon('5-2'),
    _amazon('5-3'),
    _amazon('5-4'),
    _amazon('5-5'),
    _amazon('5-6'),
    _amazon('5-7'),
    _amazon('5-8'),
)
