from p5jax.data.kcore import kcore_mask


def test_iterates_to_a_fixed_point():
  # u1..u2 each have 2 items; dropping item c (1 interaction) leaves u3 with 1 -> dropped,
  # which leaves item b with 1 interaction... only the a/b square with u1,u2 survives k=2.
  users = ['u1', 'u1', 'u2', 'u2', 'u3', 'u3']
  items = ['a', 'b', 'a', 'b', 'b', 'c']
  assert kcore_mask(users, items, 2) == [True, True, True, True, False, False]
  assert kcore_mask(users, items, 3) == [False] * 6
