"""Registers a prepared dataset's P5 tasks and mixtures with seqio (names in docs/CONTRACTS §6).

``p5_<name>_<family>_<template>``: evaluation task of one template (splits validation, test),
``p5_<name>_<family>_train``: training task, template uniform over the family's seen prompts
(splits train, validation), mixtures ``p5_<name>_pretrain`` / ``_eval`` / ``_zeroshot`` and one
``p5_<name>_<family>_eval`` per family (that family's evaluated prompts, e.g. 2-3 and 2-13).
``p5_<name>_direct_yes_no_train`` (prompts 5-1..5-4, 100 per user and epoch) and the mixture
``p5_<name>_direct_yes_no_eval`` (5-1, 5-4) are P5's separate yes/no model
(its `pretrain_group5_part1.py`, whose 5-1/5-4 numbers the paper publishes).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping, Sequence

import gin
import seqio

from p5jax import prompts
from p5jax.prompts import Template
from p5jax.tasks import decoding, direct, evaluation, families
from p5jax.tasks.context import OVERLONG_ACTIONS, SEQUENTIAL_CUTS
from p5jax.tasks.contexts import (
    ContextSpec,
    PreparedDir,
    load_manifest,
    manifest_variant,
    model_file,
    resolve_dir,
)
from p5jax.tasks.source import PromptExamplesSource
from p5jax.tasks.vocabulary import LazySentencePieceVocabulary

_LOCK = threading.Lock()
_REGISTERED: dict[str, tuple] = {}  # dataset name -> (arguments, task names, mixture names)
_SPECS: dict[str, TaskInfo] = {}


@dataclasses.dataclass(frozen=True)
class TaskInfo:
  """What the trainer's evaluation needs to know about a registered task."""

  dataset: str
  family: str
  template: str | None  # None for the training task
  decoding: decoding.DecodingSpec | None
  context: ContextSpec
  templates: tuple[Template, ...] = ()  # the templates the task draws from
  train_per_user: int | None = None  # direct training examples per user (None: P5's 15)


def task_info(task_name: str) -> TaskInfo:
  """Decoding mode, family, template and (lazy) dataset context of a registered task."""
  if task_name not in _SPECS:
    raise KeyError(f'{task_name!r} is not a registered P5 task')
  return _SPECS[task_name]


def _p5_rate(family: str, context: ContextSpec) -> Callable[[seqio.Task], float]:
  """P5's share of ``family``: its examples per epoch, computed when the mixture is first used
  (sequential: 20 per user under P5's cut, the training positions under every-prefix)."""

  def rate(task: seqio.Task) -> float:
    del task
    ctx = context()
    seen = prompts.family_templates(ctx.variant, family, seen=True)
    return float(families.TrainFamily(ctx, family, seen).size)

  return rate


def _output_features(vocab: seqio.Vocabulary) -> dict[str, seqio.Feature]:
  return {
      name: seqio.Feature(vocabulary=vocab, add_eos=True, required=True)
      for name in ('inputs', 'targets')
  }


_PREPROCESSORS = (seqio.preprocessors.tokenize, seqio.preprocessors.append_eos_after_trim)
# Evaluation splits are fixed: seqio's cache_tasks_main may cache them tokenized.
_EVAL_PREPROCESSORS = (
    seqio.preprocessors.tokenize,
    seqio.CacheDatasetPlaceholder(),
    seqio.preprocessors.append_eos_after_trim,
)


def _remove(name: str) -> None:
  _, task_names, mixture_names = _REGISTERED.pop(name, (None, (), ()))
  for mixture in mixture_names:
    seqio.MixtureRegistry.remove(mixture)
  for task in task_names:
    seqio.TaskRegistry.remove(task)
    _SPECS.pop(task, None)


