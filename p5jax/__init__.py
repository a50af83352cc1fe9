"""p5jax: P5 (Recommendation as Language Processing) in JAX/Flax with a T5X-style trainer.

The package ``__init__`` stays light on purpose: heavy or optional dependencies (tensorflow,
seqio, torch) are imported by the submodules that need them, never here.
"""

__version__ = '0.1.0'
