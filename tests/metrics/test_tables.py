"""The printed results table: P5's per-family layout, under 100 columns."""

from p5jax.metrics.tables import format_blocks, format_table

RANKING = {'HR@1': 0.01, 'HR@5': 0.05, 'NDCG@5': 0.03, 'HR@10': 0.1, 'NDCG@10': 0.04}
TEXT = {'BLEU-1': 11.1, 'BLEU-4': 1.5, 'ROUGE-1': 33.3, 'ROUGE-2': 5.0, 'ROUGE-L': 12.2}
RATING = {'RMSE': 1.2, 'MAE': 0.9, 'count': 40.0, 'unparseable': 0.0}


def _demo_results(prefix='p5_demo'):
  """Shaped like the demo's results.json: every family, popularity rows of ranking tasks."""
  results = {}
  for family, template, row in [
      ('rating', '1_6', RATING),
      ('rating', '1_10', RATING),
      ('sequential', '2_13', {**RANKING, 'invalid_rate': 0.7}),
      ('sequential', '2_3', {**RANKING, 'invalid_rate': 0.7}),
      ('explanation', '3_12', TEXT),
      ('explanation', '3_3', TEXT),
      ('review', '4_1', {'BLEU-2': 2.0, 'ROUGE-1': 9.0, 'ROUGE-2': 1.0, 'ROUGE-L': 8.0}),
      ('review', '4_2', RATING),
      ('direct', '5_1', RANKING),
      ('direct', '5_8', {**RANKING, 'invalid_rate': 0.1}),
      ('zeroshot', '6_1', RATING),
  ]:
    task = f'{prefix}_{family}_{template}'
    results[task] = dict(row)
    if 'HR@5' in row:
      results[f'popularity/{task}'] = dict(RANKING)
  return dict(sorted(results.items()))  # as results.json stores them


def test_demo_table_fits_100_columns_one_block_per_family():
  text = format_blocks(_demo_results())
  assert max(map(len, text.splitlines())) <= 100
  titles = [line for line in text.splitlines() if line.startswith('**')]
  assert titles == [
      f'**{f} (p5_demo)**'
      for f in ('rating', 'sequential', 'explanation', 'review', 'direct', 'zeroshot')
  ]
  sequential = text.split('**sequential (p5_demo)**')[1].split('**')[0].strip().splitlines()
  assert [c.strip() for c in sequential[0].split('|')[1:-1]] == [
      'Prompt',
      'HR@5',
      'NDCG@5',
      'HR@10',
      'NDCG@10',
  ]
  labels = [line.split('|')[1].strip() for line in sequential[2:]]
  assert labels == ['2-3', '2-3 popularity', '2-13', '2-13 popularity']
  assert 'RMSE' in text.split('**rating')[1].split('**')[1]
  assert text.splitlines()[-1].startswith('Also in results.json: ') and 'invalid_rate' in text


def test_long_dataset_names_still_fit():
  text = format_blocks(_demo_results('p5_beauty_original_with_a_long_name'))
  assert max(map(len, text.splitlines())) <= 100


def test_table_layout():
  table = format_table(
      {'2-3': {'HR@5': 0.05, 'NDCG@5': 0.037}, '2-13': {'HR@5': 0.049}}, title='Beauty'
  )
  lines = table.splitlines()
  assert lines[0] == '**Beauty**'
  assert lines[2].split('|')[1:-1] == [' Prompt ', ' HR@5   ', ' NDCG@5 ']
  assert '0.0370' in lines[4] and lines[5].rstrip().endswith('-      |')


def test_other_tasks_group_rows_by_their_metrics():
  blocks = format_blocks(
      {
          'a': {'HR@5': 0.1},
          'b': {'RMSE': 1.0, 'MAE': 0.5},
          'popularity/a': {'HR@5': 0.2},
      }
  ).split('\n\n')
  assert len(blocks) == 2
  assert [line.split('|')[1].strip() for line in blocks[0].splitlines()[2:]] == [
      'a',
      'popularity/a',
  ]
  assert 'RMSE' in blocks[1].splitlines()[0]
