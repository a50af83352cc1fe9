"""p5jax.metrics."""
