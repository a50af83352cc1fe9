"""p5jax.data."""
