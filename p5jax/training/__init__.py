"""p5jax.training."""
