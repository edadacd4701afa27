"""Writes what the bridge assembles into the database, through dispatch's rules, and tells
the operator's console when a call reaches them (screen-pop)."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session, sessionmaker

from callcenter.agents import AgentState
from callcenter.calls import CallRecord
from dispatch import telephony
from dispatch.clock import utcnow
from dispatch.db import storage_fault

log = logging.getLogger(__name__)

OnScreenPop = Callable[[telephony.ScreenPop], Awaitable[None]]


def call_data(record: CallRecord) -> telephony.CallData:
    """The bridge's record in dispatch's terms (nothing of panoramisk travels further)."""
    return telephony.CallData(
        linkedid=record.linkedid, outcome=record.outcome, caller=record.caller_num or None,
        dialed=record.dialed_num or None, started_at=record.started_at, ivr_choice=record.ivr_choice,
        queue=record.queue, entered_queue_at=record.queue_entered_at, agents_rung=record.agents_rung,
        ring_no_answers=len(record.ring_no_answers), agent=record.agent, agent_name=record.agent_name,
        answered_at=record.answered_at, ended_at=record.ended_at,
        hangup_cause=record.hangup_cause_txt or (str(record.hangup_cause) if record.hangup_cause is not None else None),
        wait_seconds=record.wait_seconds, talk_seconds=record.talk_seconds, transferred_to=record.transferred_to,
        recovered=record.recovered)


def agent_data(state: AgentState) -> telephony.AgentData:
    changed_at = dt.datetime.fromtimestamp(state.changed_at, tz=dt.timezone.utc) if state.changed_at else utcnow()
    return telephony.AgentData(interface=state.interface, member_name=state.member_name or None,
                               queues=tuple(sorted(state.queues)), logged_in=state.logged_in,
                               paused=state.paused, ringing=state.ringing, on_call=state.on_call,
                               changed_at=changed_at, paused_reason=state.paused_reason)


class CallRecorder:
    """The bridge's on_call / on_agent callbacks. Database work runs in a thread so the AMI
    reader never waits on it; one transaction per record."""

    def __init__(self, sessions: sessionmaker[Session], on_screen_pop: OnScreenPop | None = None,
                 remember: int = 10_000) -> None:
        self._sessions = sessions
        self._on_screen_pop = on_screen_pop
        self._popped: OrderedDict[str, None] = OrderedDict()  # bounded: a long-running bridge
        self._remember = remember

    async def on_call(self, record: CallRecord) -> None:
        """Raises dispatch.errors.StorageUnavailable when the database cannot take the
        write now: the bridge keeps the record and tries again."""
        pop = await self._write(self._save_call, record)
        if pop is not None and self._on_screen_pop is not None:
            await self._on_screen_pop(pop)

    async def on_agent(self, state: AgentState) -> None:
        await self._write(self._save_agent, state)

    @staticmethod
    async def _write(save, item):  # type: ignore[no-untyped-def]
        try:
            return await asyncio.to_thread(save, item)
        except Exception as exc:
            fault = storage_fault(exc)
            if fault is None:
                raise
            raise fault from exc

    def _save_call(self, record: CallRecord) -> telephony.ScreenPop | None:
        with self._sessions.begin() as session:
            call = telephony.record_call(session, call_data(record))
            log.info("call recorded", extra={"event": "call_recorded", "call_id": record.linkedid,
                                             "outcome": record.outcome})
            # The first record showing the call answered (and not yet over) reaches the console.
            if record.answered_at is None or record.final or record.linkedid in self._popped:
                return None
            self._popped[record.linkedid] = None
            if len(self._popped) > self._remember:
                self._popped.popitem(last=False)
            return telephony.screen_pop(session, call)

    def _save_agent(self, state: AgentState) -> None:
        with self._sessions.begin() as session:
            telephony.record_agent(session, agent_data(state))
