"""In-process publish/subscribe for live updates (screen-pop, board refresh). One hub per
app, built in the lifespan; each web worker has its own, fed by its own bridge/commits."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)


class LiveHub:
    def __init__(self, queue_size: int = 100) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[Any]]] = defaultdict(set)
        self._queue_size = queue_size

    def publish(self, topic: str, message: Any) -> None:
        for queue in list(self._subscribers[topic]):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A slow reader loses old updates rather than holding up everyone else.
                log.warning("live subscriber too slow, dropping", extra={"event": "live_drop", "topic": topic})

    async def subscribe(self, topic: str) -> AsyncIterator[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[topic].discard(queue)

    def subscribers(self, topic: str) -> int:
        return len(self._subscribers[topic])
