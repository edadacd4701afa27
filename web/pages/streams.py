"""Server-sent event streams of the live pages (the board, the operator's screen-pop),
fed by the app's LiveHub. A stream ends by itself after STREAM_SECONDS, and at once when
the hub closes (the server is stopping), so that no open page holds up a shutdown."""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.responses import StreamingResponse

from web.live import LiveHub

# The browser's EventSource reconnects on its own after `retry`.
STREAM_SECONDS = 55.0
KEEPALIVE_SECONDS = 15.0
_END = object()


def event_stream(hub: LiveHub, topics: Sequence[str], encode: Callable[[str, Any], str],
                 hello: str = "") -> StreamingResponse:
    """Server-sent events from the hub's topics, with keep-alives."""

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
            while (left := end - loop.time()) > 0:
                try:
                    topic, message = await asyncio.wait_for(queue.get(), min(KEEPALIVE_SECONDS, left))
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if topic is _END:
                    return
                yield encode(topic, message)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    return StreamingResponse(lines(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
