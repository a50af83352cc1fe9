"""Encoder-decoder model features from tokenized examples, in numpy (seqio's layout).

``pad_rows`` gives ``seqio.EncDecFeatureConverter(pack=False)``'s features: one example per row.
``RowPacker`` gives its packed features: several examples per row, each a segment with its own
id (1, 2, ...) and positions from 0, the decoder inputs shifted within each segment, so
attention, whole-word embeddings (from segment ids) and the per-example loss see each example
alone. Packing is first-fit in stream order, and a batch ends at the first example that fits no
row: a batch is always a contiguous run of the example stream, so the stream position of its
end is the whole packing state (what a checkpoint stores to resume).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Example = tuple[np.ndarray, np.ndarray]  # (input ids, target ids), each ending with EOS


def _shift_right(targets: np.ndarray) -> np.ndarray:
  out = np.zeros_like(targets)
  out[:, 1:] = targets[:, :-1]
  return out


def pad_rows(examples: Sequence[Example], input_length: int, target_length: int) -> dict:
  """One example per row, zero-padded (``EncDecFeatureConverter(pack=False)``)."""
  rows = len(examples)
  enc = np.zeros((rows, input_length), np.int32)
  tgt = np.zeros((rows, target_length), np.int32)
  for r, (inputs, targets) in enumerate(examples):
    enc[r, : len(inputs)] = inputs
    tgt[r, : len(targets)] = targets
  return {
      'encoder_input_tokens': enc,
      'decoder_target_tokens': tgt,
      'decoder_input_tokens': _shift_right(tgt),
      'decoder_loss_weights': (tgt > 0).astype(np.int32),
  }


class RowPacker:
  """Packs examples into ``rows`` rows of ``input_length`` / ``target_length`` pieces."""

  def __init__(self, rows: int, input_length: int, target_length: int):
    self.rows, self.input_length, self.target_length = rows, input_length, target_length
    self._free_inputs = np.full(rows, input_length, np.int64)
    self._free_targets = np.full(rows, target_length, np.int64)
    self._segments: list[list[Example]] = [[] for _ in range(rows)]
    self.count = 0

  def add(self, example: Example) -> bool:
    """Places ``example`` in the first row with room for both its inputs and targets; False
    (nothing changes) when no row has."""
    n_in, n_tgt = len(example[0]), len(example[1])
    if n_in > self.input_length or n_tgt > self.target_length:
      raise ValueError(
          f'example of {n_in}/{n_tgt} pieces exceeds {self.input_length}/{self.target_length}'
      )
    room = np.flatnonzero((self._free_inputs >= n_in) & (self._free_targets >= n_tgt))
    if not len(room):
      return False
    r = int(room[0])
    self._free_inputs[r] -= n_in
    self._free_targets[r] -= n_tgt
    self._segments[r].append(example)
    self.count += 1
    return True

  def features(self) -> dict:
    """The packed batch (``EncDecFeatureConverter(pack=True)`` keys); empty rows are padding."""
    out = {}
    for side, column, length in (
        ('encoder', 0, self.input_length),
        ('decoder', 1, self.target_length),
    ):
      tokens = np.zeros((self.rows, length), np.int32)
      segment_ids = np.zeros((self.rows, length), np.int32)
      positions = np.zeros((self.rows, length), np.int32)
      for r, segments in enumerate(self._segments):
        if not segments:
          continue
        parts = [s[column] for s in segments]
        sizes = [len(p) for p in parts]
        used = sum(sizes)
        tokens[r, :used] = np.concatenate(parts)
        segment_ids[r, :used] = np.repeat(np.arange(1, len(parts) + 1, dtype=np.int32), sizes)
        positions[r, :used] = np.concatenate([np.arange(n, dtype=np.int32) for n in sizes])
      name = 'encoder_input_tokens' if side == 'encoder' else 'decoder_target_tokens'
      out[name] = tokens
      out[f'{side}_segment_ids'] = segment_ids
      out[f'{side}_positions'] = positions
    targets, segment_ids = out['decoder_target_tokens'], out['decoder_segment_ids']
    same_segment = np.zeros_like(segment_ids, bool)
    same_segment[:, 1:] = segment_ids[:, 1:] == segment_ids[:, :-1]
    out['decoder_input_tokens'] = np.where(same_segment, _shift_right(targets), 0).astype(np.int32)
    out['decoder_loss_weights'] = (targets > 0).astype(np.int32)
    return out
