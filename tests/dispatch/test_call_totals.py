"""The running totals of the calls give the figures counting the calls gives, for every service
level and short-abandon setting they keep (and the calls are counted for the others), as
calls are written and rewritten."""
from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import call_totals, reports, rollup, telephony
from dispatch.clock import CHINA
from dispatch.models import Call, CallRollup, OpenTicketRollup, TicketChannelRollup
from dispatch.reports import CallPolicy, Period
from dispatch.totals_sql import WAIT_STEPS

DAY = dt.date(2026, 11, 2)
PERIOD = Period(DAY, DAY + dt.timedelta(days=2))
MIGRATION = Path(__file__).resolve().parents[2] / "dispatch/migrations/versions/0028_totals_of_calls_channels_and_deadlines.py"


def from_rows(session: Session, period: Period, policy: CallPolicy) -> tuple[object, ...]:
    """The figures as counting the calls gives them: in all, per queue, per agent."""
    return (reports.call_figures_between(session, period.start, period.end, policy),
            reports.call_figures_by_rows(session, period, "queue", policy),
            reports.call_figures_by_rows(session, period, "agent", policy))


def from_totals(session: Session, period: Period, policy: CallPolicy) -> tuple[object, ...]:
    return (reports.call_figures(session, period, policy), reports.call_figures_by(session, period, "queue", policy),
            reports.call_figures_by(session, period, "agent", policy))


def same(kept: object, counted: object) -> None:
    """Counts equal; the mean wait and talk times equal but for the order floats were added in."""
    def flat(x: object) -> object:
        if isinstance(x, dict):
            return {k: flat(v) for k, v in x.items()}
        if isinstance(x, tuple):
            return tuple(flat(v) for v in x)
        if isinstance(x, reports.CallFigures):
            return {k: pytest.approx(v, rel=1e-9, abs=1e-9) if isinstance(v, float) else v
                    for k, v in vars(x).items()}
        return x
    assert flat(kept) == flat(counted)


def data(linkedid: str, *, day: int = 0, hour: int = 10, queue: str | None = "hotline", outcome: str = "answered",
         wait: float | None = 10.0, talk: float | None = 60.0, agent: str | None = "PJSIP/8001") -> telephony.CallData:
    entered = dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour), tzinfo=CHINA)
    answered = outcome in ("answered", "transferred")
    return telephony.CallData(
        linkedid=linkedid, outcome=outcome, caller="13800000000", dialed="12345",
        started_at=entered - dt.timedelta(seconds=12), queue=queue, entered_queue_at=entered if queue else None,
        agent=agent if answered else None, answered_at=entered + dt.timedelta(seconds=wait or 0) if answered else None,
        wait_seconds=wait, talk_seconds=talk if answered else None)


POLICIES = [CallPolicy(), CallPolicy(service_level_seconds=10, short_abandon_seconds=5),
            CallPolicy(service_level_seconds=0, short_abandon_seconds=120), CallPolicy(service_level_seconds=60)]


def test_calls_recorded_then_rewritten_count_as_the_calls_do(session: Session) -> None:
    now = dt.datetime(2026, 11, 5, tzinfo=CHINA)
    for record in [
        data("1.1", wait=4.2), data("1.2", wait=15.0), data("1.3", wait=15.01, agent="PJSIP/8002"),
        data("1.4", outcome="abandoned", wait=3.0), data("1.5", outcome="abandoned", wait=45.5),
        data("1.6", wait=61.0), data("1.7", wait=None), data("1.8", talk=None),
        data("1.9", queue=None),                                   # IVR only: never offered
        data("2.1", day=1, queue="overflow", wait=0.0), data("2.2", day=1, hour=23, wait=20.0),
        data("3.1", day=3, wait=1.0),                              # after the period
        data("4.1", outcome="open", wait=None, agent=None),        # still ringing
    ]:
        telephony.record_call(session, record, now=now)
    # The bridge writes a call again as it learns more: answered at last, a longer wait, ...
    telephony.record_call(session, data("4.1", wait=33.3), now=now)
    telephony.record_call(session, data("1.2", wait=16.0, talk=90.0), now=now)
    telephony.record_call(session, data("2.1", day=2, queue="hotline", wait=7.5), now=now)   # moved a day and queue
    telephony.record_call(session, data("1.1", wait=4.2), now=now)                           # the same again
    session.flush()
    for policy in POLICIES:
        kept = from_totals(session, PERIOD, policy)
        same(kept, from_rows(session, PERIOD, policy))
    all_calls = reports.call_figures(session, PERIOD, CallPolicy(short_abandon_seconds=5))
    assert (all_calls.offered, all_calls.answered, all_calls.abandoned, all_calls.short_abandoned) == (11, 9, 2, 1)
    assert all_calls.answered_within_service_level == 6 and all_calls.answered_within_15s == 3

    # Rebuilt in SQL (hotline db rebuild-figures), the totals are the same.
    kept = {policy: from_totals(session, PERIOD, policy) for policy in POLICIES}
    rollup.rebuild(session)
    for policy in POLICIES:
        same(from_totals(session, PERIOD, policy), kept[policy])


