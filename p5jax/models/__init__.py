"""p5jax.models."""
