"""The demo's history: weeks of tickets whose every row is what the lifecycle would have
written (events, hash chain, summaries, running totals), with believable shares."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from classifier.selective import DEFAULT_MIN_CONFIDENCE
from dispatch import audit, db, reports, rollup, routing_feedback, totals_sql
from dispatch.clock import local_date, local_day_start, utcnow
from dispatch.demo import seed_with_history
from dispatch.demo_history import HistorySize, HistorySummary
from dispatch.intake import IntakeRules
from dispatch.models import (ExtensionRequest, RoutingOutcome, Ticket, TicketEvent, TicketRollup, Transfer,
                             TransferRollup, Unit)
from dispatch.states import TRANSITIONS, Action, State
from dispatch.units import City
from tests.conftest import _empty_tables

SIZE = HistorySize(days=20, per_day=60, seed=7)
# Three in the afternoon China time, yesterday: today has tickets whatever the hour the tests
# run (just after midnight it had none), and nothing is in the future.
NOW = local_day_start(local_date(utcnow()) - dt.timedelta(days=1)) + dt.timedelta(hours=7)


@pytest.fixture(scope="module")
def loaded(engine: Engine, city: City) -> Iterator[tuple[HistorySummary, sessionmaker[Session]]]:
    """Made once for the module (a few seconds); the tests only read it."""
    _empty_tables(engine)
    sessions = db.make_sessionmaker(engine)
    with sessions.begin() as session:
        summary = seed_with_history(session, city, IntakeRules(), SIZE, now=NOW)
    assert summary is not None
    yield summary, sessions
    _empty_tables(engine)


@pytest.fixture
def history(loaded: tuple[HistorySummary, sessionmaker[Session]]) -> HistorySummary:
    return loaded[0]


@pytest.fixture
def session(loaded: tuple[HistorySummary, sessionmaker[Session]]) -> Iterator[Session]:
    with loaded[1]() as session:
        yield session
        session.rollback()


@pytest.fixture
def sessions(loaded: tuple[HistorySummary, sessionmaker[Session]]) -> sessionmaker[Session]:
    return loaded[1]


def test_history_fills_the_last_weeks_with_hundreds_of_categorised_tickets(
        history: HistorySummary, session: Session) -> None:
    assert history.days == SIZE.days
    assert history.tickets > 500
    until = local_date(NOW)
    figures = reports.summary(session, reports.Period(until - dt.timedelta(days=29), until), now=NOW)
    tickets = figures["tickets"]
    # A merged duplicate counts once, in its main ticket; the seven sample tickets come on top.
    assert tickets["received"] + tickets["merged"] >= history.tickets
    categories = {name: f["received"] for name, f in figures["categories"].items() if name}
    assert set(categories) == {"城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"}
    assert sum(categories.values()) > 0.95 * tickets["received"]
    for figure in ("answered", "transferred", "returned_transfers", "resolved", "rated", "invalid", "merged",
                   "overdue"):  # hand-overs are too rare (0.4%) to be sure of in a thousand
        assert tickets[figure] > 0, (figure, tickets)
    assert 0.85 < tickets["on_time_rate"] < 1
    assert 0.8 < tickets["satisfaction_rate"] <= 1
    assert all(n > 0 for n in tickets["rating_channels"].values()), tickets["rating_channels"]
    assert len(figures["units"]) > 15  # departments and townships


def test_every_ticket_verifies_and_its_summary_follows_from_its_events(history: HistorySummary,
                                                                       session: Session) -> None:
    checked, breaks = audit.verify(session)
    assert breaks == []
    assert checked == session.scalar(select(func.count(TicketEvent.id))) >= history.events
    assert reports.recount_from_events(session) == []


def test_every_state_change_is_one_the_transition_table_allows(history: HistorySummary, session: Session) -> None:
    state: dict[int, str | None] = {}
    actions = {a.value for a in Action}
    for ticket_id, action, from_state, to_state in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.from_state, TicketEvent.to_state)
            .order_by(TicketEvent.ticket_id, TicketEvent.id)):
        assert from_state == state.get(ticket_id), (ticket_id, action)
        if action == "receive":
            assert to_state == State.RECEIVED.value
        elif action in actions:
            assert TRANSITIONS[State(from_state), Action(action)].value == to_state, (ticket_id, action)
        else:  # a record: escalation, extension, follow-up call, merge_in...
            assert from_state == to_state, (ticket_id, action)
        state[ticket_id] = to_state


def test_events_follow_each_other_in_time_and_keep_the_transfers_and_extensions(
        history: HistorySummary, session: Session) -> None:
    last: dict[int, dt.datetime] = {}
    for ticket_id, at in session.execute(select(TicketEvent.ticket_id, TicketEvent.at)
                                         .order_by(TicketEvent.ticket_id, TicketEvent.id)):
        assert at >= last.get(ticket_id, at) and at <= NOW
        last[ticket_id] = at
    transfers = session.scalar(select(func.count(Transfer.id)))
    assert transfers == session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.action == "transfer"))
    requests = {r.id: r for r in session.scalars(select(ExtensionRequest))}
    assert requests
    for data in session.scalars(select(TicketEvent.data).where(
            TicketEvent.action.in_(["approve_extension", "refuse_extension"]))):
        assert data["request_id"] in requests


def test_running_totals_match_a_rebuild_from_the_tickets(history: HistorySummary, session: Session) -> None:
    def nonzero(model: type) -> set[tuple[object, ...]]:
        table = model.__table__  # type: ignore[attr-defined]
        columns = [c for c in table.columns if c.name != "id"]
        return {tuple(row) for row in session.execute(select(*columns))
                if any(v for c, v in zip(columns, row) if c.name not in ("day", "category", "unit_id"))}

    kept = nonzero(TicketRollup), nonzero(TransferRollup)
    rollup.rebuild(session)
    session.flush()
    assert (nonzero(TicketRollup), nonzero(TransferRollup)) == kept


def test_routing_outcomes_follow_the_transfers_and_give_the_supervisors_figures(history: HistorySummary,
                                                                              session: Session) -> None:
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    transfers: dict[int, list[Transfer]] = defaultdict(list)
    for t in session.scalars(select(Transfer).order_by(Transfer.transferred_at, Transfer.id)):
        transfers[t.ticket_id].append(t)
    tickets = {t.id: t for t in session.scalars(select(Ticket))}
    outcomes = list(session.scalars(select(RoutingOutcome)))
    assert {o.ticket_id for o in outcomes} == {i for i in transfers if (tickets[i].routing or {}).get("category")}
    for o in outcomes:
        ticket, sent = tickets[o.ticket_id], transfers[o.ticket_id]
        assert (o.first_unit_code, o.final_unit_code) == (codes[sent[0].unit_id], codes[sent[-1].unit_id])
        assert o.returned == any(t.outcome == "returned" for t in sent)
        assert o.automatic == (ticket.routing["probability"] >= DEFAULT_MIN_CONFIDENCE) == (ticket.routing["unit_code"] is not None)
        assert o.final_category == ticket.category
    # About one in six proposals unsure, a few corrected: a dashboard worth reading.
    assert 0.75 < sum(o.automatic for o in outcomes) / len(outcomes) < 0.92
    assert 0 < sum(o.corrected for o in outcomes) < 0.15 * len(outcomes)
    period = reports.Period(min(local_date(o.received_at) for o in outcomes), local_date(NOW))
    kept = routing_feedback.figures(session, period)
    assert sum(r.proposals for r in kept) == len(outcomes)
    totals_sql.refill(session)
    assert routing_feedback.figures(session, period) == kept


def test_shares_of_channels_types_and_places_look_like_a_city(history: HistorySummary, session: Session) -> None:
    tickets = session.execute(select(Ticket.channel, Ticket.request_type, Ticket.location, Ticket.body)).all()
    channels = Counter(t.channel for t in tickets)
    assert channels["phone"] > channels["web"] > channels["sms"] > 0
    kinds = Counter(t.request_type for t in tickets)
    assert kinds["complaint"] == max(kinds.values()) and len(kinds) == 6
    places = Counter(t.location for t in tickets)
    assert len(places) > 12 and places["沁园街道"] > places["大峪镇"]
    assert len({t.body for t in tickets}) > 0.9 * len(tickets)  # real messages, hardly repeated


def test_slow_units_take_longer_than_fast_ones(history: HistorySummary, session: Session) -> None:
    took: dict[str, list[float]] = defaultdict(list)
    # Time to respond (accept or return), which a unit's pace sets directly; the time to resolve
    # also follows the deadlines and varied too much with the day the history ends on.
    for code, transferred, responded in session.execute(
            select(Unit.code, Transfer.transferred_at, Transfer.responded_at)
            .join(Unit, Unit.id == Transfer.unit_id).where(Transfer.responded_at.is_not(None))):
        took[code].append((responded - transferred).total_seconds())

    def mean(code: str) -> float:
        return sum(took[code]) / len(took[code])

    assert mean("housing") > 1.2 * mean("human-resources")  # 1.4-2.1 over seeds 1-6


def test_a_second_start_adds_nothing(history: HistorySummary, sessions: sessionmaker[Session], city: City) -> None:
    def counts(session: Session) -> tuple[int | None, ...]:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Ticket, TicketEvent, Transfer))

    with sessions() as session:
        before = counts(session)
    with sessions.begin() as session:
        assert seed_with_history(session, city, IntakeRules(), SIZE) is None
    with sessions() as session:
        assert counts(session) == before


def test_history_continues_the_days_ticket_numbers(history: HistorySummary, session: Session) -> None:
    numbers = session.scalars(select(Ticket.number)).all()
    assert len(numbers) == len(set(numbers))
    today = local_date(NOW).strftime("%Y%m%d")
    assert any(n.startswith(today) for n in numbers)


def test_a_reopened_ticket_gets_a_new_handling_period(history: HistorySummary, session: Session) -> None:
    """As lifecycle.rate gives one: a ticket rated unsatisfied after its deadline used to come
    back already overdue and was chased at once."""
    from dispatch.deadlines import DeadlinePolicy
    from dispatch.vocabulary import RequestType, Urgency

    policy = DeadlinePolicy()
    reopens = list(session.execute(select(TicketEvent, Ticket).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                                   .where(TicketEvent.action == "reopen")))
    assert len(reopens) >= 5
    moved = 0
    for event, ticket in reopens:
        period = policy.deadline(event.at, RequestType(ticket.request_type), Urgency(ticket.urgency))
        assert ticket.deadline >= period, ticket.number
        change = (event.data or {}).get("deadline")
        if change is not None:
            moved += 1
            assert dt.datetime.fromisoformat(change["new_deadline"]) == period
            assert dt.datetime.fromisoformat(change["old_deadline"]) < period
    assert moved >= 1


def test_a_tickets_type_agrees_with_what_its_title_says(session: Session) -> None:
    """A title that names its type (感谢信, 举报…, 建议…) keeps it; one that names none is never
    shown as 表扬, 举报 or 建议 (a complaint labelled praise reads as a broken demo)."""
    from dispatch.vocabulary import DEMO_REQUEST_TYPE_CUES, RequestType

    rows = session.execute(select(Ticket.title, Ticket.request_type)).all()
    stated = 0
    for title, kind in rows:
        said = next((k for k, words in DEMO_REQUEST_TYPE_CUES if any(w in title for w in words)), None)
        if said is not None:
            stated += 1
            assert kind == said.value, title
        else:
            assert kind not in (RequestType.PRAISE.value, RequestType.REPORT.value, RequestType.SUGGESTION.value), title
    assert stated >= 20 and len(rows) - stated >= 500   # both kinds of title are in the history