def test_a_setting_between_the_kept_steps_is_counted_from_the_calls(session: Session) -> None:
    for i, wait in enumerate((10.0, 20.0, 21.9, 22.0, 22.5, None)):
        telephony.record_call(session, data(f"1.{i}", wait=wait))
    telephony.record_call(session, data("2.1", outcome="abandoned", wait=7.0))
    session.flush()
    for policy in (CallPolicy(service_level_seconds=22), CallPolicy(short_abandon_seconds=7)):
        assert not call_totals.covers(22) and not call_totals.covers(7)
        same(from_totals(session, PERIOD, policy), from_rows(session, PERIOD, policy))
    assert reports.call_figures(session, PERIOD, CallPolicy(service_level_seconds=22)).answered_within_service_level == 4
    assert reports.call_figures(session, PERIOD, CallPolicy(short_abandon_seconds=7)).short_abandoned == 1


def test_the_summary_gives_the_call_figures_counting_the_calls_gives(session: Session) -> None:
    for i, (wait, agent) in enumerate(((3.0, "PJSIP/8001"), (14.0, "PJSIP/8002"), (21.9, "PJSIP/8001"), (None, None))):
        telephony.record_call(session, data(f"1.{i}", day=i % 2, wait=wait, agent=agent))
    telephony.record_call(session, data("2.1", outcome="abandoned", wait=4.0, queue="complaints"))
    telephony.record_call(session, data("2.2", outcome="abandoned", wait=40.0))
    session.flush()
    now = dt.datetime.combine(DAY + dt.timedelta(days=5), dt.time(9), tzinfo=CHINA)
    # Kept steps (read with the ticket totals in one statement), and a setting between them.
    for policy in (*POLICIES, CallPolicy(service_level_seconds=22), CallPolicy(short_abandon_seconds=7)):
        calls = reports.summary(session, PERIOD, now=now, calls=policy)["calls"]
        everything, queues, agents = from_rows(session, PERIOD, policy)
        assert calls == {**everything.as_dict(), "queues": {k or "": v.as_dict() for k, v in queues.items()},
                         "agents": {k or "": v.as_dict() for k, v in agents.items()}}
        public = reports.public_summary(session, PERIOD, now=now, calls=policy)["calls"]
        assert "agents" not in public and public["queues"] == calls["queues"]
    assert calls["offered"] == 6 and set(calls["agents"]) == {"PJSIP/8001", "PJSIP/8002", ""}


