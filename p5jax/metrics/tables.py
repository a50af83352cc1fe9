"""Print evaluation results in the layout of P5's tables: one row per prompt, one column per
metric (e.g. rows 2-3 / 2-13, columns HR@5 NDCG@5 HR@10 NDCG@10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def format_table(
    results: Mapping[str, Mapping[str, float]],
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


def format_blocks(results: Mapping[str, Mapping[str, float]], *, digits: int = 4) -> str:
  """`format_table` once per group of rows with the same metrics (a family's prompts and
  their baselines), groups in first-seen order, rows in their given order."""
  groups: dict[tuple[str, ...], dict[str, Mapping[str, float]]] = {}
  for name, row in results.items():
    groups.setdefault(tuple(sorted(row)), {})[name] = row
  return '\n\n'.join(format_table(rows, digits=digits) for rows in groups.values())
