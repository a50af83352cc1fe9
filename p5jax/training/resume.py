"""Resuming a run: the latest checkpoint that verifies, and a check that its input position
still means the same example stream."""

from __future__ import annotations

import logging
from typing import Any

from p5jax.errors import UserError
from p5jax.training import checkpoints as ckpt_lib
from p5jax.training.data import DatasetConfig
from p5jax.training.train_state import TrainState
from p5jax.training.trainer import Trainer


def resume_latest(
    trainer: Trainer, checkpointer: ckpt_lib.Checkpointer, fallback: bool
) -> tuple[TrainState, dict[str, Any]] | None:
  """(state, input position) of the latest checkpoint of MODEL_DIR that passes its checksums
  and reads; None when there is none. A damaged one is an error naming it and the previous
  one, or, with `fallback`, is moved aside and the previous one is tried."""
  while (latest := checkpointer.latest_step()) is not None:
    try:
      restored, input_state = checkpointer.restore(latest, trainer.abstract_state.to_dict())
    except ckpt_lib.DamagedCheckpointError as e:
      if not fallback or checkpointer.previous_step(latest) is None:
        raise
      where = checkpointer.move_aside(latest)
      logging.warning('%s; moved it to %s and falling back to the previous checkpoint', e, where)
      continue
    logging.info('resumed from checkpoint_%d', latest)
    return trainer.abstract_state.replace_from_dict(restored), input_state
  return None


def check_input_layout(
    checkpointer: ckpt_lib.Checkpointer,
    input_state: dict[str, Any],
    cfg: DatasetConfig,
    layout: Any,
) -> None:
  """The input position of a checkpoint means the same batches only with the same seed,
  global batch size and number of input shards (data-loading processes): otherwise resuming
  would silently repeat or skip examples, so it is refused. The model state itself restores
  onto any number of processes or devices (orbax reshards it)."""
  where = checkpointer.step_dir(checkpointer.latest_step())
  if input_state.get('dataset_seed') != cfg.seed:
    raise UserError(
        f"{where} was written with input seed {input_state.get('dataset_seed')}, but this "
        f"run's seed is {cfg.seed}; set RANDOM_SEED (or the dataset seed) to the original "
        'value to resume exactly'
    )
  for key, now, what in (
      ('batch_size', cfg.batch_size, 'global batch size (BATCH_SIZE)'),
      ('num_shards', layout.num_shards, 'number of input shards (data-loading processes)'),
  ):
    then = input_state.get(key)
    if then is not None and then != now:
      raise UserError(
          f'{where} was written with {what} {then}, this run has {now}: its input position '
          'would not continue the same example stream. Resume with the same setting, or start '
          'a new MODEL_DIR with INITIAL_CHECKPOINT_PATH set to it (params only)'
      )
  logging.info(
      'input position: %d batches of %d in %d shard(s), seed %s',
      input_state.get('batches_consumed', 0),
      cfg.batch_size,
      layout.num_shards,
      cfg.seed,
  )
