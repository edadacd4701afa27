"""Calls from the simulated PBX land in the database: one row per call, missed calls on the
callback list, the operator's screen told, callbacks dialled through the PBX."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.bridge import AmiBridge, BridgeSettings
from callcenter.callbacks import call_back
from callcenter.recorder import CallRecorder
from callcenter.simulator import Simulator
from dispatch import telephony
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import AgentStatus, Call, Callback, StaffActivity
from dispatch.vocabulary import Channel, Role

SECRET = "s3cret"
OPERATOR = Actor(label="operator-wang", role=Role.OPERATOR)


def bridge_settings(port: int) -> BridgeSettings:
    return BridgeSettings(host="127.0.0.1", port=port, username="hotline", secret=SECRET,
                          backoff_initial=0.02, backoff_max=0.2, action_timeout=1.0)


async def until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not await asyncio.to_thread(predicate):
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


def calls(sessions: sessionmaker[Session]) -> dict[str, Call]:
    with sessions() as session:
        return {c.linkedid: c for c in session.scalars(select(Call))}


def test_answered_and_abandoned_calls_are_recorded_and_the_missed_one_waits_for_a_callback(
        sessions: sessionmaker[Session]) -> None:
    pops: list[telephony.ScreenPop] = []

    async def on_pop(pop: telephony.ScreenPop) -> None:
        pops.append(pop)

    async def story() -> tuple[str, str]:
        recorder = CallRecorder(sessions, on_screen_pop=on_pop)
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(bridge_settings(sim.port), recorder.on_call, recorder.on_agent) as bridge:
                await bridge.wait_connected(5)
                [answered] = await sim.play("answered")
                [abandoned] = await sim.play("abandoned")
                await until(lambda: {answered, abandoned} <= {k for k, c in calls(sessions).items() if c.outcome != "open"})
                return answered, abandoned

    answered, abandoned = asyncio.run(asyncio.wait_for(story(), 30))
    rows = calls(sessions)
    assert (rows[answered].outcome, rows[answered].agent, rows[answered].wait_seconds, rows[answered].talk_seconds) == \
        ("answered", "PJSIP/7001", 12, 95)
    assert rows[answered].caller is not None and rows[answered].caller.startswith("+86138")
    assert rows[abandoned].outcome == "abandoned"
    with sessions() as session:
        pending = telephony.pending_callbacks(session)
        assert [c.call_id for c in pending] == [rows[abandoned].id]
        assert session.scalar(select(func.count()).select_from(AgentStatus)) >= 1
    assert [p.linkedid for p in pops] == [answered] and pops[0].agent == "PJSIP/7001"


def test_the_same_call_replayed_changes_nothing(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    data = telephony.CallData(linkedid="1700000000.1", outcome="abandoned", caller="13800138000", dialed="12345",
                              started_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc), queue="12345",
                              entered_queue_at=dt.datetime(2026, 11, 23, 2, 0, 5, tzinfo=dt.timezone.utc),
                              wait_seconds=30)
    for _ in range(2):
        with sessions.begin() as session:
            telephony.record_call(session, data)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
        assert session.scalar(select(func.count()).select_from(Callback)) == 1


def test_a_caller_let_go_by_one_queue_and_answered_by_an_overflow_queue_needs_no_callback(
        sessions: sessionmaker[Session]) -> None:
    import dataclasses
    import datetime as dt

    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    timed_out = telephony.CallData(linkedid="1700000000.9", outcome="timeout", caller="13800138000", dialed="12345",
                                   started_at=start, queue="12345", entered_queue_at=start, wait_seconds=60)
    with sessions.begin() as session:
        telephony.record_call(session, timed_out)
    with sessions() as session:
        assert session.scalar(select(Callback.status)) == telephony.CALLBACK_PENDING  # on the list at once
    answered = dataclasses.replace(timed_out, outcome="open", queue="overflow", agent="PJSIP/7002",
                                   entered_queue_at=start + dt.timedelta(seconds=61),
                                   answered_at=start + dt.timedelta(seconds=70))
    with sessions.begin() as session:
        telephony.record_call(session, answered)
    with sessions() as session:
        callback = session.scalar(select(Callback))
        assert callback is not None and callback.status == telephony.CALLBACK_DONE
        assert callback.note == telephony.ANSWERED_LATER_NOTE


def test_screen_pop_shows_the_callers_earlier_tickets(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    with sessions.begin() as session:
        earlier = intake(session, IntakeRequest(channel=Channel.PHONE, body="上周反映的路灯问题", phone="13800138000"),
                         IntakeRules()).ticket
        call = telephony.record_call(session, telephony.CallData(
            linkedid="1700000000.2", outcome="open", caller="13800138000", dialed="12345",
            started_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc), agent="PJSIP/7002",
            answered_at=dt.datetime(2026, 11, 23, 2, 0, 10, tzinfo=dt.timezone.utc)))
        pop = telephony.screen_pop(session, call)
        assert [t["number"] for t in pop.earlier_tickets] == [earlier.number]
        telephony.link_ticket_to_call(session, earlier, "1700000000.2")
        assert call.ticket_id == earlier.id


def test_operator_calls_a_citizen_back_through_the_pbx(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    with sessions.begin() as session:
        telephony.record_call(session, telephony.CallData(
            linkedid="1700000000.3", outcome="lost", caller="13800138000", dialed="12345",
            started_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)))
        [callback] = telephony.pending_callbacks(session)
        callback_id = callback.id

    async def story() -> tuple[str, list[dict[str, str]]]:
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=100) as sim:
            async with AmiBridge(bridge_settings(sim.port), CallRecorder(sessions).on_call) as bridge:
                await bridge.wait_connected(5)
                done, _ = await call_back(bridge, sessions, callback_id, OPERATOR, "PJSIP/7001")
                return done.status, sim.originated

    status, originated = asyncio.run(asyncio.wait_for(story(), 30))
    assert status == "done"
    assert originated[0]["exten"] == "13800138000" and originated[0]["channel"] == "PJSIP/7001"
    with sessions() as session:
        callback = session.get_one(Callback, callback_id)
        assert callback.attempts == 1 and "reason 4" in (callback.last_result or "")
        [closed] = session.scalars(select(StaffActivity).where(StaffActivity.kind == "callback_done")).all()
        assert (closed.actor, closed.target) == (OPERATOR.label, f"callback:{callback_id}")
        assert closed.detail == {"caller": callback.caller, "via": "call", "result": callback.last_result}
    with sessions.begin() as session:
        with pytest.raises(Conflict):
            telephony.mark_callback_done(session, callback_id, OPERATOR, "已回拨")


def test_a_caller_who_gets_through_on_a_later_call_leaves_the_callback_list(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    with sessions.begin() as session:
        for n, minutes in ((1, 0), (2, 3)):  # hung up twice while waiting
            telephony.record_call(session, telephony.CallData(
                linkedid=f"1700000000.6{n}", outcome="abandoned", caller="13800138061", dialed="12345",
                started_at=start + dt.timedelta(minutes=minutes), queue="12345", wait_seconds=40))
        telephony.record_call(session, telephony.CallData(
            linkedid="1700000000.69", outcome="abandoned", caller="13800138069", dialed="12345",
            started_at=start, queue="12345", wait_seconds=40))
    # Ten minutes later the first caller gets through and talks to an operator.
    later = start + dt.timedelta(minutes=10)
    with sessions.begin() as session:
        telephony.record_call(session, telephony.CallData(
            linkedid="1700000000.63", outcome="answered", caller="+8613800138061", dialed="12345",
            started_at=later, queue="12345", agent="PJSIP/7001", answered_at=later + dt.timedelta(seconds=8)))
    with sessions() as session:
        assert [c.caller for c in telephony.pending_callbacks(session)] == ["+8613800138069"]
        closed = session.scalars(select(Callback).where(Callback.caller == "+8613800138061")).all()
        assert {c.note for c in closed} == {"市民已再次来电并接通，无需回拨"}


def test_reaching_a_caller_closes_their_other_missed_calls(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    with sessions.begin() as session:
        for n, caller in ((1, "13800138071"), (2, "13800138071"), (3, "13800138072")):
            telephony.record_call(session, telephony.CallData(
                linkedid=f"1700000000.7{n}", outcome="abandoned", caller=caller, dialed="12345",
                started_at=start + dt.timedelta(minutes=n), queue="12345", wait_seconds=40))
        first = next(c for c in telephony.pending_callbacks(session) if c.caller == "+8613800138071")
        telephony.record_callback_attempt(session, first.id, OPERATOR, "市民已接听", reached=True)
    with sessions() as session:
        assert [c.caller for c in telephony.pending_callbacks(session)] == ["+8613800138072"]
        other = session.scalars(select(Callback).where(Callback.caller == "+8613800138071",
                                                       Callback.id != first.id)).one()
        assert other.note == "已回拨该号码另一次未接来电并接通，无需重复回拨"
        logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "callback_done")).all()
        assert {a.target for a in logged} == {f"callback:{first.id}", f"callback:{other.id}"}


def test_closing_a_callback_by_hand_needs_a_note(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    with sessions.begin() as session:
        telephony.record_call(session, telephony.CallData(
            linkedid="1700000000.4", outcome="timeout", caller="13800138000", dialed="12345",
            started_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)))
        [callback] = telephony.pending_callbacks(session)
        with pytest.raises(InvalidInput):
            telephony.mark_callback_done(session, callback.id, OPERATOR, "  ")
        telephony.mark_callback_done(session, callback.id, OPERATOR, "市民已再次来电")
        assert telephony.pending_callbacks(session) == []


def test_a_call_answered_before_a_takeover_is_not_made_a_missed_call_by_the_new_bridge(
        sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    started = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    answered = started + dt.timedelta(seconds=20)
    seen_live = telephony.CallData(linkedid="1700000000.7", outcome="open", caller="13800138000", dialed="12345",
                                   started_at=started, queue="12345", agent="PJSIP/6001", agent_name="李娜",
                                   answered_at=answered)
    # The new holder adopted it from CoreShowChannels (no answer known) and saw it hang up.
    adopted_end = telephony.CallData(linkedid="1700000000.7", outcome="abandoned", caller="13800138000",
                                     dialed="12345", started_at=started + dt.timedelta(seconds=1), queue="12345",
                                     ended_at=answered + dt.timedelta(seconds=90))
    for data in (seen_live, adopted_end):
        with sessions.begin() as session:
            telephony.record_call(session, data)
    with sessions() as session:
        [call] = session.scalars(select(Call)).all()
        assert (call.outcome, call.answered_at, call.agent, call.talk_seconds) == ("answered", answered, "PJSIP/6001", 90)
        assert call.started_at == started and call.ended_at == adopted_end.ended_at
        assert session.scalar(select(func.count()).select_from(Callback)) == 0
