"""Where a compiled JAX function spends its time, by HLO op category, from a jax.profiler trace.

    from xla_profile import profile_breakdown
    print(profile_breakdown(compiled, args, calls=5))  # trace_dir: a temporary directory

The trace's per-op events (XLA:CPU thunks, GPU kernels) are mapped to the HLO instruction of
the same name in `compiled.as_text()`, classified by what the instruction (or the fusion it
calls) contains: matmul, transpose, gather, reduce, top-k/sort, cache update, copy, other;
and by the computation that holds it (the entry or a while-loop body). Loop and conditional
instructions are containers whose time their contents already count, so they are skipped.
"""

from __future__ import annotations

import collections
import glob
import re
import tempfile
from typing import Any

import jax

_CATEGORIES = (
    ('dot', 'matmul'),
    ('convolution', 'matmul'),
    ('sort', 'top-k/sort'),
    ('topk', 'top-k/sort'),
    ('gather', 'gather'),
    ('scatter', 'scatter'),
    ('dynamic-update-slice', 'cache update'),
    ('transpose', 'transpose'),
    ('reduce', 'reduce'),
    ('copy', 'copy'),
)
_CONTAINERS = ('while', 'conditional', 'call')


def _parse_hlo(text: str) -> tuple[dict[str, str], dict[str, set[str]]]:
  """instruction name -> its computation, and -> the ops it and its fused computation contain
  (None for loops and conditionals)."""
  computation, where, ops, calls = None, {}, collections.defaultdict(set), {}
  for line in text.splitlines():
    head = re.match(r'^(?:ENTRY )?%?([\w.\-]+) .*\{$', line)
    if head and not line.startswith(' '):
      computation = head.group(1)
      continue
    inst = re.match(r'^\s+(?:ROOT )?%?([\w.\-]+) = .*? ([\w\-]+)\(', line)
    if inst and computation:
      name, op = inst.groups()
      target = re.search(r'custom_call_target="([^"]+)"', line)
      where[name] = computation
      ops[computation].add(op.lower() + (':' + target.group(1).lower() if target else ''))
      called = re.search(r'calls=%?([\w.\-]+)', line)
      calls[name] = (op.lower(), called.group(1) if called else None)
  contents = {
      name: None if op in _CONTAINERS else {op} | (ops.get(called, set()) if called else set())
      for name, (op, called) in calls.items()
  }
  return where, contents


def _category(contents: set[str] | None) -> str | None:
  if contents is None:
    return None
  for key, category in _CATEGORIES:
    if any(key in op for op in contents):
      return category
  return 'elementwise/other'


def profile_breakdown(
    compiled: Any, args: tuple, *, calls: int, trace_dir: str | None = None
) -> dict:
  """Run `compiled(*args)` `calls` times under the profiler; ms per call by op category, by
  computation, and the 10 costliest instructions. The trace goes to `trace_dir` (None: a
  temporary directory, removed after)."""
  if trace_dir is None:
    with tempfile.TemporaryDirectory() as tmp:
      return profile_breakdown(compiled, args, calls=calls, trace_dir=tmp)
  where, contents = _parse_hlo(compiled.as_text())
  jax.block_until_ready(compiled(*args))
  with jax.profiler.trace(trace_dir):
    for _ in range(calls):
      jax.block_until_ready(compiled(*args))
  path = sorted(glob.glob(f'{trace_dir}/**/*.xplane.pb', recursive=True))[-1]
  by_category, by_computation, by_op = (collections.Counter() for _ in range(3))
  for plane in jax.profiler.ProfileData.from_file(path).planes:
    for line in plane.lines:
      for event in line.events:
        name = event.name
        category = _category(contents[name]) if name in contents else None
        if category is None:
          continue
        ms = event.duration_ns / 1e6 / calls
        by_category[category] += ms
        by_computation[where[name]] += ms
        by_op[f'{name} ({category})'] += ms
  total = sum(by_category.values())
  return {
      'total_op_ms': total,
      'by_category': {k: round(v, 2) for k, v in by_category.most_common()},
      'by_computation': {k: round(v, 2) for k, v in by_computation.most_common(4)},
      'top_ops': {k: round(v, 2) for k, v in by_op.most_common(10)},
  }


def format_breakdown(breakdown: dict) -> str:
  total = breakdown['total_op_ms'] or 1.0
  lines = [f"op time {breakdown['total_op_ms']:.1f} ms per call (summed over threads)"]
  for title in ('by_category', 'by_computation', 'top_ops'):
    lines.append(f'  {title}:')
    lines += [
        f'    {k[:60]:60s} {v:8.2f} ms {100 * v / total:5.1f} %'
        for k, v in breakdown[title].items()
    ]
  return '\n'.join(lines)
