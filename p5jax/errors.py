"""`UserError`: a problem the user can fix (bad input, configuration, a damaged file).

The command lines (`p5jax`, `p5jax-prepare`) print a `UserError` as one line,
`p5jax: error: <message>`, without a traceback (unless `--verbose`), and exit with status 1.
Any other exception is a bug and keeps its traceback. The message names the path (and line or
field) and says what to do.
"""

from __future__ import annotations

import sys
import traceback

EXIT_USER_ERROR = 1  # a UserError: fix what the message names, then rerun
EXIT_PREEMPTED = 75  # EX_TEMPFAIL: stopped by SIGTERM after saving; rerun to resume


def one_line(text: str) -> str:
  """`text` with each run of whitespace (newlines included) as one space, ends stripped: the one
  whitespace rule of p5jax (error lines, item ID strings, decoded text compared to targets)."""
  return ' '.join(text.split())


class UserError(Exception):
  """Bad input or configuration, or a damaged file: reported in one line at the command line."""


def define_verbose_flag() -> None:
  """`--verbose` (shared by the command lines; defined once per process)."""
  from absl import flags

  if 'verbose' not in flags.FLAGS:
    flags.DEFINE_bool('verbose', False, 'On an error, print its traceback before the one line.')


def own_help(usage: str, modules: tuple[str, ...]) -> None:
  """Makes `--help` print `usage` and the flags the `modules` define (plus `--verbose`).

  absl's `--help` lists the flags of the module named by `sys.argv[0]`, which for a console
  script is the generated launcher that defines none ("Try --helpfull"). Call before `app.run`.
  """
  from absl import flags

  sys.modules['__main__'].__doc__ = usage.replace('%', '%%')
  wanted = [f for m in modules for f in flags.FLAGS.get_key_flags_for_module(m)]
  if 'verbose' in flags.FLAGS:
    wanted.append(flags.FLAGS['verbose'])
  for flag in wanted:
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def report(error: BaseException, *, verbose: bool, prefix: str = 'error') -> None:
  """Prints `error` as the last line of stderr (`p5jax: <prefix>: ...`); with `verbose`, its
  traceback first."""
  if verbose:
    traceback.print_exception(error, file=sys.stderr)
  # One line, whatever the message holds; without the "In call to configurable ..." lines gin
  # appends to an exception raised inside a configurable.
  message = one_line(str(error).split('\n  In call to configurable')[0])
  print(f'p5jax: {prefix}: {message}', file=sys.stderr, flush=True)
