"""Sharded state initialisation and the jitted train / eval steps.

The train step is `grads (microbatched) -> clip + AdamW (the optax chain) -> new state`, with the
dropout key `fold_in(rng, step)` so a resumed run draws exactly the keys the straight run drew.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec

from p5jax.training.optimizers import Optimizer, as_optimizer
from p5jax.training.partitioning import Partitioner
from p5jax.training.train_state import TrainState

Batch = Mapping[str, jax.Array]


def _split_microbatches(batch: Batch, num_microbatches: int, mesh) -> Batch:
  """[B, ...] -> [M, B/M, ...] taking every M-th example, so each device keeps its own rows."""

  def split(x):
    if x.shape[0] % num_microbatches:
      raise ValueError(
          f'batch size {x.shape[0]} is not divisible by ' f'num_microbatches={num_microbatches}'
      )
    y = x.reshape((x.shape[0] // num_microbatches, num_microbatches) + x.shape[1:])
    y = jnp.swapaxes(y, 0, 1)
    return jax.lax.with_sharding_constraint(y, NamedSharding(mesh, PartitionSpec(None, 'data')))

  return jax.tree.map(split, dict(batch))


class Trainer:
  """Owns the partitioned init, train step and eval step of one model + optimizer.

  Args:
    model: a T5X-style wrapper (`get_initial_variables`, `loss_fn`, `eval_fn`).
    optimizer: an `Optimizer` (or bare optax transformation).
    partitioner: mesh and logical-axis rules.
    input_shapes: model feature name -> global shape, used for the abstract init.
    num_microbatches: gradient accumulation; the batch is split into this many parts whose
      gradients are summed with weights that make the result equal the full-batch gradient
      (token shares for `loss_normalization='token_mean'`, equal shares otherwise).
  """

  def __init__(
      self,
      model: Any,
      optimizer: Optimizer | optax.GradientTransformation,
      partitioner: Partitioner,
      input_shapes: Mapping[str, tuple[int, ...]],
      input_types: Mapping[str, Any] | None = None,
      num_microbatches: int = 1,
  ):
    self.model = model
    self.optimizer = as_optimizer(optimizer)
    self.partitioner = partitioner
    self.num_microbatches = max(1, int(num_microbatches))
    self._input_shapes = dict(input_shapes)
    self._input_types = input_types
    with partitioner.context():
      self.abstract_boxed_state = jax.eval_shape(self._boxed_init, jax.random.key(0))
    self.state_shardings: TrainState = partitioner.sharding_of_abstract(self.abstract_boxed_state)
    self.abstract_state: TrainState = jax.tree.map(
        lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
        nn.unbox(self.abstract_boxed_state),
        self.state_shardings,
    )
    self._init = partitioner.partition(
        lambda rng: nn.unbox(self._boxed_init(rng)),
        in_shardings=None,
        out_shardings=self.state_shardings,
    )
    batch_sharding = partitioner.data_sharding
    self._train_step = partitioner.partition(
        self._train_step_fn,
        in_shardings=(self.state_shardings, batch_sharding, None),
        out_shardings=(self.state_shardings, None),
        donate_argnums=(0,),
    )
    self._eval_step = partitioner.partition(
        self._eval_step_fn,
        in_shardings=(self.state_shardings.params, batch_sharding),
        out_shardings=None,
    )

  # --- init ------------------------------------------------------------------------------
  def _boxed_init(self, rng: jax.Array) -> TrainState:
    variables = self.model.get_initial_variables(rng, self._input_shapes, self._input_types)
    params = variables['params']
    return TrainState.create(params, self.optimizer.tx)

  def init_state(self, rng: jax.Array) -> TrainState:
    """A freshly initialised state, created directly in its shardings (no host copy)."""
    return self._init(rng)

  def state_from_params(self, params: Any) -> TrainState:
    """A state at step 0 with the given (restored) params and fresh optimizer state."""
    init_opt = self.partitioner.partition(
        self.optimizer.tx.init,
        in_shardings=(self.state_shardings.params,),
        out_shardings=self.state_shardings.opt_state,
    )
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=init_opt(params))

  # --- steps -----------------------------------------------------------------------------
  def _grads(self, params, batch, rng):
    grad_fn = jax.value_and_grad(self.model.loss_fn, has_aux=True)
    if self.num_microbatches == 1:
      (loss, metrics), grads = grad_fn(params, batch, rng)
      return loss, metrics, grads
    micro = _split_microbatches(batch, self.num_microbatches, self.partitioner.mesh)
    weights = self._microbatch_weights(micro)

    def body(carry, xs):
      i, w, mb = xs
      (loss, metrics), grads = grad_fn(params, mb, jax.random.fold_in(rng, i))
      scaled = jax.tree.map(lambda x: w * x, (loss, metrics, grads))
      return jax.tree.map(jnp.add, carry, scaled), None

    first = jax.tree.map(lambda x: x[0], micro)
    (loss0, metrics0), grads0 = jax.eval_shape(grad_fn, params, first, rng)
    zeros = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), (loss0, metrics0, grads0))
    total, _ = jax.lax.scan(body, zeros, (jnp.arange(self.num_microbatches), weights, micro))
    return total

  def _microbatch_weights(self, micro: Batch) -> jax.Array:
    """Each microbatch's share of the full-batch loss: its share of target tokens for a
    token-mean loss (so accumulation is exact), equal shares otherwise."""
    if getattr(self.model, 'loss_normalization', 'token_mean') != 'token_mean':
      return jnp.full((self.num_microbatches,), 1.0 / self.num_microbatches)
    tokens = micro['decoder_loss_weights'].astype(jnp.float32).sum(axis=(1, 2))
    return tokens / jnp.maximum(tokens.sum(), 1.0)

  def _train_step_fn(self, state: TrainState, batch: Batch, rng: jax.Array):
    dropout_rng = jax.random.fold_in(rng, state.step)
    loss, metrics, grads = self._grads(state.params, batch, dropout_rng)
    updates, opt_state = self.optimizer.tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    out = {k: jnp.asarray(v, jnp.float32) for k, v in dict(metrics).items()}
    out['loss'] = loss.astype(jnp.float32)
    out['grad_norm'] = optax.global_norm(grads)
    out['param_norm'] = optax.global_norm(params)  # NaN here means the update broke params
    if self.optimizer.learning_rate_fn is not None:
      out['learning_rate'] = jnp.asarray(self.optimizer.learning_rate_fn(state.step), jnp.float32)
    return TrainState(step=state.step + 1, params=params, opt_state=opt_state), out

  def train_step(
      self, state: TrainState, batch: Batch, rng: jax.Array
  ) -> tuple[TrainState, dict[str, jax.Array]]:
    """One optimizer update; `state` is donated."""
    return self._train_step(state, batch, rng)

  def _eval_step_fn(self, params, batch: Batch):
    loss, metrics = self.model.eval_fn(params, batch)
    out = {k: jnp.asarray(v, jnp.float32) for k, v in dict(metrics).items()}
    out['loss'] = jnp.asarray(loss, jnp.float32)
    return out

  def eval_step(self, params: Any, batch: Batch) -> dict[str, jax.Array]:
    """Teacher-forced loss/metrics of one batch (no update)."""
    return self._eval_step(params, batch)


def describe_params(abstract_state: TrainState, partitioner: Partitioner) -> str:
  """`model-info.txt`: one line per variable with shape, dtype and mesh partition spec."""
  lines = []
  for name, tree in (('params', abstract_state.params), ('opt_state', abstract_state.opt_state)):
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    total = 0
    for path, leaf in flat:
      spec = getattr(getattr(leaf, 'sharding', None), 'spec', PartitionSpec())
      total += int(np.prod(leaf.shape))
      lines.append(
          f'{name}{jax.tree_util.keystr(path):<70s} {str(leaf.shape):<20s} '
          f'{str(leaf.dtype):<8s} {spec}'
      )
    lines.append(f'Total {name} size: {total:,}')
  mesh = partitioner.mesh
  lines.insert(
      0,
      f'Mesh: {dict(mesh.shape)} over {mesh.devices.size} devices; '
      f'rules: {partitioner.logical_axis_rules}',
  )
  return '\n'.join(lines) + '\n'


def abstract_params(
    model: Any,
    partitioner: Partitioner,
    input_shapes: Mapping[str, tuple[int, ...]],
    input_types: Mapping[str, Any] | None = None,
) -> Any:
  """Params as `ShapeDtypeStruct`s carrying their shardings (for restore-only entry points)."""
  with partitioner.context():
    boxed = jax.eval_shape(
        lambda: model.get_initial_variables(jax.random.key(0), input_shapes, input_types)['params']
    )
  shardings = partitioner.sharding_of_abstract(boxed)
  return jax.tree.map(
      lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), nn.unbox(boxed), shardings
  )
