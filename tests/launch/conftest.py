"""Launcher tests reuse the trainer's tiny model and seqio task (tests/training)."""

import os
import sys

TRAINING_TESTS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'training'
)
if TRAINING_TESTS not in sys.path:
  sys.path.insert(0, TRAINING_TESTS)
