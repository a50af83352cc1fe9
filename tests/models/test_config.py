import dataclasses

import pytest

from p5jax.models import T5Config


def test_presets():
  assert T5Config.t5_v1_0().mlp_activations == ('relu',)
  v11 = T5Config.t5_v1_1()
  assert v11.mlp_activations == ('gelu', 'linear') and not v11.logits_via_embedding
  assert T5Config(num_heads=4, head_dim=16).attention_dim == 64


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(num_heads=0), 'num_heads must be a positive int'),
        (dict(head_dim=3.5), 'head_dim must be a positive int'),
        (dict(mlp_activations=('swish',)), 'unknown activation'),
        (dict(mlp_activations=()), 'at least one activation'),
        (dict(dropout_rate=1.0), 'dropout_rate'),
        (dict(dtype='float64'), 'dtype'),
        (dict(relative_attention_num_buckets=1), 'relative_attention_num_buckets'),
        (dict(logits_via_embedding=False, scale_decoder_output=True), 'tied embeddings only'),
    ],
)
def test_bad_configs_fail_clearly(kwargs, message):
  with pytest.raises(ValueError, match=message):
    T5Config(**kwargs)


def test_frozen():
  with pytest.raises(dataclasses.FrozenInstanceError):
    T5Config().emb_dim = 3
