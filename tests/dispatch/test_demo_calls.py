"""The demo history's calls: a past month's 话务 figures on the supervisor's page are those of
a hotline whose phone tickets were each filed during an answered call, with the callers who
gave up in the queue on the callback list, and the running totals agree with the calls."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import db, reports, totals_sql
from dispatch.clock import local_date
from dispatch.demo import seed_with_history
from dispatch.demo_history import HistorySize
from dispatch.intake import IntakeRules
from dispatch.models import Call, Callback, CallRollup, IntakeSource, StaffUser, Ticket, TicketEvent
from dispatch.units import City
from tests.conftest import _empty_tables

# All of November 2026 and the first day of December, at three in the afternoon China time.
NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.timezone.utc)
SIZE = HistorySize(days=40, per_day=40, seed=5)
NOVEMBER = reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(scope="module")
def sessions(engine: Engine, city: City) -> Iterator[sessionmaker[Session]]:
    """Made once for the module; the tests only read it."""
    _empty_tables(engine)
    sessions = db.make_sessionmaker(engine)
    with sessions.begin() as session:
        assert seed_with_history(session, city, IntakeRules(), SIZE, now=NOW) is not None
    yield sessions
    _empty_tables(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session
        session.rollback()


def history_phone_tickets(session: Session, period: reports.Period | None = None) -> list[Ticket]:
    """The history's phone tickets (the hand-made sample tickets are not history)."""
    query = (select(Ticket).join(IntakeSource, IntakeSource.ticket_id == Ticket.id)
             .where(Ticket.channel == "phone", IntakeSource.channel_ref.like("demo-history:%")))
    if period is not None:
        query = query.where(Ticket.received_at >= period.start, Ticket.received_at < period.end)
    return list(session.scalars(query))


def test_a_past_months_calls_on_the_supervisors_page_agree_with_its_phone_tickets(session: Session) -> None:
    calls = reports.summary(session, NOVEMBER, now=NOW)["calls"]   # the supervisor page's 话务 table
    phone_tickets = len(history_phone_tickets(session, NOVEMBER))
    assert phone_tickets > 500
    # Every phone ticket was an answered call; a few more calls asked after an earlier ticket.
    assert phone_tickets <= calls["answered"] <= 1.15 * phone_tickets
    assert calls["offered"] == calls["answered"] + calls["abandoned"] and calls["abandoned"] > 0
    assert 0.93 < calls["answer_rate"] < 0.995
    assert 2 < calls["asa_seconds"] < 30 and 60 < calls["aht_seconds"] < 900
    assert 0.75 < calls["answer_rate_15s"] <= calls["service_level"] < 1
    agents = calls["agents"]
    assert len([a for a in agents if a]) >= 3
    assert sum(a["answered"] for a in agents.values()) == calls["answered"]
    assert agents[""]["offered"] == calls["abandoned"]   # 未接通: nobody answered them
    # Each day of the month: calls, and no fewer answered than phone tickets but for calls
    # answered just before midnight whose ticket was filed after it.
    per_day = Counter(local_date(t.received_at) for t in history_phone_tickets(session, NOVEMBER))
    for day, tickets in per_day.items():
        answered = reports.call_figures(session, reports.Period(day, day)).answered
        assert answered >= tickets - 2, (day, answered, tickets)


def test_every_phone_ticket_was_filed_during_an_answered_call_from_its_number(session: Session) -> None:
    tickets = {t.id: t for t in history_phone_tickets(session)}
    calls = {c.ticket_id: c for c in session.scalars(select(Call).where(Call.ticket_id.is_not(None)))}
    assert session.scalar(select(func.count(Call.id)).where(Call.ticket_id.is_not(None))) == len(calls)
    assert set(calls) == set(tickets)   # one call each, and no call for a web or SMS ticket
    sources = dict(session.execute(select(IntakeSource.ticket_id, IntakeSource.call_linkedid)).all())
    handovers = dict(session.execute(select(TicketEvent.ticket_id, TicketEvent.at)
                                     .where(TicketEvent.action == "handover")).all())
    for ticket_id, ticket in tickets.items():
        call = calls[ticket_id]
        assert call.caller == ticket.phone and call.queue == "12345" and call.agent
        assert sources[ticket_id] == call.linkedid   # as the operator console files it
        assert call.started_at < call.entered_queue_at <= call.answered_at <= ticket.received_at <= call.ended_at <= NOW
        assert call.talk_seconds == pytest.approx((call.ended_at - call.answered_at).total_seconds(), abs=0.1)
        if ticket.handover_to:   # put through to 110/119/120/122 on the line
            assert (call.outcome, call.transferred_to, call.ended_at) == ("transferred", ticket.handover_to,
                                                                       handovers[ticket_id])
        else:
            assert call.outcome == "answered"


