"""A ticket an operator files from a call whose row has not been written yet (the AMI link
was down while the call went on) is linked to the call when the bridge records it: here
from the PBX's queue_log after the link is back. Real simulator over TCP, real recorder."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter import queue_log as ql
from callcenter.bridge import AmiBridge
from callcenter.recorder import CallRecorder
from callcenter.simulator import Simulator
from dispatch import telephony
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Call
from dispatch.vocabulary import Channel, RequestType
from tests.callcenter.test_ami_bridge import SECRET, settings, until


def _file_from_call(sessions: sessionmaker[Session], linkedid: str,
                    body: str = "咨询新生儿医保怎么办理") -> tuple[int, bool]:
    """What the console does: intake with the call's Linkedid, then try to link."""
    with sessions.begin() as session:
        ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body=body, phone="13803910001",
                                               request_type=RequestType.CONSULTATION,
                                               channel_ref=f"{linkedid}:form-1", call_linkedid=linkedid),
                        IntakeRules()).ticket
        return ticket.id, telephony.link_ticket_to_call(session, ticket, linkedid)


def _call(sessions: sessionmaker[Session], linkedid: str) -> Call | None:
    with sessions() as session:
        return session.scalar(select(Call).where(Call.linkedid == linkedid))


def test_a_ticket_filed_before_its_call_is_recorded_is_linked_when_the_call_arrives(
        tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    path = tmp_path / "queue_log"

    async def read(since: float):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(ql.read_file, path, since)

    async def story() -> tuple[str, int, bool]:
        recorder = CallRecorder(sessions)
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=200, queue_log=path) as sim:
            bridge = AmiBridge(settings(sim.port), recorder.on_call, queue_log=read)
            async with bridge:
                await bridge.wait_connected(5)
                await sim.cut_link()
                [linkedid] = await sim.play("answered")
                # The operator files the ticket while the bridge has not seen the call.
                ticket_id, linked_now = await asyncio.to_thread(_file_from_call, sessions, linkedid)
                await sim.restore_link()
                await until(lambda: bridge.connections == 2)
                await until(lambda: _call(sessions, linkedid) is not None, timeout=10)
                await bridge.idle()
                return linkedid, ticket_id, linked_now

    linkedid, ticket_id, linked_now = asyncio.run(asyncio.wait_for(story(), 30))
    assert linked_now is False, "the call's row existed before the link came back"
    call = _call(sessions, linkedid)
    assert call is not None and call.outcome == "answered"
    assert call.ticket_id == ticket_id


def test_a_call_recorded_again_keeps_the_ticket_it_was_linked_to(sessions: sessionmaker[Session]) -> None:
    """The link is made once; later records of the call (its end) do not move it."""
    start = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.timezone.utc)
    ticket_id, linked_now = _file_from_call(sessions, "1764727200.7")
    assert linked_now is False
    data = telephony.CallData(linkedid="1764727200.7", outcome="open", caller="13803910001", dialed="12345",
                              started_at=start, agent="PJSIP/7002", answered_at=start)
    with sessions.begin() as session:
        assert telephony.record_call(session, data).ticket_id == ticket_id
    later_id, _ = _file_from_call(sessions, "1764727200.8", "济水大街路灯坏了")  # another call's ticket
    with sessions.begin() as session:
        ended = telephony.record_call(session, telephony.CallData(**{**vars(data), "outcome": "answered",
                                                                      "ended_at": start + dt.timedelta(minutes=3)}))
        assert ended.ticket_id == ticket_id != later_id