@gin.configurable
def register_dataset(
    name: str,
    prepared_dir: PreparedDir,
    id_scheme: str = 'sid',
    protocol: str | None = None,
    *,
    seed: int = 0,
    variant: str | None = None,
    families_present: tuple | None = None,
    rates: Mapping[str, float] | None = None,
    input_length: int = 512,
    train_epochs: int | None = None,
    shuffle_buffer_size: int | None = None,
    sequential_cut: str | None = None,
    overlong_templates: str = 'warn',
    base_spm_model: str | None = None,
    train_templates: Sequence[str] | None = None,
) -> tuple[str, ...]:
  """Registers every P5 task and mixture of a prepared dataset; returns the registered names.

  Args:
    name: dataset name used in task names (``p5_<name>_...``).
    prepared_dir: a prepared directory, or a picklable zero-argument callable returning one
      (built lazily, e.g. the demo).
    id_scheme: item ID scheme (``p5jax.indexing.SCHEMES``) for item ids and the vocabulary.
    protocol: 'original' | 'corrected' (examples and metrics); None uses the manifest's.
    seed: base seed of every per-example random draw.
    variant: template variant 'amazon' | 'yelp'; None infers it from the manifest.
    families_present: families to register; None reads them from the manifest (which must exist).
    rates: pretrain mixture rate per family, overriding P5's example-count proportions.
    input_length: input pieces (with EOS) the corrected protocol fits histories into, and the
      length training templates are checked against (``overlong_templates``).
    train_epochs: epochs a training split yields (None: forever).
    shuffle_buffer_size: seqio's example shuffle buffer of every task, on top of the sources'
      own per-epoch shuffle of whole epochs (None: none).
    sequential_cut: 'p5' | 'every_prefix' (``context.SEQUENTIAL_CUTS``); None: 'p5' under the
      original protocol, 'every_prefix' under the corrected one.
    overlong_templates: 'warn' | 'drop' for training templates whose prompts exceed
      ``input_length`` (``lengths.fitting_templates``).
    base_spm_model: a SentencePiece model (or a Hugging Face T5 directory with spiece.model)
      that the vocabulary extends with the scheme's tokens (`p5jax.vocab`); None trains one.
    train_templates: template ids to train on (e.g. ('2-1', ..., '2-6')): each family's seen
      templates restricted to these; a family left with none has no training task. None: every
      seen template (P5). Evaluation tasks are registered for every template either way.
  Idempotent: the same arguments again do nothing; different ones replace the registration.
  """
  key = (
      prepared_dir,
      id_scheme,
      protocol,
      seed,
      variant,
      families_present,
      tuple(sorted((rates or {}).items())),
      input_length,
      train_epochs,
      shuffle_buffer_size,
      sequential_cut,
      overlong_templates,
      base_spm_model,
      None if train_templates is None else tuple(train_templates),
  )
  if sequential_cut not in (None, *SEQUENTIAL_CUTS):
    raise ValueError(f'sequential_cut must be one of {SEQUENTIAL_CUTS}, got {sequential_cut!r}')
  if overlong_templates not in OVERLONG_ACTIONS:
    raise ValueError(
        f'overlong_templates must be one of {OVERLONG_ACTIONS}, got {overlong_templates!r}'
    )
  with _LOCK:
    if name in _REGISTERED and _REGISTERED[name][0] == key:
      return _REGISTERED[name][1]
    _remove(name)
    if families_present is None or variant is None or protocol is None:
      manifest = load_manifest(resolve_dir(prepared_dir))
      from p5jax.data.prepared import require_index

      require_index(resolve_dir(prepared_dir), id_scheme, manifest)  # fail before any work
      variant = variant or manifest_variant(manifest)
      families_present = families_present or families.available_families(manifest, variant)
      protocol = protocol or manifest.get('protocol', 'original')
    context = ContextSpec(
        prepared_dir,
        id_scheme,
        protocol,
        seed,
        variant,
        input_length,
        sequential_cut,
        overlong_templates,
        base_spm_model,
    )
    vocab = LazySentencePieceVocabulary(
        functools.partial(model_file, prepared_dir, id_scheme, base_spm_model)
    )
    common = dict(
        preprocessors=_PREPROCESSORS,
        output_features=_output_features(vocab),
        shuffle_buffer_size=shuffle_buffer_size,
    )
    names = _register_tasks(
        name, variant, families_present, context, common, train_epochs, protocol, train_templates
    )
    mixtures = _register_mixtures(
        name, variant, families_present, context, rates or {}, train_templates
    )
    _REGISTERED[name] = (key, names, mixtures)
    return names


