"""API intakes written together (dispatch/intake_many.py): each request answered as intake()
would answer it in turn, every ticket with what one intake gives it, in the statements of
about one intake whatever the batch's size."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import outbox, rate_counters, rollup
from dispatch.audit import verify
from dispatch.errors import InvalidInput, RateLimited
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.intake_many import Submission, intake_many
from dispatch.limits import Limits
from dispatch.models import IntakeSource, OutboxMessage, Ticket, TicketEvent, TicketRollup
from dispatch.units import City
from dispatch.vocabulary import Channel

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
NO_LIMIT = Limits.build(api_intake_per_minute=0)


def submission(body: str, phone: str | None = None, client: str = "203.0.113.7") -> Submission:
    return Submission(IntakeRequest(channel=Channel.WEB, body=body, phone=phone), None, client)


def rollup_rows(session: Session) -> list[tuple]:
    table = TicketRollup.__table__
    return sorted(tuple(row) for row in session.execute(select(*(c for c in table.c if c.name != "id"))))


def test_a_batch_files_its_tickets_in_order_with_events_sources_and_totals(session: Session, rules: IntakeRules,
                                                                          units: City) -> None:
    batch = [submission(f"第{n}件：济水大街路灯不亮。", f"1390391000{n}" if n % 2 else None) for n in range(5)]
    outcomes = intake_many(session, batch, rules, NO_LIMIT, now=NOW)
    assert [ok for ok, _ in outcomes] == [True] * 5
    tickets = [result.ticket for _, result in outcomes]
    assert [t.number for t in tickets] == [f"20261123-000{n}" for n in range(1, 6)]
    assert [t.body for t in tickets] == [s.request.body for s in batch]
    assert {t.township for t in tickets} == {"jishui"}   # 济水 named, as intake() would keep it
    assert all(result.created and not result.repeat_of_open_ticket for _, result in outcomes)
    session.flush()
    for ticket in tickets:
        actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all()
        assert actions == ["receive"]
    refs = session.scalars(select(IntakeSource.channel_ref)).all()
    assert len(refs) == len(set(refs)) == 5
    assert verify(session) == (5, [])
    kept = rollup_rows(session)
    rollup.rebuild(session)
    assert rollup_rows(session) == kept
    assert session.scalar(select(func.sum(TicketRollup.received))) == 5


def test_repeats_join_the_open_ticket_before_them_in_the_database_or_the_batch(session: Session,
                                                                               rules: IntakeRules) -> None:
    earlier = intake(session, IntakeRequest(channel=Channel.WEB, body="小区噪音扰民。", phone="13903910001"),
                     rules, now=NOW - dt.timedelta(hours=1)).ticket
    batch = [submission("小区噪音扰民！", "13903910001"), submission("路面坑洼。", "13903910002"),
             submission("路面 坑洼", "13903910002"), submission("路面坑洼。", "13903910003")]
    outcomes = intake_many(session, batch, rules, NO_LIMIT, now=NOW)
    results = [result for _, result in outcomes]
    assert results[0].ticket.id == earlier.id and results[0].repeat_of_open_ticket
    assert results[1].created and results[3].created and results[3].ticket.id != results[1].ticket.id
    assert results[2].ticket.id == results[1].ticket.id and results[2].repeat_of_open_ticket
    assert session.scalar(select(func.count()).select_from(Ticket)) == 3
    repeats = session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "repeat_contact")).all()
    assert sorted(repeats) == sorted([earlier.id, results[1].ticket.id])
    assert verify(session)[1] == []


def test_the_limit_refuses_what_comes_past_it_and_counts_only_what_passed(session: Session,
                                                                          rules: IntakeRules) -> None:
    limits = Limits.build(api_intake_per_minute=3)
    limit = limits.api_intake_per_address
    rate_counters.hit(session, limit, "203.0.113.7", NOW)  # one earlier request this minute
    batch = [submission("第一件：路灯不亮。"), submission("  "), submission("第二件：路灯不亮。"),
             submission("第三件：路灯不亮。"), submission(""), submission("别处的请求。", client="198.51.100.1")]
    outcomes = intake_many(session, batch, rules, limits, now=NOW)
    kinds = [type(value).__name__ if not ok else "ok" for ok, value in outcomes]
    # The blank one came while the limit still had room: 422, not counted; then two more fit.
    assert kinds == ["ok", "InvalidInput", "ok", "RateLimited", "RateLimited", "ok"]
    assert isinstance(outcomes[1][1], InvalidInput) and isinstance(outcomes[3][1], RateLimited)
    assert rate_counters.count(session, limit, "203.0.113.7", NOW) == 3
    assert rate_counters.count(session, limit, "198.51.100.1", NOW) == 1
    numbers = sorted(result.ticket.number for ok, result in outcomes if ok)
    assert numbers == ["20261123-0001", "20261123-0002", "20261123-0003"]  # no gap from refusals


def test_every_new_ticket_with_a_mobile_gets_its_text(sessions: sessionmaker[Session], rules: IntakeRules) -> None:
    outbox.install(sessions)
    with sessions.begin() as session:
        outcomes = intake_many(session, [submission("路灯不亮。", "13903910001"), submission("井盖丢失。"),
                                         submission("噪音扰民。", "13903910002")], rules, NO_LIMIT, now=NOW)
        numbers = [result.ticket.number for _, result in outcomes]
    with sessions() as session:
        texts = session.execute(select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.body)
                                .order_by(OutboxMessage.id)).all()
    assert [(kind, recipient) for kind, recipient, _ in texts] == [("received", "+8613903910001"),
                                                                   ("received", "+8613903910002")]
    assert numbers[0] in texts[0][2] and numbers[2] in texts[1][2]


def test_a_batch_costs_the_statements_of_one_whatever_its_size(sessions: sessionmaker[Session],
                                                              rules: IntakeRules) -> None:
    limits = Limits.build(api_intake_per_minute=1000)

    def statements(size: int, start: int) -> list[str]:
        batch = [submission(f"第{n}件：路灯不亮。", f"139{n:08d}") for n in range(start, start + size)]
        seen = []
        with sessions.begin() as session:
            engine = session.get_bind()
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                outcomes = intake_many(session, batch, rules, limits, now=NOW)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
        assert all(ok for ok, _ in outcomes)
        return [' '.join(sql.split()[:3]) for sql in seen]

    statements(2, 0)  # first-use reads (the calendar)
    small, large = statements(3, 100), statements(12, 200)
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert small == large and len(large) <= 11, large  # the flush inserts all tickets in one statement, all events in another
    else:
        # SQLite's driver takes the ORM's rows one statement each (in-process, no round trip).
        orm_rows = {"INSERT INTO tickets", "INSERT INTO ticket_events"}
        assert [s for s in small if s not in orm_rows] == [s for s in large if s not in orm_rows]
        # rate counter, open tickets of the phones, township names, numbers, four running totals (per
        # category and unit, channel, deadline day, catalogue entry), sources
        assert len([s for s in large if s not in orm_rows]) <= 9, large


def test_a_batch_of_a_size_seen_before_reuses_its_converted_statements(session: Session, rules: IntakeRules) -> None:
    import pytest

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's statement cache: PostgreSQL only")
    from psycopg import _queries

    from dispatch.db import cache_long_statements
    if not cache_long_statements():
        pytest.skip("this psycopg has no statement cache limits to raise")

    def batch(start: int) -> list[Submission]:
        return [submission(f"第{n}件：济水大街路灯不亮。", f"139039{n:05d}") for n in range(start, start + 20)]

    assert all(ok for ok, _ in intake_many(session, batch(0), rules, NO_LIMIT, now=NOW))
    statements: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    before = _queries._query2pg.cache_info()
    assert all(ok for ok, _ in intake_many(session, batch(100), rules, NO_LIMIT, now=NOW))
    after = _queries._query2pg.cache_info()
    # Every statement of the second batch, its 20-row INSERTs of 10-20 KB included, was
    # converted from the cache (a statement past the cache's limits neither hits nor misses).
    assert max(len(sql) for sql in statements) > 8192
    assert after.misses == before.misses and after.hits - before.hits >= len(statements)
