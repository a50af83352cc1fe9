"""p5jax.decoding."""
