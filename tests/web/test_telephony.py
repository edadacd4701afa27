"""The app's side of the PBX (web/telephony.py): reading the PBX's queue_log file to recover
calls missed while the AMI link was down."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from callcenter.bridge import AmiBridge, BridgeSettings
from callcenter.simulator import Simulator
from web.telephony import queue_log_reader

SECRET = "s3cret"


def _reader(path: Path) -> Any:
    with contextlib.ExitStack() as stack:
        return queue_log_reader(str(path), services=None, stack=stack)  # type: ignore[arg-type]


def test_a_queue_log_the_pbx_has_not_written_yet_is_nothing_to_recover(tmp_path: Path, caplog: Any) -> None:
    """The demo's simulator writes its queue_log at its first call; the bridge reads it at its
    first login: one INFO line, no traceback, and the bridge is up."""
    path = tmp_path / "queue_log"

    async def story() -> None:
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, queue_log=path) as sim:
            settings = BridgeSettings(host="127.0.0.1", port=sim.port, username="hotline", secret=SECRET)

            async def on_call(_record: Any) -> None:
                pass

            async with AmiBridge(settings, on_call, queue_log=_reader(path),
                                 recover_since=time.time() - 60) as bridge:
                await bridge.wait_connected(5)
                deadline = time.monotonic() + 5
                while "ami.queue_log_recovered" not in caplog.text:
                    assert time.monotonic() < deadline, caplog.text
                    await asyncio.sleep(0.02)

    with caplog.at_level(logging.INFO):
        asyncio.run(asyncio.wait_for(story(), 30))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    absent = [r for r in caplog.records if getattr(r, "event", None) == "queue_log_absent"]
    assert len(absent) == 1 and absent[0].levelno == logging.INFO and absent[0].exc_info is None
    assert "ami.queue_log_failed" not in caplog.text and "Traceback" not in caplog.text


def test_a_queue_log_that_went_missing_after_it_was_read_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    read = _reader(path)
    assert asyncio.run(read(0.0)) == []
    path.write_text("1733500000|1733500000.1|12345|NONE|ENTERQUEUE||13800138000|1\n", encoding="utf-8")
    assert len(asyncio.run(read(0.0))) == 1
    path.unlink()
    with pytest.raises(FileNotFoundError):
        asyncio.run(read(0.0))
