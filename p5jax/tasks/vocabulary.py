"""A SentencePiece vocabulary whose model is built on first use (keeps task registration cheap)."""

from __future__ import annotations

from collections.abc import Callable

import seqio


class LazySentencePieceVocabulary(seqio.SentencePieceVocabulary):
  """``seqio.SentencePieceVocabulary`` whose model file comes from ``model_file()`` on first use.

  ``model_file`` must be picklable (a module-level function or ``functools.partial``), since gin
  deep-copies vocabularies. It returns the path of a built ``.model`` (building it if needed).
  """

  def __init__(self, model_file: Callable[[], str], extra_ids: int = 100):
    self._model_file_fn = model_file
    super().__init__(sentencepiece_model_file='', extra_ids=extra_ids)

  def _model_context(self):
    if not self._sentencepiece_model_file:
      self._sentencepiece_model_file = self._model_file_fn()
    return super()._model_context()

  @property
  def sentencepiece_model_file(self) -> str:
    if not self._sentencepiece_model_file:
      self._sentencepiece_model_file = self._model_file_fn()
    return self._sentencepiece_model_file
