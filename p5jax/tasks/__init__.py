"""SeqIO tasks and mixtures for every P5 prompt family (``MIXTURE_OR_TASK_MODULE = 'p5jax.tasks'``).

Importing registers the demo dataset as ``demo`` (data built lazily on first ``get_dataset``);
``register_dataset`` (gin-configurable) registers any prepared dataset.
"""

from p5jax.tasks.decoding import MODES, DecodingSettings, DecodingSpec, decoding_for
from p5jax.tasks.demo import register_demo
from p5jax.tasks.lengths import FEATURE_LENGTHS, feature_lengths
from p5jax.tasks.registry import TaskInfo, register_dataset, task_info
from p5jax.tasks.stream import stream_for
from p5jax.training.data import register_stream_provider

register_demo()
register_stream_provider(stream_for)

__all__ = [
    'FEATURE_LENGTHS',
    'MODES',
    'DecodingSettings',
    'DecodingSpec',
    'TaskInfo',
    'decoding_for',
    'feature_lengths',
    'register_dataset',
    'task_info',
]
