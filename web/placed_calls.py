"""Calls the console placed and does not wait for (回拨): each runs as a task of this
process, held here so that none is left running unowned, and stopped with the app."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

# At shutdown a call still ringing is given this long to end (the bridge stopping ends it
# as 电话系统无响应, recorded); past it the task is cancelled and its mark expires on its own.
CLOSE_SECONDS = 5.0


class PlacedCalls:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("placed call failed", exc_info=task.exception(),
                      extra={"event": "placed_call_failed", "task": task.get_name()})

    async def close(self) -> None:
        if not self._tasks:
            return
        _, running = await asyncio.wait(set(self._tasks), timeout=CLOSE_SECONDS)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)
