"""Server-sent event streams of the live pages (the board, the operator's screen-pop),
fed by the app's LiveHub. A stream ends by itself after STREAM_SECONDS, and at once when
the hub closes (the server is stopping), so that no open page holds up a shutdown. A staff
page's stream also asks, every KEEPALIVE_SECONDS at most, whether its session still holds
(`alive`): after a logout or a deactivation it ends within that time, not at STREAM_SECONDS."""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from starlette.responses import StreamingResponse

from web.live import LiveHub

# The browser's EventSource reconnects on its own after `retry`.
STREAM_SECONDS = 55.0
KEEPALIVE_SECONDS = 15.0
_END = object()


def event_stream(hub: LiveHub, topics: Sequence[str], encode: Callable[[str, Any], str],
                 hello: str = "", *, alive: Callable[[], Awaitable[bool]] | None = None) -> StreamingResponse:
    """Server-sent events from the hub's topics, with keep-alives. `alive`: asked at each
    keep-alive and before a message once KEEPALIVE_SECONDS have passed since it was last
    asked (one lookup however many messages flow); False ends the stream."""

    async def lines() -> AsyncIterator[str]:
        queue: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue(100)

        async def pump(topic: str) -> None:
            async for message in hub.subscribe(topic):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait((topic, message))
            # The hub closed: make room for the end mark if a slow reader filled the queue.
            while queue.full():
                queue.get_nowait()
            queue.put_nowait((_END, None))

        pumps = [asyncio.create_task(pump(t)) for t in topics]
        try:
            await asyncio.sleep(0)  # let the pumps subscribe before saying hello
            if hub.closed:
                return
            yield "retry: 2000\n\n" + hello
            loop = asyncio.get_running_loop()
            end = loop.time() + STREAM_SECONDS
            next_check = loop.time() + KEEPALIVE_SECONDS
            while (left := end - loop.time()) > 0:
                wait = min(KEEPALIVE_SECONDS, left)
                if alive is not None:   # wake for the check even while messages keep coming
                    wait = min(wait, max(next_check - loop.time(), 0.0))
                try:
                    topic, message = await asyncio.wait_for(queue.get(), wait)
                except asyncio.TimeoutError:
                    topic, message = None, None
                if topic is _END:
                    return
                if alive is not None and loop.time() >= next_check:
                    if not await alive():
                        return
                    next_check = loop.time() + KEEPALIVE_SECONDS
                yield ": keep-alive\n\n" if topic is None else encode(topic, message)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    return StreamingResponse(lines(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
