"""How a registered dataset's `DatasetContext` is built and cached: `ContextSpec` (picklable, so
a worker process rebuilds the same context), and the per-process caches of the prepared dataset,
its item index (`p5jax.indexing.prepared_index`), vocabulary and word encoder that contexts with
the same prepared directory share."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping

import seqio

from p5jax.tasks.context import DatasetContext
from p5jax.tasks.word_cache import WordCachedEncoder

PreparedDir = str | os.PathLike | Callable[[], str]


def resolve_dir(prepared_dir: PreparedDir) -> str:
  """The directory a `PreparedDir` names (a callable, e.g. the demo's, is called)."""
  return os.fspath(prepared_dir() if callable(prepared_dir) else prepared_dir)


def load_manifest(prepared_dir: str) -> dict:
  """The prepared directory's checked manifest (`p5jax.data.prepared.read_manifest`)."""
  from p5jax.data.prepared import read_manifest

  return read_manifest(prepared_dir)


@functools.cache
def _vocabulary(
    prepared_dir: PreparedDir, scheme: str, base_spm_model: str | None = None
) -> seqio.SentencePieceVocabulary:
  from p5jax.vocab import build_vocabulary

  return build_vocabulary(resolve_dir(prepared_dir), scheme, base_model=base_spm_model)


@functools.cache
def _encoder(
    prepared_dir: PreparedDir, scheme: str, base_spm_model: str | None = None
) -> WordCachedEncoder:
  vocab = _vocabulary(prepared_dir, scheme, base_spm_model)
  return WordCachedEncoder(vocab.tokenizer, vocab.sp_model)


def model_file(prepared_dir: PreparedDir, scheme: str, base_spm_model: str | None = None) -> str:
  """The SentencePiece model file of the dataset's vocabulary for `scheme` (built once)."""
  return _vocabulary(prepared_dir, scheme, base_spm_model).sentencepiece_model_file


@dataclasses.dataclass(frozen=True)
class ContextSpec:
  """How to build a registered dataset's ``DatasetContext``: a picklable, hashable callable (a
  worker process rebuilds the same context from it). Contexts are cached per spec."""

  prepared_dir: PreparedDir
  scheme: str
  protocol: str | None
  seed: int
  variant: str | None
  input_length: int
  sequential_cut: str | None = None
  overlong_templates: str = 'warn'
  base_spm_model: str | None = None

  def __call__(self) -> DatasetContext:
    return _context(self)

  def with_input_length(self, input_length: int) -> ContextSpec:
    """The same dataset with histories fitted to ``input_length`` pieces."""
    return dataclasses.replace(self, input_length=int(input_length))

  def vocabulary(self) -> seqio.SentencePieceVocabulary:
    return _vocabulary(self.prepared_dir, self.scheme, self.base_spm_model)

  def encoder(self) -> WordCachedEncoder:
    """The vocabulary's exact per-word cached encoder (shared by this process's contexts)."""
    return _encoder(self.prepared_dir, self.scheme, self.base_spm_model)


@functools.cache
def _dataset(prepared_dir: PreparedDir):
  from p5jax.data import PreparedDataset

  return PreparedDataset.load(resolve_dir(prepared_dir))


@functools.cache
def _index(prepared_dir: PreparedDir, scheme: str):
  from p5jax.indexing import prepared_index

  return prepared_index(resolve_dir(prepared_dir), scheme, _dataset(prepared_dir))


@functools.cache
def _context(spec: ContextSpec) -> DatasetContext:
  """The context of ``spec``; contexts that differ only in lengths or cut share the loaded data."""
  dataset = _dataset(spec.prepared_dir)
  return DatasetContext(
      dataset=dataset,
      index=_index(spec.prepared_dir, spec.scheme),
      variant=spec.variant or manifest_variant(dataset.manifest),
      protocol=spec.protocol or dataset.manifest.get('protocol', 'original'),
      seed=spec.seed,
      input_length=spec.input_length,
      count_tokens=spec.encoder().count,
      sequential_cut=spec.sequential_cut,
      overlong_templates=spec.overlong_templates,
  )


def manifest_variant(manifest: Mapping) -> str:
  """The template variant of a prepared dataset: 'yelp' for Yelp, else 'amazon'."""
  return 'yelp' if str(manifest.get('dataset', '')).lower().startswith('yelp') else 'amazon'
