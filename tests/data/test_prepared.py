"""The prepared directory is trustworthy: atomic writes, per-file sha256, named mismatches."""

import json
import os

import pytest

from p5jax.data import DataFormatError, PreparedDataset, prepare, prepared
from p5jax.errors import UserError


def _prepare(raw_dir, out, dataset='sequences', **kw):
  kw.setdefault('num_negatives', 2)
  return prepare(dataset, raw_dir, str(out), **kw)


def test_manifest_lists_every_file_with_its_sha256(sequences_dir, tmp_path):
  out = tmp_path / 'out'
  manifest = _prepare(sequences_dir, out, id_schemes=('rid',))
  assert manifest['format_version'] == prepared.FORMAT_VERSION
  assert sorted(manifest['files']) == sorted(
      ['users.jsonl', 'items.jsonl', 'sequences.jsonl', 'negatives.jsonl', 'indexes/rid.json']
  )
  for rel, digest in manifest['files'].items():
    assert prepared.paths.sha256_file(out / rel) == digest
  assert json.loads((out / 'manifest.json').read_text()) == manifest
  assert sorted(os.listdir(tmp_path)) == ['out', 'seq']  # no temporary sibling left


def test_load_names_a_changed_a_missing_and_a_stray_file(sequences_dir, tmp_path):
  out = tmp_path / 'out'
  _prepare(sequences_dir, out)
  users = out / 'users.jsonl'
  original = users.read_bytes()
  users.write_bytes(original.replace(b'"user": 1,', b'"user": 9,'))
  with pytest.raises(DataFormatError, match=r'users\.jsonl: content differs from the sha256'):
    PreparedDataset.load(str(out))
  users.unlink()
  with pytest.raises(DataFormatError, match=r'users\.jsonl: missing, but listed'):
    PreparedDataset.load(str(out))
  users.write_bytes(original)
  (out / 'indexes').mkdir()
  (out / 'indexes' / 'sid.json').write_text('{}')  # e.g. left by an earlier preparation
  with pytest.raises(DataFormatError, match=r'indexes/sid\.json: not listed in manifest\.json'):
    PreparedDataset.load(str(out))
  (out / 'indexes' / 'sid.json').unlink()
  (out / 'vocab').mkdir()  # the vocabulary cache and hidden files are not dataset files
  (out / 'vocab' / 'sid.model').write_text('x')
  (out / '.users.jsonl.123.tmp').write_text('x')
  assert len(PreparedDataset.load(str(out)).users) == 15


def test_missing_directory_and_manifest_say_what_to_run(tmp_path):
  with pytest.raises(UserError, match=r'does not exist: create it with p5jax-prepare'):
    PreparedDataset.load(str(tmp_path / 'nope'))
  (tmp_path / 'empty').mkdir()
  with pytest.raises(DataFormatError, match=r'not a prepared dataset \(no manifest\.json\)'):
    PreparedDataset.load(str(tmp_path / 'empty'))


def test_second_prepare_into_one_directory_is_refused_or_replaced_whole(
    sequences_dir, amazon_dir, tmp_path
):
  out = tmp_path / 'out'
  _prepare(amazon_dir, out, dataset='beauty', id_schemes=('sid',))
  before = sorted(os.listdir(out))
  with pytest.raises(UserError, match=r'is not empty: .*--overwrite'):
    _prepare(sequences_dir, out)
  assert sorted(os.listdir(out)) == before
  manifest = _prepare(sequences_dir, out, overwrite=True)
  assert manifest['dataset'] == 'sequences' and not (out / 'reviews.jsonl').exists()
  assert not (out / 'indexes').exists()  # the first dataset's index is gone with it
  assert PreparedDataset.load(str(out)).manifest == manifest
  assert sorted(os.listdir(tmp_path)) == ['amazon', 'out', 'seq']


@pytest.mark.parametrize('existing', [False, True])
def test_failure_midway_leaves_nothing_that_loads(sequences_dir, tmp_path, monkeypatch, existing):
  out = tmp_path / 'out'
  if existing:
    _prepare(sequences_dir, out)
    kept = (out / 'manifest.json').read_bytes()
  real_write = prepared.write_jsonl

  def disk_full_at_negatives(path, records):
    if str(path).endswith('negatives.jsonl'):
      real_write(path, list(records)[:1])  # a part written, then the disk is full
      raise OSError(28, 'No space left on device')
    real_write(path, records)

  monkeypatch.setattr(prepared, 'write_jsonl', disk_full_at_negatives)
  with pytest.raises(OSError, match='No space left'):
    _prepare(sequences_dir, out, overwrite=True)
  assert sorted(os.listdir(tmp_path)) == (['out', 'seq'] if existing else ['seq'])
  if existing:  # the previous dataset is untouched
    assert (out / 'manifest.json').read_bytes() == kept
    PreparedDataset.load(str(out))


def test_a_bad_id_scheme_fails_before_any_work(sequences_dir, tmp_path):
  with pytest.raises(UserError, match=r"unknown ID scheme 'cidd'"):
    _prepare(sequences_dir, tmp_path / 'out', id_schemes=('sid', 'cidd'))
  assert not (tmp_path / 'out').exists()


def test_item_index_is_read_through_the_manifest_never_built(sequences_dir, tmp_path):
  out = tmp_path / 'out'
  _prepare(sequences_dir, out, id_schemes=('rid',))
  assert len(prepared.load_item_index(str(out), 'rid')) == 12
  with pytest.raises(UserError) as err:
    prepared.load_item_index(str(out), 'sid')
  assert f'python -m p5jax.indexing.build --prepared_dir={out} --scheme=sid' in str(err.value)
  assert not (out / 'indexes' / 'sid.json').exists()
  (out / 'indexes' / 'rid.json').write_text('{"tampered": true}')
  with pytest.raises(DataFormatError, match=r'rid\.json: content differs'):
    prepared.load_item_index(str(out), 'rid')


def test_an_index_added_later_is_recorded(sequences_dir, tmp_path):
  from p5jax.indexing.build import add_scheme

  out = tmp_path / 'out'
  _prepare(sequences_dir, out)
  add_scheme(str(out), 'sid', PreparedDataset.load(str(out)))
  manifest = PreparedDataset.load(str(out)).manifest  # verifies the new file too
  assert manifest['id_schemes'] == ['sid'] and 'indexes/sid.json' in manifest['files']
  assert len(prepared.load_item_index(str(out), 'sid')) == 12
