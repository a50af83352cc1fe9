"""p5jax.models: T5 1.0 / 1.1 encoder-decoder in Flax with P5's whole-word embedding, its
T5X-style wrapper, and Hugging Face checkpoint conversion."""

from p5jax.models.config import T5Config
from p5jax.models.hf_convert import config_from_hf, load_hf_t5
from p5jax.models.network import Transformer
from p5jax.models.relative_position import relative_position_bucket
from p5jax.models.whole_word import whole_word_ids
from p5jax.models.wrapper import EncoderDecoderModel, padded_word_start_table

__all__ = [
    'EncoderDecoderModel',
    'T5Config',
    'Transformer',
    'config_from_hf',
    'load_hf_t5',
    'padded_word_start_table',
    'relative_position_bucket',
    'whole_word_ids',
]
