"""`p5jax` command line: absl flags + gin run files -> train / eval / infer.

    p5jax --gin_file=models/<model>.gin --gin_file=runs/train.gin \
      --gin.MIXTURE_OR_TASK_NAME=\"p5_beauty_pretrain\" --gin.MODEL_DIR=\"/tmp/run\" \
      --gin.TRAIN_STEPS=1000 "--gin.TASK_FEATURE_LENGTHS={'inputs': 512, 'targets': 64}"

Bad gin bindings, unset required macros and unknown task names fail before any work.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import gin
from absl import app, flags

from p5jax.launch.gin_flags import (
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
flags.DEFINE_bool('dry_run', False, 'Parse and check the configuration, then exit.')


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


def _check_tasks() -> None:
  """Resolve the configured task/mixture names now, before models or data are built."""
  from p5jax.training.data import DatasetConfig, resolve_task

  module = query_macro('MIXTURE_OR_TASK_MODULE')
  for macro in ('MIXTURE_OR_TASK_NAME', 'EVAL_MIXTURE_OR_TASK_NAME'):
    name = query_macro(macro)
    if isinstance(name, str):
      resolve_task(DatasetConfig(name, None, 'train', 1, False, module=module))


def _entry(run_mode: str):
  if run_mode == 'train':
    from p5jax.training.train_lib import train as fn
  elif run_mode == 'eval':
    from p5jax.training.evaluation import evaluate as fn
  else:
    from p5jax.training.inference import infer as fn
  return gin.get_configurable(fn)


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
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
  try:
    parse_gin(FLAGS.gin_file, FLAGS.gin_bindings, FLAGS.gin_search_paths)
    run_mode = FLAGS.run_mode or entry_run_mode()
    _check_tasks()
  except (GinConfigError, ValueError) as e:
    sys.exit(f'p5jax: configuration error: {e}')
  logging.info(
      'run_mode=%s on %d devices (%d processes)', run_mode, jax.device_count(), jax.process_count()
  )
  if FLAGS.dry_run:
    print(gin.config_str())
    return
  try:
    _entry(run_mode)()
  except ValueError as e:
    if 'REQUIRED' in str(e) or 'gin' in str(e).lower():
      sys.exit(f'p5jax: configuration error: {e}')
    raise


def console_main() -> None:
  """The `p5jax` console script."""
  import jax

  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  jax.config.parse_flags_with_absl()
  app.run(main, argv=rewrite_gin_args(sys.argv))


if __name__ == '__main__':
  console_main()
