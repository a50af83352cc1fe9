"""Register a prepared dataset from gin: ``MIXTURE_OR_TASK_MODULE = 'p5jax.tasks.from_gin'``.

T5X registers tasks by importing ``MIXTURE_OR_TASK_MODULE``. Gin imports this module while it
parses the dataset file's ``import`` line, before the bindings below exist, so registration is
deferred to ``register_from_gin()``, which the trainer calls after parsing and before any task
lookup. It registers the dataset bound to ``configured_dataset`` in the dataset gin files
(``gin_configs/datasets/*.gin``)::

    p5jax.tasks.from_gin.configured_dataset:
      name = 'beauty'
      prepared_dir = 'prepared/beauty'
      id_scheme = 'cid'

``dataset_vocabulary(name)`` gives the registered dataset's vocabulary for ``VOCABULARY`` and
``dataset_vocab_size(name)`` the model's matching ``VOCAB_SIZE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import gin
import seqio

from p5jax.tasks.registry import register_dataset


@gin.configurable
def configured_dataset(
    name: str | None = None,
    prepared_dir: str | None = None,
    id_scheme: str = 'sid',
    protocol: str | None = None,
    seed: int = 0,
    input_length: int = 512,
    rates: Mapping[str, float] | None = None,
    base_spm_model: str | None = None,
    train_templates: Sequence[str] | None = None,
    sequential_cut: str | None = None,
    overlong_templates: str = 'warn',
    shuffle_buffer_size: int | None = None,
) -> tuple[str, ...]:
  """Registers the gin-bound dataset (nothing when no name is bound, e.g. for the demo).

  ``input_length``: the input pieces the corrected protocol fits a history into (drop the
  oldest items first); set it to TASK_FEATURE_LENGTHS['inputs'] when training shorter, so
  seqio's cut at the end never removes the most recent items (the trainer's P5 example stream
  fits histories to TASK_FEATURE_LENGTHS by itself). ``sequential_cut``: 'p5' (P5's: 20
  examples per user, targets among the last three training items) or 'every_prefix' (every
  training position a target); None: 'p5' under protocol=original, 'every_prefix' under
  corrected. ``overlong_templates``: 'warn' or 'drop' training templates whose prompts exceed
  the input length. ``shuffle_buffer_size``: seqio's example buffer on top of the tasks' own
  per-epoch shuffle (None: none). ``base_spm_model``: extend this
  SentencePiece model (e.g. T5's: a file, or a Hugging Face T5 directory holding
  ``spiece.model``) with the scheme's tokens instead of training a vocabulary. See
  ``registry.register_dataset``. ``train_templates``: template ids to train on (None: all seen).
  """
  if name is None:
    return ()
  if prepared_dir is None:
    raise ValueError(
        f'p5jax.tasks.from_gin.configured_dataset: dataset {name!r} needs '
        'prepared_dir (the output of p5jax-prepare)'
    )
  return register_dataset(
      name,
      prepared_dir,
      id_scheme,
      protocol,
      seed=seed,
      input_length=input_length,
      rates=rates,
      base_spm_model=base_spm_model,
      train_templates=train_templates,
      sequential_cut=sequential_cut,
      overlong_templates=overlong_templates,
      shuffle_buffer_size=shuffle_buffer_size,
  )


@gin.configurable
def dataset_vocabulary(name: str = gin.REQUIRED) -> seqio.Vocabulary:
  """The vocabulary of registered dataset ``name`` (its ID scheme's SentencePiece model)."""
  register_from_gin()
  try:
    task = seqio.get_mixture_or_task(f'p5_{name}_pretrain')
  except ValueError as err:
    raise ValueError(
        f'dataset {name!r} is not registered: bind '
        'p5jax.tasks.from_gin.configured_dataset.name/prepared_dir, or use the demo'
    ) from err
  return task.output_features['targets'].vocabulary


@gin.configurable
def dataset_vocab_size(name: str = gin.REQUIRED) -> int:
  """The model's vocabulary rows for registered dataset ``name``: its vocabulary's size rounded
  up to a multiple of 128 (T5: 32,100 pieces, 32,128 rows). ``VOCAB_SIZE`` binds to it."""
  from p5jax.vocab import padded_vocab_size

  return padded_vocab_size(dataset_vocabulary(name))


def register_from_gin() -> tuple[str, ...]:
  """Registers the gin-bound dataset now that gin has been parsed (idempotent)."""
  return configured_dataset()
