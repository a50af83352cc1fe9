"""Print evaluation results in the layout of P5's tables: one block per prompt family, one row
per prompt (e.g. rows 2-3 / 2-13) with its baseline rows below it, the paper's metric columns
(sequential: HR@5 NDCG@5 HR@10 NDCG@10; rating: RMSE MAE; explanation: BLEU-4 ROUGE-1/2/L)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from p5jax.prompts.template import FAMILIES

Results = Mapping[str, Mapping[str, float]]

# The columns of P5's tables per family, in the paper's order; a block shows those its rows have.
FAMILY_COLUMNS = {
    'rating': ('RMSE', 'MAE'),
    'sequential': ('HR@5', 'NDCG@5', 'HR@10', 'NDCG@10'),
    'explanation': ('BLEU-4', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L'),
    'review': ('BLEU-2', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L', 'RMSE', 'MAE'),
    'direct': ('HR@1', 'HR@5', 'NDCG@5', 'HR@10', 'NDCG@10'),
    'zeroshot': ('RMSE', 'MAE', 'HR@1', 'HR@5', 'NDCG@5', 'HR@10', 'NDCG@10'),
}
_TEMPLATE = re.compile(r'\d+(_\d+)*')


def format_table(
    results: Results,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    digits: int = 4,
) -> str:
  """A Markdown table: ``results[prompt][metric]``; missing cells print as '-'.

  Columns default to the metrics in first-seen order across prompts.
  """
  if columns is None:
    columns = list(dict.fromkeys(m for row in results.values() for m in row))
  header = ['Prompt', *columns]
  body = [
      [str(prompt), *('-' if m not in row else f'{row[m]:.{digits}f}' for m in columns)]
      for prompt, row in results.items()
  ]
  widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

  def line(cells):
    return '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, widths)) + ' |'

  rows = [
      line(header),
      '|' + '|'.join('-' * (w + 2) for w in widths) + '|',
      *(line(r) for r in body),
  ]
  return '\n'.join(([f'**{title}**', ''] if title else []) + rows)


def _family_of(task: str) -> tuple[str, str, str] | None:
  """`p5_beauty_sequential_2_13` -> ('sequential', 'p5_beauty', '2-13'); None for a name that
  is not `<prefix>_<family>_<template>`."""
  for family in FAMILIES:
    prefix, sep, template = task.rpartition(f'_{family}_')
    if sep and _TEMPLATE.fullmatch(template):
      return family, prefix, template.replace('_', '-')
  return None


def _under_tasks(results: Results) -> list[str]:
  """Task rows in their order, each followed by its extra rows named `<kind>/<task>`."""
  order = []
  for name in results:
    if '/' not in name:
      order.append(name)
      order.extend(n for n in results if n.split('/', 1)[-1] == name and n != name)
  return order + [n for n in results if n not in order]


def format_blocks(results: Results, *, digits: int = 4) -> str:
  """The printed results of an evaluation: one `format_table` per P5 family (in P5's order,
  rows by template number, each task's baseline rows, e.g. `popularity/<task>`, labelled
  `<template> <baseline>` below it); rows of other tasks are grouped by the metrics they share.
  Metrics outside the paper's columns (e.g. HR@1 of sequential, invalid_rate) are only in
  results.json; a last line names them."""
  families: dict[str, dict[str, list[tuple]]] = {f: {} for f in FAMILIES}
  others: dict[tuple[str, ...], dict[str, Mapping[str, float]]] = {}
  for name in _under_tasks(results):
    kind, _, task = name.rpartition('/')
    parsed = _family_of(task)
    if parsed is None:
      others.setdefault(tuple(sorted(results[name])), {})[name] = results[name]
      continue
    family, prefix, template = parsed
    rows = families[family].setdefault(prefix, [])
    rows.append((tuple(map(int, template.split('-'))), kind, template, results[name]))
  blocks, hidden = [], set()
  for family, by_prefix in families.items():
    for prefix, rows in by_prefix.items():
      rows.sort(key=lambda r: (r[0], r[1] != ''))  # a template's task row, then its baselines
      table = {' '.join(filter(None, (t, kind))): row for _, kind, t, row in rows}
      present = {m for row in table.values() for m in row}
      columns = [c for c in FAMILY_COLUMNS[family] if c in present]
      hidden |= present - set(columns)
      blocks.append(
          format_table(
              table,
              columns=columns,
              title=f'{family} ({prefix})' if prefix else family,
              digits=digits,
          )
      )
  blocks.extend(format_table(rows, digits=digits) for rows in others.values())
  if hidden:
    blocks.append('Also in results.json: ' + ', '.join(sorted(hidden)))
  return '\n\n'.join(blocks)
