import gzip
import os

import pytest
from absl import flags

from p5jax.data import prepare_main


@pytest.fixture
def run_main():
  def run(*args):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['p5jax-prepare', *args])
    return prepare_main.main(['p5jax-prepare'])

  yield run
  flags.FLAGS.unparse_flags()


def test_prints_summary_and_writes_manifest(sequences_dir, tmp_path, run_main, capsys):
  out = str(tmp_path / 'out')
  assert (
      run_main(
          '--dataset=sequences',
          f'--raw_dir={sequences_dir}',
          f'--out_dir={out}',
          '--num_negatives=2',
          '--protocol=original',
      )
      == 0
  )
  text = capsys.readouterr().out
  assert 'users 15  items 12' in text and 'density' in text and 'no reviews' in text
  assert os.path.isfile(os.path.join(out, 'manifest.json'))


def test_malformed_input_exits_nonzero_naming_line(amazon_dir, tmp_path, run_main, capsys):
  path = os.path.join(amazon_dir, 'reviews_Beauty_5.json.gz')
  with gzip.open(path, 'rt') as f:
    lines = f.read().splitlines()
  lines[6] = 'not json'
  with gzip.open(path, 'wt') as f:
    f.write('\n'.join(lines))
  assert (
      run_main('--dataset=beauty', f'--raw_dir={amazon_dir}', f"--out_dir={tmp_path / 'out'}") == 1
  )
  assert 'reviews_Beauty_5.json.gz, line 7: malformed JSON' in capsys.readouterr().err


def test_id_schemes_are_built_with_p5jax_indexing(sequences_dir, tmp_path, run_main):
  out = tmp_path / 'out'
  assert (
      run_main(
          '--dataset=sequences',
          f'--raw_dir={sequences_dir}',
          f'--out_dir={out}',
          '--num_negatives=2',
          '--id_schemes=rid',
      )
      == 0
  )
  assert (out / 'indexes' / 'rid.json').is_file()
  assert '"rid"' in (out / 'manifest.json').read_text()


def test_scheme_refused_by_indexing_exits_nonzero(sequences_dir, tmp_path, run_main, capsys):
  assert (
      run_main(
          '--dataset=sequences',
          f'--raw_dir={sequences_dir}',
          f"--out_dir={tmp_path / 'out'}",
          '--num_negatives=2',
          '--id_schemes=original',
      )
      == 1
  )  # leaky numbering under protocol=corrected
  assert "error: scheme 'original'" in capsys.readouterr().err


def test_second_prepare_into_one_out_dir_is_refused_unless_overwrite(
    sequences_dir, amazon_dir, tmp_path, run_main, capsys
):
  out = tmp_path / 'out'
  args = ['--dataset=sequences', f'--raw_dir={sequences_dir}', f'--out_dir={out}']
  assert run_main(*args, '--num_negatives=2') == 0
  capsys.readouterr()
  beauty = ['--dataset=beauty', f'--raw_dir={amazon_dir}', f'--out_dir={out}', '--num_negatives=2']
  assert run_main(*beauty) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert err[-1].startswith(f'p5jax: error: --out_dir {out} is not empty') and len(err) == 1
  assert run_main(*beauty, '--overwrite') == 0
  text = capsys.readouterr().out
  assert 'note: duplicate reviews (same user, item and time) dropped: 0' in text
  assert '"beauty"' in (out / 'manifest.json').read_text()


def test_bad_gzip_is_one_line_unless_verbose(amazon_dir, tmp_path, run_main, capsys):
  path = os.path.join(amazon_dir, 'reviews_Beauty_5.json.gz')
  with gzip.open(path, 'rb') as f:
    plain = f.read()
  with open(path, 'wb') as f:
    f.write(plain)  # plain JSON under a .gz name
  args = ['--dataset=beauty', f'--raw_dir={amazon_dir}', f"--out_dir={tmp_path / 'out'}"]
  assert run_main(*args) == 1
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and 'Traceback' not in err
  assert err.startswith(f'p5jax: error: {path}: not a gzip file')
  assert run_main(*args, '--verbose') == 1
  err = capsys.readouterr().err
  assert 'Traceback' in err and err.splitlines()[-1].startswith('p5jax: error: ')
  assert not (tmp_path / 'out').exists()
