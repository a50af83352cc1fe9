"""Gin plumbing for the launcher: `--gin.NAME=VALUE` rewriting, search paths, early checks."""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import re
from collections.abc import Sequence

import gin

from p5jax import gin_configs
from p5jax.errors import UserError

# Entry functions a run gin file binds, by run mode (the file's binding picks the mode).
ENTRY_SELECTORS = {
    'train': 'train_lib.train',
    'eval': 'evaluation.evaluate',
    'infer': 'inference.infer',
}


class GinConfigError(UserError, ValueError):
  """A gin file or binding is invalid; the message names it."""


_MACRO_BINDING = re.compile(r'^\s*([A-Z][A-Z0-9_]*)\s*=', flags=re.M)
_MACRO_REFERENCE = re.compile(r'%([A-Za-z_][\w.]*)')


def rewrite_gin_args(argv: Sequence[str]) -> list[str]:
  """`--gin.NAME=VALUE` -> `--gin_bindings=NAME = VALUE` (T5X's shorthand)."""
  out = []
  for arg in argv:
    m = re.fullmatch(r'--gin\.([^=]+)=(.*)', arg, flags=re.S)
    out.append(f'--gin_bindings={m.group(1)} = {m.group(2)}' if m else arg)
  return out


def default_search_paths() -> list[str]:
  """The working directory, then the installed `p5jax.gin_configs` package (so `runs/demo.gin`
  resolves anywhere), then the `p5jax` package itself (so `gin_configs/runs/demo.gin` does too)."""
  configs = os.path.dirname(os.path.abspath(gin_configs.__file__))
  return ['.', configs, os.path.dirname(configs)]


@contextlib.contextmanager
def _quiet_search_probes():
  """gin logs an ERROR for every search path it probes without a hit; those are not errors."""
  probe = lambda record: not record.getMessage().startswith('Path not found:')  # noqa: E731
  root = logging.getLogger()
  root.addFilter(probe)
  try:
    yield
  finally:
    root.removeFilter(probe)


def parse_gin(
    gin_files: Sequence[str], gin_bindings: Sequence[str], search_paths: Sequence[str] = ()
) -> None:
  """Parse files then bindings (later override earlier); errors name the file or binding."""
  with _quiet_search_probes(), _tolerant_file_readers():
    _parse_gin(gin_files, gin_bindings, search_paths)


@contextlib.contextmanager
def _tolerant_file_readers():
  """gin's Python-package file reader raises TypeError when the first directory of a gin path
  (e.g. `runs/` of `runs/demo.gin`) is importable as a namespace package, as a `runs/` model
  directory in the working directory is under `python -m`: such a probe means "not there"."""

  def tolerant(exists):
    def check(path: str) -> bool:
      try:
        return exists(path)
      except (TypeError, ValueError, ImportError):
        return False

    return check

  readers = gin.config._FILE_READERS  # noqa: SLF001 (gin exposes no way to wrap a reader)
  saved = list(readers)
  readers[:] = [(read, tolerant(exists)) for read, exists in saved]
  try:
    yield
  finally:
    readers[:] = saved


def _parse_gin(gin_files, gin_bindings, search_paths) -> None:
  for path in list(search_paths) + default_search_paths():
    gin.add_config_file_search_path(path)
  for f in gin_files:
    try:
      gin.parse_config_file(f)
    except OSError as e:
      raise GinConfigError(
          f'gin file {f!r} not found in search paths '
          f'{list(search_paths) + default_search_paths()}'
      ) from e
    except Exception as e:
      raise GinConfigError(f'in gin file {f!r}: {e}') from e
  check_macro_bindings(gin_bindings)
  for binding in gin_bindings:
    try:
      gin.parse_config(binding)
    except Exception as e:
      raise GinConfigError(f'bad gin binding {binding!r}: {e}') from e
  try:
    gin.finalize()  # unset %gin.REQUIRED macros fail here, naming the macro
  except ValueError as e:
    raise GinConfigError(str(e)) from e


def known_macros() -> set[str]:
  """Macros the parsed gin files define or reference."""
  defined = {scope for scope, selector in gin.config._CONFIG if selector == 'gin.macro'}  # noqa: SLF001
  return defined | set(_MACRO_REFERENCE.findall(gin.config_str()))


def check_macro_bindings(gin_bindings: Sequence[str]) -> None:
  """A `GinConfigError` for a binding of an UPPER-CASE macro (`--gin.TRAIN_STEPZ=60`) that no
  parsed gin file defines or uses, nor another binding uses: a misspelt macro would otherwise
  be accepted and the run would silently use the default."""
  known = known_macros()
  for binding in gin_bindings:
    known |= set(_MACRO_REFERENCE.findall(binding))
  for binding in gin_bindings:
    for name in _MACRO_BINDING.findall(binding):
      if name not in known:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f' (did you mean {close[0]}?)' if close else ''
        raise GinConfigError(
            f'--gin.{name}: no gin file given defines the macro {name}{hint}; check the '
            'spelling, or add the gin file that uses it'
        )


def entry_run_mode() -> str:
  """The run mode whose entry function the parsed config binds (exactly one)."""
  text = gin.config_str()
  found = [
      mode
      for mode, sel in ENTRY_SELECTORS.items()
      if re.search(rf'(^|[\s.]){re.escape(sel)}\.\w+\s*=', text, flags=re.M)
  ]
  if len(found) != 1:
    raise GinConfigError(
        f"cannot choose the run mode from the gin config (it binds "
        f"{found or 'none'} of {sorted(ENTRY_SELECTORS)}); pass "
        "--run_mode or include one of gin_configs/runs/{train,eval,infer}.gin"
    )
  return found[0]


def query_macro(name: str, default=None):
  try:
    return gin.query_parameter(f'%{name}')
  except ValueError:
    return default