def test_callers_who_gave_up_are_on_the_callback_list_until_they_got_through_or_were_called_back(
        session: Session) -> None:
    missed = list(session.scalars(select(Call).where(Call.outcome == "abandoned")))
    assert missed and all(c.answered_at is None and c.agent is None and c.ended_at < NOW for c in missed)
    callbacks = {c.call_id: c for c in session.scalars(select(Callback))}
    assert set(callbacks) == {c.id for c in missed}
    operator = session.scalar(select(StaffUser.id).where(StaffUser.username == "operator"))
    for callback in callbacks.values():
        if callback.status == "done":
            assert callback.created_at < callback.done_at < NOW and callback.done_by == operator
            assert callback.attempts or callback.note
        else:   # what has not happened yet by now
            assert callback.status == "pending" and NOW - callback.created_at < dt.timedelta(hours=5)
    assert Counter(c.status for c in callbacks.values())["done"] > 0.9 * len(callbacks)


def test_the_call_totals_are_what_a_rebuild_from_the_calls_gives(session: Session) -> None:
    def kept() -> set[tuple[object, ...]]:
        t = CallRollup.__table__
        rows = session.execute(select(*(c for c in t.columns if c.name != "id")))
        return {tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows}

    before = kept()
    assert before
    totals_sql.refill(session)   # what `hotline db rebuild-figures` does
    session.flush()
    assert kept() == before


def test_every_agent_of_the_demos_calls_is_a_demo_operator_by_name(session: Session) -> None:
    """The supervisor's 话务 table names each agent: every phone that answered a demo call is
    a demo operator account's extension."""
    from dispatch.staff import extension_of, names_by_extension

    names = names_by_extension(session)
    agents = set(session.scalars(select(Call.agent).where(Call.agent.is_not(None)).distinct()))
    assert len(agents) == 8
    assert {agent: names.get(extension_of(agent)) for agent in agents} == {
        "PJSIP/7001": "话务员 王芳", "PJSIP/7002": "话务员 李娜", "PJSIP/7003": "话务员 张伟",
        "PJSIP/7004": "话务员 孙丽", "PJSIP/7005": "话务员 周敏", "PJSIP/7006": "话务员 吴浩",
        "PJSIP/7007": "话务员 徐婷", "PJSIP/7008": "话务员 马骏"}


def test_each_phone_ticket_is_filed_by_the_operator_who_answered_its_call(session: Session) -> None:
    """质检 samples and 交接班 lists go by who filed a ticket: in the demo each of the eight
    operators files the calls they answered (and settles or transfers them), the web form and
    texts are the citizens' own."""
    from dispatch import quality
    from dispatch.staff import actor_for, extension_of

    staff = {u.id: u for u in session.scalars(select(StaffUser))}
    calls = {c.ticket_id: c for c in session.scalars(select(Call).where(Call.ticket_id.is_not(None)))}
    filers = dict(session.execute(select(TicketEvent.ticket_id, TicketEvent.actor_id)
                                  .where(TicketEvent.action == "receive")).all())
    tickets = history_phone_tickets(session)
    for ticket in tickets:
        filer = staff[filers[ticket.id]]
        assert filer.phone_extension == extension_of(calls[ticket.id].agent), ticket.number
    per_operator = Counter(staff[filers[t.id]].username for t in tickets)
    assert set(per_operator) == {"operator", "lina", "zhangwei", "sunli", "zhoumin", "wuhao", "xuting", "majun"}
    assert min(per_operator.values()) > len(tickets) / 8 / 2   # about an eighth each
    # What an agent did on the line, and the first transfer just after, is theirs too.
    on_the_line = session.execute(select(TicketEvent.ticket_id, TicketEvent.actor_id)
                                  .where(TicketEvent.action.in_(("answer", "invalidate", "handover")),
                                         TicketEvent.ticket_id.in_(calls))).all()
    assert on_the_line and all(actor == filers[ticket_id] for ticket_id, actor in on_the_line)
    web_or_text = session.scalars(select(TicketEvent.actor).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                                  .join(IntakeSource, IntakeSource.ticket_id == Ticket.id)
                                  .where(TicketEvent.action == "receive", Ticket.channel != "phone",
                                         IntakeSource.channel_ref.like("demo-history:%"))).all()
    assert web_or_text and set(web_or_text) <= {"citizen:web", "citizen:sms"}
    supervisor = actor_for(next(u for u in staff.values() if u.username == "supervisor"))
    sample = quality.sample(session, supervisor, NOVEMBER)
    assert len([o for o in sample.operators if o.tickets]) == 8
