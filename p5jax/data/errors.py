"""The one error type of `p5jax.data`: bad input, named by file, line and field."""

from __future__ import annotations

from p5jax.errors import UserError


class DataFormatError(UserError, ValueError):
  """Raised on malformed or inconsistent raw input; the message names file, `line N`, field."""

  def __init__(
      self, path: object, message: str, *, line: int | None = None, field: str | None = None
  ):
    where = str(path)
    if line is not None:
      where += f', line {line}'
    if field is not None:
      where += f', field {field!r}'
    super().__init__(f'{where}: {message}')
    self.path, self.line, self.field = str(path), line, field