def test_the_recorder_keeps_the_totals_of_the_calls_it_records(sessions) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from callcenter.recorder import CallRecorder
    from callcenter.simulator import Simulator
    from dispatch.clock import local_date, utcnow
    from tests.callcenter.test_recorder import SECRET, bridge_settings, until
    from callcenter.bridge import AmiBridge

    async def story() -> None:
        recorder = CallRecorder(sessions)
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(bridge_settings(sim.port), recorder.on_call, recorder.on_agent) as bridge:
                await bridge.wait_connected(5)
                played = []
                for name in ("answered", "abandoned", "ring_no_answer", "timeout", "transfer", "ivr_only"):
                    played += await sim.play(name)

                def written() -> bool:
                    with sessions() as session:
                        calls = session.scalars(select(Call).where(Call.linkedid.in_(played))).all()
                        return len(calls) == len(played) and all(c.outcome != "open" for c in calls)
                await until(written)

    asyncio.run(asyncio.wait_for(story(), 30))
    today = local_date(utcnow())
    period = Period(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    with sessions() as session:
        kept = from_totals(session, period, CallPolicy(short_abandon_seconds=5))
        assert kept[0].offered >= 4 and kept[0].answered >= 2 and kept[0].abandoned >= 1
        same(kept, from_rows(session, period, CallPolicy(short_abandon_seconds=5)))


# Waits on and around the steps, past the last one, unknown.
waits = st.one_of(st.none(), st.integers(-20, 1500).map(lambda n: n / 10),
                  st.sampled_from(WAIT_STEPS).flatmap(lambda s: st.sampled_from([float(s), s + 0.01, s - 0.01])))
calls = st.lists(st.tuples(st.integers(0, 3), st.sampled_from([None, "hotline", "overflow"]),
                           st.sampled_from(["answered", "abandoned", "timeout", "transferred", "open"]),
                           waits, st.one_of(st.none(), st.floats(0, 900)),
                           st.sampled_from([None, "PJSIP/8001", "PJSIP/8002"])), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=calls, again=calls, service_level=st.sampled_from(WAIT_STEPS), short=st.sampled_from(WAIT_STEPS))
def test_any_calls_and_any_covered_setting_agree_with_the_calls(session: Session, first, again,  # type: ignore[no-untyped-def]
                                                                service_level: int, short: int) -> None:
    try:
        for writes in (first, again):   # the second list rewrites some of the first's calls
            for i, (day, queue, outcome, wait, talk, agent) in enumerate(writes):
                telephony.record_call(session, data(f"p.{i}", day=day, queue=queue, outcome=outcome, wait=wait,
                                                    talk=talk, agent=agent))
        session.flush()
        policy = CallPolicy(service_level_seconds=service_level, short_abandon_seconds=short)
        same(from_totals(session, PERIOD, policy), from_rows(session, PERIOD, policy))
    finally:
        session.rollback()


def _kept_tables(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """The rows of the new totals, without all-zero ones, floats rounded to a micro-second."""
    found = {}
    for model in (CallRollup, TicketChannelRollup, OpenTicketRollup):
        columns = [c for c in model.__table__.c if c.name != "id"]
        rows = session.execute(select(*columns)).all()
        found[model.__tablename__] = sorted(
            tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows
            if any(v for c, v in zip(columns, row) if c.name in ("received", "tickets", "offered")))
    return found


def test_the_migration_fills_the_totals_the_hooks_keep(session: Session, units, rules, operator) -> None:  # type: ignore[no-untyped-def]
    from dispatch import lifecycle
    from dispatch.units import unit_by_code
    from tests.dispatch.helpers import new_ticket

    for i, wait in enumerate((3.0, 14.5, 25.0, None, 75.0)):
        telephony.record_call(session, data(f"m.{i}", day=i % 2, wait=wait))
    telephony.record_call(session, data("m.9", outcome="abandoned", wait=8.0))
    at = dt.datetime(2026, 11, 2, 10, tzinfo=CHINA)
    open_one, answered, sent = (new_ticket(session, rules, now=at) for _ in range(3))
    lifecycle.answer(session, answered, operator, "已当场答复市民的咨询问题", now=at)
    lifecycle.transfer(session, sent, unit_by_code(session, "housing"), operator, now=at)
    session.flush()
    kept = _kept_tables(session)
    assert kept["call_rollup"] and kept["ticket_channel_rollup"] and kept["open_ticket_rollup"]

    spec = importlib.util.spec_from_file_location("migration_0028", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for model in (CallRollup, TicketChannelRollup, OpenTicketRollup):
        session.execute(delete(model))
    migration.backfill(session.connection())
    assert _kept_tables(session) == kept
