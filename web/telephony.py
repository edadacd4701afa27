"""Runs the AMI bridge inside `hotline serve` (and, for the demo, the AMI simulator it
talks to), so the web app never waits on the PBX: both live in the app's event loop."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from pathlib import Path

from callcenter import queue_log as ql
from callcenter.agents import AgentState
from callcenter.bridge import AmiBridge, BridgeSettings, QueueLogReader
from callcenter.calls import CallRecord
from callcenter.recorder import CallRecorder
from callcenter.scenarios import DEMO_ROTATION
from callcenter.simulator import Simulator
from dispatch import telephony as dispatch_telephony
from dispatch.db import make_engine
from dispatch.telephony import ScreenPop
from web.config import AmiSettings
from web.live import LiveHub
from web.relay import Relay
from web.remote_bridge import RemoteBridge, answering
from web.services import Services

log = logging.getLogger(__name__)

DEMO_AMI_USER = "hotline"
# Published after each call or agent record is written: the wallboard reads the rows again.
CALLS_TOPIC = "calls"
# Published, per agent, when a call that reached the agent's phone is over.
CALL_ENDED_TOPIC = "call-ended"
# Published, per agent, with the phone's 示忙 / 示闲 (dispatch.agent_pause.AgentPause as data).
AGENT_STATE_TOPIC = "agent-state"


@contextlib.asynccontextmanager
async def telephony(services: Services, hub: LiveHub, *, demo_pbx: bool) -> AsyncIterator[AmiBridge | None]:
    ami = services.settings.ami
    async with contextlib.AsyncExitStack() as stack:
        if ami is None and demo_pbx:
            import secrets

            import tempfile

            secret = secrets.token_urlsafe(12)
            # The stand-in PBX keeps a queue_log too, so the demo recovers outages as production does.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="hotline-pbx-"))
            queue_log = Path(folder) / "queue_log"
            # Real time, one call every HOTLINE_DEMO_CALL_INTERVAL_SECONDS (a burst is two at
            # once): at ten times speed with bursts of ten the callback list grew by a hundred
            # calls in a quarter of an hour.
            simulator = Simulator("127.0.0.1", 0, DEMO_AMI_USER, secret, scenarios=DEMO_ROTATION,
                                  speed=1.0, gap=services.settings.demo_call_interval_seconds, burst=2,
                                  repeat=True, queue_log=queue_log)
            await simulator.start()
            stack.push_async_callback(simulator.stop)
            ami = AmiSettings(host="127.0.0.1", port=simulator.port, username=DEMO_AMI_USER, secret=secret,  # type: ignore[arg-type]
                              queue_log=str(queue_log))
            log.info("AMI simulator standing in for the PBX", extra={
                "event": "pbx_sim", "port": simulator.port, "call_interval": services.settings.demo_call_interval_seconds})
        if ami is None:
            yield None
            return

        async def screen_pop(pop: ScreenPop) -> None:
            # As plain data: the operator's page may be served by another process.
            message = dataclasses.asdict(pop)
            hub.publish(f"screen-pop:{pop.agent}", message)
            hub.publish("screen-pop", message)

        recorder = CallRecorder(services.sessions, on_screen_pop=screen_pop)
        bridge_settings = BridgeSettings(host=ami.host, port=ami.port, username=ami.username, secret=ami.secret)
        reader = queue_log_reader(ami.queue_log, services, stack)
        since = await recover_since(services, bridge_settings) if reader is not None else None
        async def on_call(record: CallRecord) -> None:
            await recorder.on_call(record)
            hub.publish(CALLS_TOPIC, {"call": record.linkedid})
            if record.final and record.agent:  # the console stops showing it as its call
                hub.publish(f"{CALL_ENDED_TOPIC}:{record.agent}", {"linkedid": record.linkedid})

        async def on_agent(state: AgentState) -> None:
            await recorder.on_agent(state)
            hub.publish(CALLS_TOPIC, {"agent": state.interface})
            hub.publish(f"{AGENT_STATE_TOPIC}:{state.interface}", {
                "interface": state.interface, "logged_in": state.logged_in, "paused": state.paused,
                "reason": state.paused_reason or None,
                "since": None})

        bridge = AmiBridge(bridge_settings, on_call, on_agent, queue_log=reader,
                           recover_since=since)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        log.info("AMI bridge started", extra={"event": "ami_bridge", "host": ami.host, "port": ami.port})
        yield bridge


async def recover_since(services: Services, settings: BridgeSettings) -> float | None:
    """Where the PBX's queue_log is to be read from at the bridge's start: the last call
    written by whichever process ran the bridge before (killed, restarted), at most
    max_call_age back. None on a database with no call yet."""
    try:
        last = await services.run(dispatch_telephony.last_recorded_at)
    except Exception:  # an unreachable database: start the bridge anyway, recovering nothing
        log.exception("could not read when the last call was recorded", extra={"event": "ami_recover_since"})
        return None
    if last is None:
        return None
    return max(last.timestamp(), time.time() - settings.max_call_age)


def queue_log_reader(where: str | None, services: Services,
                     stack: contextlib.ExitStack | contextlib.AsyncExitStack) -> QueueLogReader | None:
    """HOTLINE_QUEUE_LOG: a file path, "table" (this database), or another database's URL."""
    if not where:
        return None
    if where == "table" or "://" in where:
        engine = services.engine
        if "://" in where:
            engine = make_engine(where)
            stack.callback(engine.dispose)

        async def read_table(since: float) -> list[ql.QueueLogEntry]:
            return await asyncio.to_thread(ql.read_table, engine, since)
        return read_table
    path = Path(where)
    seen = False  # the file existed at some read: its going missing later is a fault

    def read(since: float) -> list[ql.QueueLogEntry]:
        nonlocal seen
        try:
            entries = ql.read_file(path, since)
        except FileNotFoundError:
            if seen:
                raise
            # A PBX (or the demo's simulator) that has taken no call yet has written no
            # queue_log: nothing was missed, nothing to recover.
            log.info("queue_log not written yet: nothing to recover from it",
                     extra={"event": "queue_log_absent", "path": str(path)})
            return []
        seen = True
        return entries

    async def read_file(since: float) -> list[ql.QueueLogEntry]:
        return await asyncio.to_thread(read, since)
    return read_file


@contextlib.asynccontextmanager
async def answering_bridge(services: Services, hub: LiveHub, relay: Relay | None, *,
                           demo_pbx: bool) -> AsyncIterator[AmiBridge | None]:
    """The bridge, answering the call buttons of the other processes through the relay
    while this process holds it."""
    async with telephony(services, hub, demo_pbx=demo_pbx) as bridge:
        if relay is None or bridge is None:
            yield bridge
            return
        relay.answerer = answering(bridge)
        try:
            yield bridge
        finally:
            relay.answerer = None


def pbx_bridge(state: Any) -> AmiBridge | RemoteBridge | None:
    """The bridge a page dials through: this process's, or the holder's through the relay."""
    return getattr(state, "bridge", None) or getattr(state, "remote_bridge", None)
