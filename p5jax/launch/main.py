"""`p5jax` command line: absl flags + gin run files -> train / eval / infer.

    p5jax --gin_file=models/<model>.gin --gin_file=runs/train.gin \
      --gin.MIXTURE_OR_TASK_NAME=\"p5_beauty_pretrain\" --gin.MODEL_DIR=\"runs/beauty\" \
      --gin.TRAIN_STEPS=1000 "--gin.TASK_FEATURE_LENGTHS={'inputs': 512, 'targets': 64}"

Bad gin bindings, a `--gin.NAME=` of a macro no gin file defines, unset required macros,
unknown task names, an unknown or unbuilt ID scheme, a missing prepared dataset and a MODEL_DIR
that is a file fail before any work (`--dry_run` runs the same checks, then prints the config).
A problem the user can fix (`p5jax.errors.UserError`) ends with one line
`p5jax: error: ...` and exit status 1 (`--verbose`: with its traceback); any other exception is
a bug and keeps its traceback. A SIGTERM saves a checkpoint and exits with status 75 (see
README, "When things go wrong").
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Callable, Sequence

import gin
from absl import app, flags

from p5jax import paths
from p5jax.errors import (
    EXIT_PREEMPTED,
    EXIT_USER_ERROR,
    UserError,
    define_verbose_flag,
    own_help,
    report,
)
from p5jax.launch.gin_flags import (
    ENTRY_SELECTORS,
    GinConfigError,
    entry_run_mode,
    parse_gin,
    query_macro,
    rewrite_gin_args,
)

FLAGS = flags.FLAGS
flags.DEFINE_multi_string('gin_file', [], 'Gin files, parsed in order (later override).')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings, after the files.')
flags.DEFINE_list(
    'gin_search_paths',
    ['.'],
    'Where gin files and includes are looked up; the '
    'installed gin_configs package is always searched last.',
)
flags.DEFINE_enum(
    'run_mode',
    None,
    ['train', 'eval', 'infer'],
    'What to run; by default the entry the gin files bind.',
)
flags.DEFINE_string('tfds_data_dir', None, 'TFDS data directory.')
flags.DEFINE_list('seqio_additional_cache_dirs', [], 'Extra seqio cache directories.')
flags.DEFINE_bool(
    'multiprocess_gpu',
    False,
    "Initialise jax.distributed (T5X's name); the "
    "cluster environment (SLURM, Open MPI, TPU) fills what the flags below omit.",
)
flags.DEFINE_bool('distributed', False, 'Same as --multiprocess_gpu, for any platform.')
flags.DEFINE_string('coordinator_address', None, 'host:port of process 0 (multi-host).')
flags.DEFINE_integer('process_count', None, 'Number of processes (multi-host).')
flags.DEFINE_integer('process_index', None, "This process's index (multi-host).")
flags.DEFINE_integer('initialization_timeout', 300, 'Seconds to wait for all processes.')
flags.DEFINE_bool(
    'dry_run',
    False,
    'Parse and check the configuration (task names, ID scheme, prepared dataset, MODEL_DIR) '
    'as a real run does before any work, print it, then exit.',
)
define_verbose_flag()

USAGE = """p5jax: train, evaluate or run inference on P5 tasks as gin files configure it.
usage: p5jax --gin_file=runs/demo.gin [--gin_file=...] [--gin.MACRO=VALUE ...] [--run_mode=...]
       (e.g. --gin.MODEL_DIR="'runs/demo'"; --gin.X=V is --gin_bindings='X = V'); --helpfull: all
