"""The AMI link goes down while calls go on: after it is back, the PBX's queue_log tells
the bridge what it missed, and every call is recorded once, missed ones on the callback list.
Real simulator over TCP, real recorder and database."""

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter import queue_log as ql
from callcenter.bridge import AmiBridge
from callcenter.recorder import CallRecorder
from callcenter.simulator import Simulator
from dispatch.models import Call, Callback, QueueLogRow
from dispatch.telephony import CALLBACK_DONE, CALLBACK_PENDING
from tests.callcenter.test_ami_bridge import SECRET, settings, until

SAMPLE = Path("/work/shared/ami/queue_log.sample")
DURING_OUTAGE = ["answered", "abandoned", "timeout", "ring_no_answer", "transfer", "abandoned"]
OUTCOMES = {"answered": "answered", "abandoned": "abandoned", "timeout": "timeout",
            "ring_no_answer": "answered", "transfer": "transferred"}


def _rows(sessions: sessionmaker[Session]):
    with sessions() as session:
        calls = {c.linkedid: c for c in session.scalars(select(Call))}
        callbacks = {cb.call_id: cb for cb in session.scalars(select(Callback))}
        per_linkedid = dict(session.execute(select(Call.linkedid, func.count())
                                            .group_by(Call.linkedid)).all())
        return calls, callbacks, per_linkedid


def _reader(kind: str, path: Path, engine):
    async def read_file(since: float):
        return await asyncio.to_thread(ql.read_file, path, since)

    async def read_table(since: float):
        # What Asterisk's realtime driver would have written: the simulator's lines, as rows.
        def copy_and_read():
            entries = [e for e in map(ql.parse_line, path.read_text().splitlines()) if e]
            with engine.begin() as connection:
                connection.execute(QueueLogRow.__table__.delete())
                connection.execute(insert(QueueLogRow), [ql.table_row(e) for e in entries])
            return ql.read_table(engine, since)
        return await asyncio.to_thread(copy_and_read)

    return read_file if kind == "file" else read_table


@pytest.mark.parametrize("kind", ["file", "table"])
def test_calls_during_an_outage_are_recovered_from_queue_log(kind, tmp_path, sessions, engine,
                                                             caplog):
    path = tmp_path / "queue_log"

    async def story():
        recorder = CallRecorder(sessions)
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=200,
                             queue_log=path) as sim:
            bridge = AmiBridge(settings(sim.port), recorder.on_call,
                               queue_log=_reader(kind, path, engine))
            async with bridge:
                await bridge.wait_connected(5)
                [before] = await sim.play("answered")  # seen live
                await until(lambda: bridge.calls.is_closed(before))
                # one call is in the queue when the link goes; it times out during the gap
                spanning = asyncio.create_task(sim.play("timeout"))
                await until(lambda: len(bridge.calls) == 1)
                await sim.cut_link()
                played = [spanning] + [asyncio.create_task(sim.play(name))
                                       for name in DURING_OUTAGE]
                gap = [lid for ids in await asyncio.gather(*played) for lid in ids]
                await sim.restore_link()
                await until(lambda: bridge.connections == 2)
                [after] = await sim.play("abandoned")  # seen live again
                await until(lambda: bridge.calls.is_closed(after))
                await bridge.idle()
                return before, gap, after, bridge.recovered

    with caplog.at_level(logging.INFO):
        before, gap, after, recovered = asyncio.run(asyncio.wait_for(story(), 60))
    calls, callbacks, per_linkedid = _rows(sessions)
    assert set(per_linkedid.values()) == {1}  # no call twice
    assert set(calls) == {before, after, *gap}
    assert recovered == len(gap)
    expected = ["timeout"] + [OUTCOMES[name] for name in DURING_OUTAGE]
    assert [calls[lid].outcome for lid in gap] == expected
    missed = {lid for lid in (before, after, *gap) if calls[lid].outcome in ("abandoned", "timeout")}
    assert len(missed) == 5
    assert {calls[lid].id for lid in missed} == set(callbacks)
    assert all(cb.status == CALLBACK_PENDING for cb in callbacks.values())
    answered = calls[gap[1]]
    assert answered.agent.startswith("PJSIP/700")
    assert (answered.wait_seconds, answered.talk_seconds) == (12, 95)
    assert calls[gap[4]].ring_no_answers == 1 and calls[gap[5]].transferred_to == "8000"
    assert "13800138" in calls[gap[0]].caller and calls[gap[0]].wait_seconds == 60
    assert "ami.queue_log_recovered" in caplog.text


def test_a_live_record_is_never_replaced_by_queue_log_but_a_guessed_lost_one_is(sessions):
    from callcenter.recorder import call_data
    from dispatch import telephony

    entries = [ql.parse_line(line) for line in (
        "1700000100|1700000100.55|12345|NONE|ENTERQUEUE||13800138000|1",
        "1700000118|1700000100.55|12345|PJSIP/7002|CONNECT|18|1700000115.56|3",
        "1700000298|1700000100.55|12345|PJSIP/7002|COMPLETEAGENT|18|180|1")]
    [record] = ql.calls_from(entries, ended_since=1700000000)
    with sessions.begin() as session:
        lost = telephony.CallData(linkedid="1700000100.55", outcome="lost", caller="13800138000",
                                  dialed="12345", started_at=record.started_at, queue="12345")
        telephony.record_call(session, lost)
        telephony.record_call(session, call_data(record))  # the PBX knew better
    calls, callbacks, _ = _rows(sessions)
    call = calls["1700000100.55"]
    assert (call.outcome, call.agent, call.talk_seconds) == ("answered", "PJSIP/7002", 180)
    [callback] = callbacks.values()
    assert callback.status == CALLBACK_DONE  # nobody needs to call back
    with sessions.begin() as session:
        answered_live = telephony.CallData(linkedid="1700000100.55", outcome="answered",
                                           caller="13800138000", dialed="12345",
                                           started_at=record.started_at, talk_seconds=181)
        telephony.record_call(session, answered_live)
        telephony.record_call(session, call_data(record))  # the live record stays
    calls, _, _ = _rows(sessions)
    assert calls["1700000100.55"].talk_seconds == 181


def test_the_documented_queue_log_sample_reads_into_calls():
    entries = [ql.parse_line(line) for line in SAMPLE.read_text().splitlines()]
    records = {r.linkedid: r for r in ql.calls_from([e for e in entries if e], ended_since=0,
                                                   interfaces={"李强": "PJSIP/7002"})}
    assert records["1700000100.55"].outcome == "answered"
    assert records["1700000100.55"].ring_no_answers == ("PJSIP/7001",)
    assert records["1700000400.60"].outcome == "abandoned"
    assert records["1700000400.60"].wait_seconds == 13
    assert records["1700000500.61"].outcome == "timeout"
    assert records["1700000600.62"].outcome == "timeout"  # left by pressing a key
    assert records["1700000850.70"].transferred_to == "8000"
    assert all(r.recovered for r in records.values())
