"""Optimizers and learning-rate schedules.

`p5_adamw` is P5's recipe (and the gin default). `adafactor` is T5X's optimizer with
parameter-scaled updates: each update is proportional to the parameter's RMS, so the token
embedding (RMS ~1) moves about ten times faster than under AdamW at 1e-3. That is what lets a T5
trained from scratch learn new item tokens at CPU budgets (bench/RESULTS.md, real-data learning).

Which parameters get weight decay (`decay_mask`):

- `'matrices'` (default): every parameter with two or more dimensions; norm scales are not
  decayed (the usual AdamW practice). The relative-position tables are matrices and are decayed.
- `'p5'`: P5's exact rule, for `protocol=original`. P5 excludes parameters whose Hugging Face
  name contains `"bias"` or `"LayerNorm.weight"` (a case-sensitive substring test). T5 has no
  bias vectors and names its norms `layer_norm.weight`, so the only parameters it excludes are
  the two `relative_attention_bias` tables; every norm scale, the embeddings (and P5's
  whole-word embedding) and all projections are decayed.
"""

from __future__ import annotations

import dataclasses

import jax
import optax


@dataclasses.dataclass(frozen=True)
class Optimizer:
  """An optax transformation plus its learning-rate schedule (kept for logging)."""

  tx: optax.GradientTransformation
  learning_rate_fn: optax.Schedule | None = None


def warmup_linear_decay(
    base_learning_rate: float,
    total_steps: int,
    warmup_fraction: float = 0.05,
    end_value: float = 0.0,
) -> optax.Schedule:
  """Linear warm-up over `warmup_fraction * total_steps`, then linear decay to `end_value`.

  This is the schedule of P5's PyTorch trainer (`get_linear_schedule_with_warmup`), whose
  warm-up length is rounded down.
  """
  if total_steps <= 0:
    raise ValueError(f'total_steps must be positive, got {total_steps}')
  if not 0.0 <= warmup_fraction < 1.0:
    raise ValueError(f'warmup_fraction must be in [0, 1), got {warmup_fraction}')
  warmup = max(1, int(warmup_fraction * total_steps))  # P5: int(t_total * warmup_ratio)
  return optax.join_schedules(
      [
          optax.linear_schedule(0.0, base_learning_rate, warmup),
          optax.linear_schedule(base_learning_rate, end_value, max(1, total_steps - warmup)),
      ],
      [warmup],
  )


DECAY_MASKS = ('matrices', 'p5')
_RELATIVE_POSITION_TABLE = 'rel_embedding'  # Hugging Face: `relative_attention_bias.weight`


def weight_decay_mask(kind: str = 'matrices'):
  """`fn(params) -> bool pytree`: which parameters get weight decay (see module docstring)."""
  if kind not in DECAY_MASKS:
    raise ValueError(f'decay_mask must be one of {DECAY_MASKS}, got {kind!r}')

  def mask(params):
    if kind == 'matrices':
      return jax.tree.map(lambda p: p.ndim >= 2, params)
    return jax.tree_util.tree_map_with_path(
        lambda path, _: _RELATIVE_POSITION_TABLE not in jax.tree_util.keystr(path), params
    )

  return mask


SCHEDULES = ('linear', 'cosine', 'constant')


def warmup_then_decay(
    base_learning_rate: float,
    total_steps: int,
    warmup_fraction: float = 0.05,
    shape: str = 'linear',
) -> optax.Schedule:
  """Linear warm-up over `warmup_fraction * total_steps`, then `shape`: 'linear' or 'cosine'
  decay to 0 at `total_steps`, or 'constant'."""
  if shape not in SCHEDULES:
    raise ValueError(f'schedule shape must be one of {SCHEDULES}, got {shape!r}')
  if shape == 'linear':
    return warmup_linear_decay(base_learning_rate, total_steps, warmup_fraction)
  if total_steps <= 0:
    raise ValueError(f'total_steps must be positive, got {total_steps}')
  if not 0.0 <= warmup_fraction < 1.0:
    raise ValueError(f'warmup_fraction must be in [0, 1), got {warmup_fraction}')
  warmup = max(1, int(round(warmup_fraction * total_steps)))
  after = (
      optax.cosine_decay_schedule(base_learning_rate, max(1, total_steps - warmup))
      if shape == 'cosine'
      else optax.constant_schedule(base_learning_rate)
  )
  return optax.join_schedules(
      [optax.linear_schedule(0.0, base_learning_rate, warmup), after], [warmup]
  )


def p5_adamw(
    total_steps: int,
    learning_rate: float = 1e-3,
    warmup_fraction: float = 0.05,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-6,
    weight_decay: float = 0.01,
    clip_norm: float | None = 1.0,
    decay_mask: str = 'matrices',
) -> Optimizer:
  """AdamW with P5's defaults: lr 1e-3, eps 1e-6, wd 0.01, 5% warm-up + linear decay, clip 1.

  `decay_mask`: 'matrices' or P5's own rule 'p5' (module docstring).
  """
  schedule = warmup_linear_decay(learning_rate, total_steps, warmup_fraction)
  parts = [optax.clip_by_global_norm(clip_norm)] if clip_norm else []
  parts.append(
      optax.adamw(
          schedule,
          b1=b1,
          b2=b2,
          eps=eps,
          weight_decay=weight_decay,
          mask=weight_decay_mask(decay_mask),
      )
  )
  return Optimizer(optax.chain(*parts), schedule)


def as_optimizer(optimizer: Optimizer | optax.GradientTransformation) -> Optimizer:
  """Accept a bare optax transformation wherever an `Optimizer` is expected."""
  return optimizer if isinstance(optimizer, Optimizer) else Optimizer(optimizer)


def adafactor(
    total_steps: int,
    learning_rate: float = 1e-2,
    warmup_fraction: float = 0.05,
    schedule: str = 'cosine',
    decay_rate: float = 0.8,
    clipping_threshold: float | None = 1.0,
    multiply_by_parameter_scale: bool = True,
    min_dim_size_to_factor: int = 128,
) -> Optimizer:
  """T5X's Adafactor (factored second moments, update clipping, parameter-scaled steps) under a
  warm-up + `schedule` learning rate (see `warmup_then_decay`); defaults as T5X's (lr 1e-2,
  decay rate 0.8, clipping 1.0)."""
  lr = warmup_then_decay(learning_rate, total_steps, warmup_fraction, schedule)
  tx = optax.adafactor(
      lr,
      min_dim_size_to_factor=min_dim_size_to_factor,
      decay_rate=decay_rate,
      multiply_by_parameter_scale=multiply_by_parameter_scale,
      clipping_threshold=clipping_threshold,
  )
  return Optimizer(tx, lr)
