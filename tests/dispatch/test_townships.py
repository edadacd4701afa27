"""A ticket's township, kept at intake (and filled by the migration for tickets already there),
and the hotspots' counts per category x township x China day, made in SQL: by hand."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dispatch import db, hotspots, lifecycle, townships
from dispatch.actors import Actor
from dispatch.clock import CHINA
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Ticket
from dispatch.routing import Gazetteer, Router
from dispatch.units import City, import_units, unit_by_code
from dispatch.vocabulary import Channel

DAY = dt.date(2026, 11, 20)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA).astimezone(dt.timezone.utc)


def take(session: Session, body: str, when: dt.datetime, *, category: str | None = "城乡建设",
         location: str | None = None, title: str | None = None, router: Router | None = None) -> Ticket:
    return intake(session, IntakeRequest(channel=Channel.WEB, body=body, title=title, location=location,
                                         category=category), IntakeRules(), now=when, router=router).ticket


def test_intake_keeps_the_township_named_in_the_location_then_title_then_text(session: Session, units: City) -> None:
    when = at(DAY, 9)
    # The location first, though the text names another place.
    assert take(session, "沁园街道那边的路灯坏了", when, location="济水街道宏达小区").township == "jishui"
    assert take(session, "路灯坏了，请修理", when, title="北海路灯", location="宏达小区").township == "beihai"
    assert take(session, "我住在沁园，小区门口路灯坏了", when).township == "qinyuan"
    assert take(session, "小区门口路灯坏了", when).township is None
    # A place beyond the start of the text is not looked for (as the hotspots never did).
    assert take(session, "路" * townships.PLACE_TEXT_CHARS + "济水街道", when).township is None
    # The router's gazetteer when intake has one: the city's own names for its places.
    router = Router(units)
    router.gazetteer = Gazetteer({"tiantan": ["天坛片区"]})
    assert take(session, "天坛片区的路灯坏了", when, router=router).township == "tiantan"


def test_the_migration_fills_the_township_of_tickets_already_there(tmp_path: Path, city: City) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    db.upgrade(url, "0027")
    engine = db.make_engine(url)
    with db.make_sessionmaker(engine).begin() as session:
        import_units(session, city)
    rows = [(1, "济水街道宏达小区", "路灯", "路灯坏了"), (2, None, "沁园路灯", "路灯坏了"),
            (3, None, "路灯", "北海街道的路灯坏了"), (4, None, "路灯", "路灯坏了")]
    with engine.begin() as connection:
        for tid, location, title, body in rows:
            connection.execute(text(
                "INSERT INTO tickets (id, number, query_code, channel, request_type, urgency, title, body, location, "
                "confidential, state, received_at, transfer_count, accepted_transfer_count, return_count, version) "
                "VALUES (:id, :number, '123456', 'web', 'complaint', 'normal', :title, :body, :location, "
                "0, 'received', '2026-11-01 02:00:00', 0, 0, 0, 1)"),
                {"id": tid, "number": f"20261101-{tid:04d}", "title": title, "body": body, "location": location})
    db.upgrade(url)
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT id, township FROM tickets ORDER BY id")).all())
    engine.dispose()
    assert found == {1: "jishui", 2: "qinyuan", 3: "beihai", 4: None}


def weekdays(day: dt.date) -> str:
    return hotspots.WORKDAY if day.weekday() < 5 else hotspots.REST_DAY


def test_cells_are_counted_per_category_township_and_china_day(session: Session, units: City,
                                                                operator: Actor) -> None:
    before = DAY - dt.timedelta(days=10)
    # The baseline (the 28 days before DAY): 3 tickets of 城乡建设 in 济水, 1 of 环境保护 there.
    for hour in (9, 10, 11):
        take(session, "济水街道路灯坏了", at(before, hour))
    take(session, "济水街道有油烟", at(before, 12), category="环境保护")
    # Counted by the kind of their China day: Friday before midnight a working day, Saturday
    # just after it a rest day.
    friday = DAY - dt.timedelta(days=7)
    take(session, "济水街道有油烟", at(friday, 23, 55), category="环境保护")
    take(session, "济水街道有油烟", at(friday + dt.timedelta(days=1), 0, 5), category="环境保护")
    # Before the baseline: not counted.
    take(session, "济水街道路灯坏了", at(DAY - dt.timedelta(days=29), 9))
    # DAY: 4 in 济水 (one just after China midnight), 1 in 沁园, and one naming no place whose
    # unit is the 沁园 township (its township is then its unit's).
    take(session, "济水街道路灯坏了", at(DAY, 0, 5))
    for hour in (9, 10, 11):
        take(session, "济水街道路灯坏了", at(DAY, hour))
    take(session, "沁园街道路灯坏了", at(DAY, 9))
    nowhere = take(session, "小区路灯坏了", at(DAY, 10))
    lifecycle.transfer(session, nowhere, unit_by_code(session, "qinyuan"), operator, now=at(DAY, 10, 30))
    # Not counted: invalid, not yet classified, and the day after (a minute past midnight).
    invalid = take(session, "济水街道路灯坏了", at(DAY, 12))
    lifecycle.invalidate(session, invalid, operator, "测试", now=at(DAY, 12, 1))
    take(session, "济水街道路灯坏了", at(DAY, 13), category=None)
    take(session, "济水街道路灯坏了", at(DAY + dt.timedelta(days=1), 0, 1))
    session.flush()

    baseline, counts = hotspots.cell_counts(session, DAY, DAY, 28, weekdays)
    assert dict(baseline) == {("城乡建设", "jishui", "workday"): 3, ("环境保护", "jishui", "workday"): 2,
                              ("环境保护", "jishui", "rest_day"): 1}
    assert dict(counts) == {("城乡建设", "jishui", DAY): 4, ("城乡建设", "qinyuan", DAY): 2}

    rows = hotspots.rising(session, DAY, DAY)
    # DAY, a Friday, is compared with the 20 working days of its 28 (2026-10-23..11-19: four whole
    # weeks, no holiday); the three were on a Tuesday.
    # 济水: expected = (3 + 0.5) / 20 = 0.175, P(X >= 4) = 1 - e^-0.175 (1 + 0.175 + 0.175^2/2
    # + 0.175^3/6) = 3.3987e-5, score 4.47 (README's example).
    # 沁园: 2 tickets, under the minimum count of 3. The whole city's 6: expected (3 + 0.5) / 20
    # again, P(X >= 6 | 0.175) = e^-0.175 x 0.175^6 / 6! x (1 + 0.175/7 + ...) = 3.4344e-8, score
    # 7.46, listed since the six are in two places.
    assert [(r["township"], r["count"], r["day_kind"], r["baseline_tickets"], r["baseline_days"], r["expected"],
             r["score"]) for r in rows] == [(None, 6, "workday", 3, 20, 0.175, 7.46),
                                            ("jishui", 4, "workday", 3, 20, 0.175, 4.47)]
    assert rows[0]["p_value"] == pytest.approx(3.4344276e-8, rel=1e-6)
    assert rows[1]["p_value"] == pytest.approx(3.3987471e-5, rel=1e-6)
    assert rows[0]["place"] == "全市" and rows[1]["place"] == "济水街道"
    # A period of two days counts each on its own day.
    _, two_days = hotspots.cell_counts(session, DAY, DAY + dt.timedelta(days=1), 28, weekdays)
    assert two_days[("城乡建设", "jishui", DAY + dt.timedelta(days=1))] == 1
    assert session.scalar(select(Ticket.township).where(Ticket.id == nowhere.id)) is None


# Names that overlap (the longest at the leftmost start wins), one inside another, one given by
# two units (the last one's, as the Gazetteer's automaton keeps), and regular-expression characters.
TRICKY_NAMES = {"qinyuan": ["沁园", "沁园街道"], "yuanjie": ["园街"], "jiedao": ["街道办"],
                "dot": ["济.水", "(北海)"], "twice": ["天坛"], "again": ["天坛"], "short": ["镇"]}
PIECES = ["沁园", "沁园街道", "园街", "街道办", "济.水", "济x水", "(北海)", "北海", "天坛", "镇", "路灯坏了",
          "，", "小区", "a", "*", "\\"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=4).map("".join)),
                          st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
                          st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join)),
                min_size=1, max_size=6))
def test_the_backfill_finds_the_township_intake_would_on_both_databases(session: Session,
                                                                         texts: list[tuple]) -> None:
    """On PostgreSQL the backfill is one UPDATE with a regular expression; on SQLite Python's
    Gazetteer: both give what township_of gives for the same words."""
    tickets = [take(session, body, at(DAY, 9), location=location, title=title or None)
               for location, title, body in texts]
    ids = [t.id for t in tickets]
    session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(township=None))
    townships.backfill(session.connection(), TRICKY_NAMES, batch=2)
    found = dict(session.execute(select(Ticket.id, Ticket.township).where(Ticket.id.in_(ids))).all())
    places = townships.gazetteer_places(Gazetteer(TRICKY_NAMES))
    assert found == {t.id: townships.township_of(places, location, title or None, body)
                     for t, (location, title, body) in zip(tickets, texts)}
