"""`p5jax.host_allocator`: freed large blocks are reused instead of faulted in again."""

import os
import platform
import subprocess
import sys

import pytest

from p5jax import host_allocator

_FAULTS = """
import resource, sys
import numpy as np
from p5jax import host_allocator
tuned = host_allocator.tune(sys.argv[1])
def faults_of_one_block():
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  block = np.ones(64 * 2**20 // 8)  # 64 MiB, written (faulted in) once
  del block
  return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_one_block()
print(tuned, min(faults_of_one_block() for _ in range(3)))
"""


def _run(choice: str, **env: str) -> tuple[bool, int]:
  out = subprocess.run(
      [sys.executable, '-c', _FAULTS, choice],
      env={**os.environ, **env},
      capture_output=True,
      text=True,
      check=True,
  ).stdout.split()
  return out[0] == 'True', int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='the tuning is glibc-only')
def test_tuned_process_reuses_a_freed_block_without_page_faults():
  tuned, faults = _run('tuned')
  default, default_faults = _run('default')
  assert tuned and not default
  # glibc maps and unmaps a block this large every time: at least one fault per 2 MiB huge
  # page (more with 4 KiB pages); tuned, the freed block is reused as it is
  assert default_faults >= 64 // 2 // 2
  assert faults < 8


def test_auto_leaves_an_accelerator_host_alone():
  tuned, _ = _run('auto', JAX_PLATFORMS='cuda')
  assert not tuned


def test_the_environment_chooses_and_a_bad_choice_is_an_error(monkeypatch):
  monkeypatch.setenv(host_allocator.ENV, 'fastest')
  with pytest.raises(ValueError, match='P5JAX_HOST_ALLOCATOR'):
    host_allocator.tune()
