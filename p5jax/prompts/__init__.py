"""p5jax.prompts."""
