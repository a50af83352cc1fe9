"""Test-wide environment: CPU-only JAX with 8 simulated devices, quiet TF/JAX logs.

These variables must be set before anything imports jax or tensorflow, which is why they live
at the top of the root conftest.
"""

import os

os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
if 'xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (
      os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8'
  ).strip()

import jax  # noqa: E402  (initialise JAX before TF so TF never claims devices)

jax.config.update('jax_platforms', 'cpu')
