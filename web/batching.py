"""What the request batches (web/intake_batch.py, web/proposal_batch.py) share: handing each
waiting request its own outcome, or cancelling them all."""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

Waiting = list[tuple[Any, asyncio.Future[Any]]]


def settle(batch: Waiting, outcomes: Iterable[tuple[bool, Any]]) -> None:
    """Each request's future gets its outcome: (True, result) or (False, exception)."""
    for (_, future), (ok, value) in zip(batch, outcomes):
        if future.done():  # the client went away
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def cancel(batch: Waiting) -> None:
    for _, future in batch:
        if not future.done():
            future.cancel()
