"""p5jax.indexing."""
