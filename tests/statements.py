"""The SQL statements a piece of work sends, for tests that hold a path to a statement count."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event


@contextlib.contextmanager
def statements_sent(bind: Any) -> Iterator[list[str]]:
    """Each statement `bind` (an engine or a connection) sends inside the block, in order."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(bind, "before_cursor_execute", note)