"""


def _initialize_distributed() -> None:
  import jax

  if not (FLAGS.multiprocess_gpu or FLAGS.distributed or FLAGS.coordinator_address):
    return
  if jax.config.jax_platforms and 'cpu' in jax.config.jax_platforms:
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  jax.distributed.initialize(
      coordinator_address=FLAGS.coordinator_address,
      num_processes=FLAGS.process_count,
      process_id=FLAGS.process_index,
      initialization_timeout=FLAGS.initialization_timeout,
  )
  logging.info('jax.distributed: process %d of %d', jax.process_index(), jax.process_count())


def _check_tasks(run_mode: str) -> None:
  """Resolve the configured task/mixture names now, before models or data are built; this
  also registers gin-configured datasets, which checks the prepared dataset and its ID scheme.
  An unknown name is reported with the macro that holds it."""
  from p5jax.training.data import DatasetConfig, UnknownTaskError, resolve_task

  module = query_macro('MIXTURE_OR_TASK_MODULE')
  for macro in ('MIXTURE_OR_TASK_NAME', 'EVAL_MIXTURE_OR_TASK_NAME'):
    name = query_macro(macro)
    if isinstance(name, str):
      try:
        resolve_task(DatasetConfig(name, None, 'train', 1, False, module=module))
      except UnknownTaskError as e:  # name the macro that holds the name
        raise GinConfigError(str(e).replace('MIXTURE_OR_TASK_NAME', macro, 1)) from None
  final = _bound('train_lib.train.final_evaluation')
  if run_mode == 'train' and final and gin.query_parameter('train_lib.train.final_evaluation'):
    if not isinstance(query_macro('EVAL_MIXTURE_OR_TASK_NAME'), str):
      raise GinConfigError(
          'this run evaluates after training (train_lib.train.final_evaluation is bound) but '
          'EVAL_MIXTURE_OR_TASK_NAME is not set: bind it, e.g. '
          '--gin.EVAL_MIXTURE_OR_TASK_NAME="\'p5_beauty_eval\'"'
      )


def _bound(selector: str) -> bool:
  """Whether the parsed config binds `selector` (to any value, None included)."""
  try:
    gin.query_parameter(selector)
  except ValueError:
    return False
  return True


def _check_model_dir(run_mode: str) -> None:
  """MODEL_DIR must not be a file; eval/infer need a checkpoint to read."""
  model_dir = query_macro('MODEL_DIR')
  if not isinstance(model_dir, str):
    return
  directory = paths.path(model_dir)
  if directory.exists() and not directory.is_dir():
    raise UserError(f'MODEL_DIR {directory} is a file, not a directory: give a directory path')
  if run_mode in ('eval', 'infer'):
    from p5jax.training.checkpoints import checkpoint_step

    checkpoint_step(query_macro('CHECKPOINT_PATH') or model_dir)  # "no checkpoint found at ..."


def _entry(run_mode: str) -> Callable[[], object]:
  if run_mode == 'train':
    from p5jax.training.train_lib import train as fn
  elif run_mode == 'eval':
    from p5jax.training.evaluation import evaluate as fn
  else:
    from p5jax.training.inference import infer as fn
  selector = ENTRY_SELECTORS[run_mode]
  for name, param in inspect.signature(fn).parameters.items():
    if param.default is inspect.Parameter.empty and not _bound(f'{selector}.{name}'):
      raise GinConfigError(f'{selector}.{name} is not bound (a required argument of {selector})')
  return gin.get_configurable(fn)


def _run() -> None:
  """Everything after flag parsing: configuration, checks, then the run."""
  import jax
  import tensorflow as tf

  tf.config.set_visible_devices([], 'GPU')  # TF must never claim accelerator memory
  _initialize_distributed()
  if FLAGS.tfds_data_dir:
    import seqio

    seqio.set_tfds_data_dir_override(FLAGS.tfds_data_dir)
  if FLAGS.seqio_additional_cache_dirs:
    import seqio

    seqio.add_global_cache_dirs(FLAGS.seqio_additional_cache_dirs)
  parse_gin(FLAGS.gin_file, FLAGS.gin_bindings, FLAGS.gin_search_paths)
  run_mode = FLAGS.run_mode or entry_run_mode()
  _check_tasks(run_mode)
  _check_model_dir(run_mode)
  entry = _entry(run_mode)
  logging.info(
      'run_mode=%s on %d devices (%d processes)', run_mode, jax.device_count(), jax.process_count()
  )
  if FLAGS.dry_run:
    print(gin.config_str())
    return
  entry()


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  from p5jax.training.train_lib import Preempted

  try:
    _run()
  except Preempted as e:
    report(e, verbose=False, prefix='preempted')
    sys.exit(EXIT_PREEMPTED)
  except UserError as e:
    report(e, verbose=FLAGS.verbose)
    sys.exit(EXIT_USER_ERROR)


def console_main() -> None:
  """The `p5jax` console script."""
  import jax

  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  jax.config.parse_flags_with_absl()
  own_help(USAGE, (__name__,))
  app.run(main, argv=rewrite_gin_args(sys.argv))


if __name__ == '__main__':
  console_main()
