"""Publish/subscribe for live updates (screen-pop, board refresh). One hub per process,
built in the lifespan. On PostgreSQL a relay (web/relay.py) joins the hubs of every process
serving the database: what one publishes, the others' subscribers get too."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

_CLOSED = object()


class Forwarder(Protocol):
    def forward(self, topic: str, message: Any) -> None: ...


class LiveHub:
    def __init__(self, queue_size: int = 100) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[Any]]] = defaultdict(set)
        self._queue_size = queue_size
        self.closed = False
        self.relay: Forwarder | None = None

    def publish(self, topic: str, message: Any) -> None:
        """To this process's subscribers and, through the relay, every other process's.
        The message must be JSON (dicts, lists, strings, numbers) to cross processes."""
        self.deliver(topic, message)
        if self.relay is not None:
            self.relay.forward(topic, message)

    def tell_others(self, topic: str, message: Any) -> None:
        """To the other processes only (this one has acted already)."""
        if self.relay is not None:
            self.relay.forward(topic, message)

    def deliver(self, topic: str, message: Any) -> None:
        """To this process's subscribers only."""
        for queue in list(self._subscribers[topic]):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A slow reader loses old updates rather than holding up everyone else.
                log.warning("live subscriber too slow, dropping", extra={"event": "live_drop", "topic": topic})

    async def subscribe(self, topic: str) -> AsyncIterator[Any]:
        """Messages of the topic as they come; ends when the hub closes."""
        if self.closed:
            return
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)
        try:
            while (message := await queue.get()) is not _CLOSED:
                yield message
        finally:
            self._subscribers[topic].discard(queue)

    def close(self) -> None:
        """End every subscription (the server is stopping): live pages' streams finish
        instead of holding the shutdown until they are cancelled."""
        self.closed = True
        for queues in self._subscribers.values():
            for queue in queues:
                while queue.full():
                    queue.get_nowait()
                queue.put_nowait(_CLOSED)

    def subscribers(self, topic: str) -> int:
        return len(self._subscribers[topic])
