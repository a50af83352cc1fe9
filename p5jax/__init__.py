"""p5jax: P5 (Recommendation as Language Processing) in JAX/Flax with a T5X-style trainer.

The package ``__init__`` stays light on purpose: heavy or optional dependencies (tensorflow,
seqio, torch) are imported by the submodules that need them, never here. ``Predictor``
(``p5jax.predictor``) is imported on first use.
"""

__version__ = '0.1.0'
__all__ = ['Predictor']


def __getattr__(name: str):
  if name == 'Predictor':
    from p5jax.predictor import Predictor

    return Predictor
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