def _trained_templates(variant, family, train_templates) -> tuple:
  """The family's seen templates, restricted to `train_templates` ids (None: all of them)."""
  seen = tuple(prompts.family_templates(variant, family, seen=True))
  if train_templates is None:
    return seen
  return tuple(t for t in seen if t.id in set(train_templates))


def _check_train_templates(variant: str, train_templates: Sequence[str] | None) -> None:
  if train_templates is None:
    return
  templates = prompts.templates(variant)
  unknown = [t for t in train_templates if t not in templates]
  unseen = [t for t in train_templates if t in templates and not templates[t].seen]
  if unknown or unseen or not train_templates:
    raise ValueError(
        f'train_templates: unknown template ids {unknown}, unseen (evaluation-only) '
        f'templates {unseen} for the {variant!r} variant'
        + ('' if train_templates else ' (empty: give at least one seen template id)')
    )


def _register_tasks(
    name, variant, families_present, context, common, train_epochs, protocol, train_templates
):
  _check_train_templates(variant, train_templates)
  names = []
  for family in families_present:
    seen = _trained_templates(variant, family, train_templates)
    if seen:
      task = f'p5_{name}_{family}_train'
      seqio.TaskRegistry.add(
          task,
          source=PromptExamplesSource(
              context, family, seen, ('train', 'validation'), train_epochs, name=task
          ),
          **common,
      )
      _SPECS[task] = TaskInfo(name, family, None, None, context, seen)
      names.append(task)
    yes_no = direct.yes_no_templates(seen)
    if yes_no:  # P5 publishes 5-1/5-4 from a separate model trained on these prompts only
      task = f'p5_{name}_direct_yes_no_train'
      seqio.TaskRegistry.add(
          task,
          source=PromptExamplesSource(
              context,
              family,
              yes_no,
              ('train', 'validation'),
              train_epochs,
              train_per_user=direct.YES_NO_TRAIN_PER_USER,
              name=task,
          ),
          **common,
      )
      _SPECS[task] = TaskInfo(
          name, family, None, None, context, yes_no, direct.YES_NO_TRAIN_PER_USER
      )
      names.append(task)
    for template in prompts.family_templates(variant, family):
      spec = decoding.decoding_for(template)
      task = f'p5_{name}_{family}_{template.task_suffix}'
      seqio.TaskRegistry.add(
          task,
          source=PromptExamplesSource(
              context, family, (template,), ('validation', 'test'), name=task
          ),
          **{**common, 'preprocessors': _EVAL_PREPROCESSORS},
          postprocess_fn=evaluation.postprocessor(spec),
          metric_fns=evaluation.metric_fns(spec, protocol),
      )
      _SPECS[task] = TaskInfo(name, family, template.id, spec, context, (template,))
      names.append(task)
  return tuple(names)


def _register_mixtures(name, variant, families_present, context, rates, train_templates):
  train = [
      (f'p5_{name}_{f}_train', rates.get(f, _p5_rate(f, context)))
      for f in families_present
      if _trained_templates(variant, f, train_templates)
  ]
  seqio.MixtureRegistry.add(f'p5_{name}_pretrain', train)
  mixtures = [f'p5_{name}_pretrain']
  templates = prompts.templates(variant)
  evaluated = [templates[t] for t in prompts.EVAL_TEMPLATES[variant]]
  unseen = [t for t in templates.values() if not t.seen]
  per_family = [
      (f'{family}_eval', [t for t in evaluated if t.family == family])
      for family in families_present
  ]
  yes_no = ('direct_yes_no_eval', direct.yes_no_templates(evaluated))
  for suffix, chosen in [('eval', evaluated), ('zeroshot', unseen), yes_no] + per_family:
    tasks = [
        f'p5_{name}_{t.family}_{t.task_suffix}' for t in chosen if t.family in families_present
    ]
    if tasks:
      seqio.MixtureRegistry.add(f'p5_{name}_{suffix}', tasks, default_rate=1.0)
      mixtures.append(f'p5_{name}_{suffix}')
  return tuple(mixtures)
