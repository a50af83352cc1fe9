"""Gin configuration files shipped with p5jax (models/, runs/, datasets/)."""
