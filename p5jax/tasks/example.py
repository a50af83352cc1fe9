"""The raw (untokenized) example every family builder yields, and its tf.data signature."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from p5jax.prompts import Template


def make_example(
    template: Template, values: dict, *, user: int, item: int = 0, candidates: Sequence[int] = ()
) -> dict:
  """Renders ``template`` and attaches the ids evaluation needs.

  ``item`` is the ground-truth item of ranking prompts (0 if none); ``candidates`` the items a
  candidate prompt lists, in prompt order (empty otherwise).
  """
  inputs, targets = template.render(values)
  return {
      'inputs': inputs,
      'targets': targets,
      'template': template.id,
      'user': np.int32(user),
      'item': np.int32(item),
      'candidates': np.asarray(candidates, np.int32),
  }


OUTPUT_SIGNATURE = {
    'inputs': tf.TensorSpec([], tf.string),
    'targets': tf.TensorSpec([], tf.string),
    'template': tf.TensorSpec([], tf.string),
    'user': tf.TensorSpec([], tf.int32),
    'item': tf.TensorSpec([], tf.int32),
    'candidates': tf.TensorSpec([None], tf.int32),
}
