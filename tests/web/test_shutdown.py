"""Stopping the server with a live page open: `hotline serve` in its own process, a board's
server-sent event stream held open, then Ctrl-C (SIGINT) or SIGTERM. The stream ends and
the server's shutdown takes under two and a half seconds by its own log, without a traceback
(the streams used to hold the exit for the graceful timeout and then die cancelled), and the
SQLite file alone holds everything written (its write-ahead log folded in). The shutdown is
timed by the server's own log lines, not by the process's exit, because tearing down the
interpreter's imports may wait for a core on a loaded machine and says nothing of the streams."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

EXIT_SECONDS = 2.5        # from "Shutting down" to "Finished server process", as logged
HANG_SECONDS = 30         # the whole process: it exits at all


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_server_stops_promptly_and_quietly_with_a_board_open(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
           "HOTLINE_TRAIN_ON_START": "no", "HOTLINE_LOG_LEVEL": "INFO"}
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, stderr_path.read_text()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

        filed = httpx.post(base + "/api/v1/tickets", json={"body": "小区路灯坏了好几天", "phone": "13812345678"},
                           timeout=30)
        assert filed.status_code == 201, filed.text
        with httpx.Client(timeout=10) as client, client.stream("GET", base + "/board/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")   # the stream is open and held by the server
            server.send_signal(sig)
            stopped = time.monotonic()
            try:
                list(lines)                          # the server ends the stream itself
                ended = True
            except httpx.RemoteProtocolError:        # ... or it was cut off when cancelled
                ended = False
        server.wait(timeout=HANG_SECONDS)
        exited = time.monotonic() - stopped
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    errors = stderr_path.read_text(errors="replace")
    took = _logged(errors, "Finished server process") - _logged(errors, "Shutting down")
    assert took < EXIT_SECONDS, f"took {took:.1f} s to shut down ({exited:.1f} s to exit)\n{errors}"
    assert "Traceback" not in errors and "CancelledError" not in errors, errors
    assert "timeout graceful shutdown exceeded" not in errors, errors
    assert ended, "the event stream was cut off instead of ending"
    # The write-ahead log was folded into the database: a copy of the file alone has the ticket.
    wal = tmp_path / "hotline.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "hotline.db").read_bytes())
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT number FROM tickets").fetchall() == [(filed.json()["number"],)]


def _logged(log: str, words: str) -> float:
    """The moment of the first log line holding these words, in seconds."""
    line = next(line for line in log.splitlines() if words in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def test_a_closed_hub_ends_its_subscriptions_and_starts_none() -> None:
    import asyncio

    from web.live import LiveHub

    async def story() -> tuple[list[str], list[str]]:
        hub = LiveHub(queue_size=2)
        got: list[str] = []

        async def listen() -> None:
            async for message in hub.subscribe("board"):
                got.append(message)

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0)
        for message in ("a", "b", "c"):   # a full queue: the end mark must still get in
            hub.publish("board", message)
        hub.close()
        await asyncio.wait_for(listener, 1)
        late = [m async for m in hub.subscribe("board")]
        return got, late

    got, late = asyncio.run(story())
    assert late == [] and set(got) <= {"a", "b"}
