"""Live events and requests between the processes that serve one PostgreSQL database, over
its LISTEN/NOTIFY (no broker): a screen-pop seen by the process that holds the PBX bridge
reaches the operator whose page is served by another; a rule changed on one process is
re-read by the others at once; a call button pressed on any process is dialled by the one
that holds the bridge (web/remote_bridge.py).

Each process listens on one channel with a connection of its own, and sends with another.
A message is JSON: {"o": sender, "k": kind, ...}; kinds:
- "pub": a live topic's message for the other processes' hubs;
- "call" / "ret": a request to the bridge's holder and its answer (to the sender alone).
With SQLite there is one process, and no relay: the in-process hub is all there is."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
from sqlalchemy import Engine

from web.live import LiveHub

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7900
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
# Told to every process's hub when the relay (re)connects: what was said while it was not
# listening is lost, so whoever follows "config" reads everything again.
CONFIG_TOPIC = "config"
EVERYTHING = "*"

Answerer = Callable[[str, dict[str, Any]], Awaitable[Any]]


class RemoteError(Exception):
    """The process asked could not do it: `kind` names its error, `message` says what."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind, self.message = kind, message


class NoAnswer(Exception):
    """No process answered the request in time (none holds the role, or it is stuck)."""


def conninfo(engine: Engine) -> str:
    """The engine's database as libpq reads it (psycopg's own URL, without SQLAlchemy's driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Relay:
    def __init__(self, conninfo: str, hub: LiveHub) -> None:
        self._conninfo = conninfo
        self.hub = hub
        self.origin = uuid.uuid4().hex[:16]
        self.listening = asyncio.Event()
        # Set in the process that can answer requests (the bridge's holder), None elsewhere.
        self.answerer: Answerer | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- sending -------------------------------------------------------------------

    def forward(self, topic: str, message: Any) -> None:
        """The hub's message for the other processes (sent in the background: a publisher
        never waits on the database)."""
        self._spawn(self._send({"k": "pub", "t": topic, "m": message}))

    async def request(self, name: str, arguments: dict[str, Any], timeout: float) -> Any:
        """Ask whichever process answers `name` requests; its result, or RemoteError /
        NoAnswer."""
        key = f"{self.origin}-{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            await self._send({"k": "call", "id": key, "n": name, "a": arguments})
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise NoAnswer(name) from None
        finally:
            self._pending.pop(key, None)

    async def _send(self, message: dict[str, Any]) -> None:
        payload = json.dumps({"o": self.origin, **message}, ensure_ascii=False, default=str)
        if len(payload.encode()) > MAX_PAYLOAD:
            log.warning("live message too large to relay", extra={"event": "relay_too_large",
                                                                   "kind": message.get("k"), "bytes": len(payload)})
            return
        async with self._send_lock:
            for attempt in (1, 2):  # a connection dropped since the last message: once more on a new one
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                    await self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except (psycopg.Error, OSError) as exc:
                    self._sender = None
                    if attempt == 2:
                        log.warning("could not relay a live message", extra={
                            "event": "relay_send_error", "kind": message.get("k"), "error": str(exc)})

    # ---- receiving -----------------------------------------------------------------

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after a lost connection."""
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if failures:
                        log.info("live relay listening again", extra={"event": "relay_reconnected"})
                        self.hub.deliver(CONFIG_TOPIC, {"what": EVERYTHING})
                    failures = 0
                    async for note in connection.notifies():
                        self._receive(note.payload)
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("live relay lost its connection", extra={"event": "relay_lost", "error": str(exc),
                                                                    "retry_in": wait})
                await asyncio.sleep(wait)

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            kind, sender = message["k"], message["o"]
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable live message", extra={"event": "relay_bad_message"})
            return
        if kind == "ret":
            future = self._pending.get(str(message.get("id"))) if message.get("to") == self.origin else None
            if future is not None and not future.done():
                if "e" in message:
                    future.set_exception(RemoteError(str(message["e"]), str(message.get("msg", ""))))
                else:
                    future.set_result(message.get("r"))
            return
        if sender == self.origin:
            return  # our own: the local hub had it already
        if kind == "pub":
            self.hub.deliver(str(message.get("t")), message.get("m"))
        elif kind == "call" and self.answerer is not None:
            self._spawn(self._answer(self.answerer, message))

    async def _answer(self, answerer: Answerer, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"k": "ret", "id": message.get("id"), "to": message["o"]}
        try:
            reply["r"] = await answerer(str(message.get("n")), dict(message.get("a") or {}))
        except Exception as exc:  # the asker gets the error; this process goes on
            reply.update(e=type(exc).__name__, msg=str(exc))
        await self._send(reply)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sender is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await self._sender.close()


@contextlib.asynccontextmanager
async def relaying(engine: Engine, hub: LiveHub) -> AsyncIterator[Relay | None]:
    """On PostgreSQL, a relay joined to the hub, listening; on SQLite, None."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    relay = Relay(conninfo(engine), hub)
    hub.relay = relay
    listener = asyncio.create_task(relay.run(), name="live-relay")
    # Start serving even if the database is away; the relay keeps trying on its own.
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(relay.listening.wait(), 5.0)
    try:
        yield relay
    finally:
        hub.relay = None
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await relay.close()
