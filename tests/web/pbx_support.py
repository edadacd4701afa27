"""The AMI simulator on its own event loop in a thread, for page tests whose app talks to a
PBX (one-click calls, live hand-overs) through its real AMI bridge."""
from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from typing import Any, Coroutine, TypeVar

from callcenter import scenarios
from callcenter.simulator import Simulator
from web.config import AmiSettings, Secret, Settings

T = TypeVar("T")
USER, SECRET = "hotline", "pbx-s3cret"


class SimulatorThread:
    def __init__(self, *, speed: float = 20.0,
                 members: tuple[scenarios.Member, ...] = scenarios.DEFAULT_MEMBERS,
                 queue_log: Path | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ami-simulator", daemon=True)
        self._speed = speed
        self._members = members
        self._queue_log = queue_log
        self.sim: Simulator

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        self.sim = self.run(self._start())
        return self

    async def _start(self) -> Simulator:
        sim = Simulator("127.0.0.1", 0, USER, SECRET, speed=self._speed, members=self._members,
                        queue_log=self._queue_log)
        await sim.start()
        return sim

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start_call(self, scenario: str = "answered") -> None:
        """Play a scenario in the background (an answered call stays up for a few seconds)."""
        asyncio.run_coroutine_threadsafe(self.sim.play(scenario), self.loop)

    def settings(self, settings: Settings) -> Settings:
        ami = AmiSettings(host="127.0.0.1", port=self.sim.port, username=USER, secret=Secret(SECRET))
        return dataclasses.replace(settings, ami=ami)

    def __exit__(self, *_exc: object) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    async def _stop(self) -> None:
        await self.sim.stop()
        me = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not me]  # scenarios still playing
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
