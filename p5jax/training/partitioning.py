"""Device mesh, logical-axis rules and sharded `jax.jit` (T5X `PjitPartitioner` on modern JAX).

The mesh always has the axes `('data', 'model')`. Parameters and activations carry logical axis
names (`vocab`, `embed`, `mlp`, `heads`, `batch`, ...); the rules below, kept as plain data so
gin can override them, map those names onto mesh axes. Shardings of a state pytree are derived
from the flax `LogicallyPartitioned` metadata of an abstract (`jax.eval_shape`) init, so nothing
is materialised on the host before being placed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

LogicalAxisRules = Sequence[tuple[str, str | tuple[str, ...] | None]]

# Logical axes that are never sharded (always appended, like T5X).
_REPLICATED_AXES = (
    'relpos_buckets',
    'abspos_buckets',
    'length',
    'layers',
    'stack',
    'mlp_activations',
)


def standard_logical_axis_rules(
    activation_partitioning_dims: int = 1,
    parameter_partitioning_dims: int = 1,
    additional_rules: LogicalAxisRules | None = None,
) -> tuple[tuple[str, Any], ...]:
  """T5X's default rules: batch->data, vocab/mlp/heads/joined_kv->model, embed/kv replicated.

  `parameter_partitioning_dims=2` also shards `embed` over `data` (FSDP-like);
  `activation_partitioning_dims=2` shards activation `embed` over `model`.
  """
  if activation_partitioning_dims not in (1, 2) or parameter_partitioning_dims not in (1, 2):
    raise ValueError(
        'activation_partitioning_dims and parameter_partitioning_dims must be '
        f'1 or 2, got {activation_partitioning_dims}, '
        f'{parameter_partitioning_dims}'
    )
  rules: list[tuple[str, Any]] = [
      ('batch', 'data'),
      ('vocab', 'model'),
      ('mlp', 'model'),
      ('heads', 'model'),
      ('joined_kv', 'model'),
      ('kv', None),
  ]
  if activation_partitioning_dims == 2:
    rules.append(('embed', 'model'))
  if parameter_partitioning_dims == 2:
    rules.append(('embed', 'data'))
  rules.append(('embed', None))
  rules.extend(additional_rules or ())
  rules.extend((name, None) for name in _REPLICATED_AXES)
  return tuple(rules)


@dataclasses.dataclass(frozen=True)
class DataLayout:
  """How this host's input is sharded: it reads shard `shard_id` of `num_shards`."""

  batch_size: int  # global batch
  shard_id: int
  num_shards: int

  @property
  def per_host_batch_size(self) -> int:
    return self.batch_size // self.num_shards


def _mesh_shape(num_devices: int, num_partitions: int | None) -> tuple[int, int]:
  num_partitions = num_partitions or 1
  if num_devices % num_partitions:
    raise ValueError(
        f'num_partitions={num_partitions} does not divide the ' f'{num_devices} available devices'
    )
  return num_devices // num_partitions, num_partitions


class Partitioner:
  """Builds the ('data', 'model') mesh and jits functions with `NamedSharding`s.

  Args:
    num_partitions: model-parallel ways (size of the 'model' axis, default 1); the rest is
      'data'.
    logical_axis_rules: logical -> mesh axis rules (see `standard_logical_axis_rules`).
    devices: devices to use (default: all global devices).
  """

  def __init__(
      self,
      num_partitions: int | None = None,
      logical_axis_rules: LogicalAxisRules | None = None,
      devices: Sequence[jax.Device] | None = None,
  ):
    devices = list(devices) if devices is not None else jax.devices()
    data, model = _mesh_shape(len(devices), num_partitions)
    # Auto axes: XLA propagates shardings from the in/out shardings and the logical
    # constraints (jax.make_mesh defaults to Explicit sharding-in-types otherwise).
    self.mesh: Mesh = jax.make_mesh(
        (data, model),
        ('data', 'model'),
        devices=devices,
        axis_types=(jax.sharding.AxisType.Auto,) * 2,
    )
    self.logical_axis_rules = tuple(
        tuple(r)
        for r in (
            logical_axis_rules if logical_axis_rules is not None else standard_logical_axis_rules()
        )
    )
    self.data_partition_spec = PartitionSpec('data')

  @property
  def num_data_shards(self) -> int:
    return self.mesh.shape['data']

  @contextlib.contextmanager
  def context(self):
    """Mesh + logical-axis rules, active while tracing so activation constraints resolve."""
    with jax.set_mesh(self.mesh), nn.logical_axis_rules(self.logical_axis_rules):
      yield

  # --- shardings -------------------------------------------------------------------------
  def logical_to_sharding(self, logical_specs: Any) -> Any:
    """Pytree of logical `PartitionSpec`s -> pytree of `NamedSharding`s."""
    return nn.logical_to_mesh_sharding(logical_specs, self.mesh, self.logical_axis_rules)

  def sharding_of_abstract(self, abstract_tree: Any) -> Any:
    """Shardings for a (possibly boxed) abstract pytree; unannotated leaves are replicated."""
    specs = nn.get_partition_spec(abstract_tree)
    return self.logical_to_sharding(specs)

  @property
  def data_sharding(self) -> NamedSharding:
    return NamedSharding(self.mesh, self.data_partition_spec)

  @property
  def replicated(self) -> NamedSharding:
    return NamedSharding(self.mesh, PartitionSpec())

  def get_data_layout(self, batch_size: int) -> DataLayout:
    """Each process reads its own shard of the dataset (T5X's `get_data_layout`)."""
    n = jax.process_count()
    if batch_size % self.num_data_shards:
      raise ValueError(
          f"batch_size={batch_size} is not divisible by the mesh 'data' axis "
          f"({self.num_data_shards})"
      )
    if batch_size % n:
      raise ValueError(f'batch_size={batch_size} is not divisible by process_count={n}')
    return DataLayout(batch_size=batch_size, shard_id=jax.process_index(), num_shards=n)

  # --- jit ---------------------------------------------------------------------------------
  def partition(
      self,
      fn: Callable,
      in_shardings: Any,
      out_shardings: Any,
      static_argnums: Sequence[int] = (),
      donate_argnums: Sequence[int] = (),
  ) -> Callable:
    """`jax.jit` with the given shardings; tracing, calls and `.lower` run inside
    `context()`."""
    jitted = jax.jit(
        fn,
        in_shardings=in_shardings,
        out_shardings=out_shardings,
        static_argnums=tuple(static_argnums),
        donate_argnums=tuple(donate_argnums),
    )

    def call(*args, **kwargs):
      with self.context():
        return jitted(*args, **kwargs)

    def lower(*args, **kwargs):
      with self.context():
        return jitted.lower(*args, **kwargs)

    call.lower = lower  # AOT lowering (HLO, cost analysis), like a jitted function
    return call

  def shard_batch(self, local_batch: dict[str, np.ndarray]) -> dict[str, jax.Array]:
    """Assemble global arrays sharded over 'data' from this host's part of the batch."""
    return {
        k: jax.make_array_from_process_local_data(self.data_sharding, np.asarray(v))
        for k, v in local_batch.items()
    }


PjitPartitioner = Partitioner  # T5X's gin name.
