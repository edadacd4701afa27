"""Races made to happen: hold the first statements of a kind, in several threads or
requests, until they have all been sent, so that each has read before any writes."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, event


@contextlib.contextmanager
def held(engine: Engine, matches: Callable[[str], bool], count: int,
         timeout: float = 3) -> Iterator[threading.Barrier]:
    """The first `count` statements `matches` accepts wait after running until all `count`
    have run. Where the database makes the others wait on the first (a row lock, SQLite's
    one writer) the wait times out once and they go on one after the other: the barrier
    yielded is then broken, which a test on PostgreSQL may check."""
    arrived = threading.Barrier(count)
    taken = [0]
    lock = threading.Lock()

    def hold(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not matches(statement):
            return
        with lock:
            if taken[0] >= count:
                return
            taken[0] += 1
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=timeout)

    event.listen(engine, "after_cursor_execute", hold)
    try:
        yield arrived
    finally:
        event.remove(engine, "after_cursor_execute", hold)
