"""SeqIO tasks and mixtures for every P5 prompt family (``MIXTURE_OR_TASK_MODULE = 'tasks'``).

Importing registers the demo dataset as ``demo`` (data built lazily on first ``get_dataset``);
``register_dataset`` (gin-configurable) registers any prepared dataset.
"""

from tasks.decoding import MODES, DecodingSpec, decoding_for
from tasks.demo import register_demo
from tasks.lengths import FEATURE_LENGTHS, feature_lengths
from tasks.registry import TaskInfo, register_dataset, task_info

register_demo()

__all__ = [
    'FEATURE_LENGTHS',
    'MODES',
    'DecodingSpec',
    'TaskInfo',
    'decoding_for',
    'feature_lengths',
    'register_dataset',
    'task_info',
]
