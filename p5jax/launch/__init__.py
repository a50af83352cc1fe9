"""The `p5jax` console script. Importing it first tunes the host allocator
(`p5jax.host_allocator`), before jax or tensorflow start any thread."""

from p5jax import host_allocator

host_allocator.tune()
