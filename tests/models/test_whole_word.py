import jax.numpy as jnp
import numpy as np

from p5jax.models import whole_word_ids

# ids: 0 pad, 1 eos, 2 unk; 10 '▁user', 11 '_', 12 '23', 13 '▁item', 14 '73', 15 '91', 16 '▁,'
TABLE = np.zeros(20, bool)
TABLE[[10, 13, 16]] = True


def test_hand_checked_sequence():
  # '▁user _ 23 ▁, ▁item _ 73 91 </s> <pad>' -> words 1 1 1 2 3 3 3 3 0 0
  tokens = jnp.array([[10, 11, 12, 16, 13, 11, 14, 15, 1, 0]])
  np.testing.assert_array_equal(
      whole_word_ids(tokens, jnp.asarray(TABLE)), [[1, 1, 1, 2, 3, 3, 3, 3, 0, 0]]
  )


def test_leading_continuation_piece_is_word_zero_like_p5():
  tokens = jnp.array([[11, 12, 10, 1]])
  np.testing.assert_array_equal(whole_word_ids(tokens, jnp.asarray(TABLE)), [[0, 0, 1, 0]])


def test_restarts_per_packed_segment():
  tokens = jnp.array([[10, 11, 16, 1, 13, 14, 10, 1, 16, 1, 0, 0]])
  segments = jnp.array([[1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 0, 0]])
  np.testing.assert_array_equal(
      whole_word_ids(tokens, jnp.asarray(TABLE), segments), [[1, 1, 2, 0, 1, 1, 2, 0, 1, 0, 0, 0]]
  )
  # Without segment ids the count would run on across examples.
  np.testing.assert_array_equal(whole_word_ids(tokens, jnp.asarray(TABLE))[0, 4:7], [3, 3, 4])


def test_clamped_to_table_size():
  tokens = jnp.array([[10] * 6 + [1]])
  np.testing.assert_array_equal(
      whole_word_ids(tokens, jnp.asarray(TABLE), max_words=4), [[1, 2, 3, 3, 3, 3, 0]]
  )
